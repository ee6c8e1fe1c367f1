"""List filters of the violation changelist: each one is a condition on the violation's own columns.

Violations keep their school and term (copied from the course), so every filter but the teacher
filter tests one indexed column of the violation table, and facet counts are one aggregate with a
``FILTER`` per choice instead of Django's default ``pk IN (subquery)`` per choice.
"""

from datetime import timedelta

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from courses.admin import SchoolFilter, TermFilter
from courses.models import Assignment, Course, Enrollment, Person
from sync import rules
from sync.models import RuleSetting

OPEN = "open"
RESOLVED = "resolved"


def canvas_id(value: str) -> int:
    """A Canvas id from the query string; anything else is a bad filter (the admin shows ?e=1)."""
    if not value.isdigit():
        raise IncorrectLookupParameters(f"Not a Canvas id: {value!r}")
    return int(value)


class ConditionFilter(admin.SimpleListFilter):
    """A filter whose every choice is one ``Q`` on the violation; ``None`` means no filtering."""

    facets = True

    def condition(self, value: str) -> Q:
        raise NotImplementedError

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() is None:
            return queryset
        condition = self.condition(self.value())
        return queryset.filter(condition) if condition else queryset

    def get_facet_counts(self, pk_attname: str, filtered_qs: QuerySet) -> dict:
        if not self.facets:
            return {}
        counts = {}
        for index, (value, _) in enumerate(self.lookup_choices):
            condition = self.condition(str(value))
            counts[f"{index}__c"] = Count(pk_attname, filter=condition or None)
        return counts

    def choices(self, changelist):
        for choice in super().choices(changelist):
            # Django marks a choice without a count "(-)"; a filter without facets shows none.
            if not self.facets and choice["display"].endswith(" (-)"):
                choice["display"] = choice["display"][: -len(" (-)")]
            yield choice


class StatusFilter(ConditionFilter):
    """Open or resolved; open by default, since the history is twenty times the open rows."""

    title = "status"
    parameter_name = "status"
    facets = False  # counting the whole history is the one slow facet

    def lookups(self, request, model_admin):
        return [(OPEN, "Open"), (RESOLVED, "Resolved"), ("all", "All")]

    def value(self) -> str:
        return super().value() or OPEN

    def condition(self, value: str) -> Q:
        conditions = {
            OPEN: Q(resolved_at__isnull=True),
            RESOLVED: Q(resolved_at__isnull=False),
            "all": Q(),
        }
        if value not in conditions:
            raise IncorrectLookupParameters(f"Unknown status: {value!r}")
        return conditions[value]

    def choices(self, changelist):
        # No "All" entry meaning "no parameter": no parameter means open.
        choices = list(super().choices(changelist))[1:]
        yield from choices


class AgeFilter(ConditionFilter):
    """Days open: until now for an open violation, until it was resolved for a resolved one.

    The buckets match the whole days shown in the age column (0-6, 7-30, 31 and more).
    """

    title = "age (days open)"
    parameter_name = "age"
    BUCKETS = {
        "lt7": ("Under 7 days", None, timedelta(days=7)),
        "7to30": ("7 to 30 days", timedelta(days=7), timedelta(days=31)),
        "gt30": ("Over 30 days", timedelta(days=31), None),
    }

    def lookups(self, request, model_admin):
        # Read here so that the open-only list (the default) tests first_seen alone, which its
        # partial index answers, instead of an OR with the resolved rows' arithmetic.
        self.status = request.GET.get(StatusFilter.parameter_name, OPEN)
        return [(key, label) for key, (label, _, _) in self.BUCKETS.items()]

    def condition(self, value: str) -> Q:
        if value not in self.BUCKETS:
            raise IncorrectLookupParameters(f"Unknown age: {value!r}")
        _, at_least, under = self.BUCKETS[value]
        now = timezone.now()
        # A NULL resolved_at fails every comparison: the resolved part never matches open rows.
        still_open, resolved = Q(), Q()
        if at_least is not None:
            still_open &= Q(first_seen__lte=now - at_least)
            resolved &= Q(resolved_at__gte=F("first_seen") + at_least)
        if under is not None:
            still_open &= Q(first_seen__gt=now - under)
            resolved &= Q(resolved_at__lt=F("first_seen") + under)
        if self.status == OPEN:
            return still_open  # the status filter keeps the open rows
        if self.status == RESOLVED:
            return resolved
        return (Q(resolved_at__isnull=True) & still_open) | resolved


class SeverityFilter(ConditionFilter):
    title = "severity"
    parameter_name = "severity"

    def lookups(self, request, model_admin):
        return RuleSetting.Severity.choices

    def condition(self, value: str) -> Q:
        return Q(severity=value)


class RuleFilter(ConditionFilter):
    title = "rule"
    parameter_name = "rule"

    def lookups(self, request, model_admin):
        return [(code, spec.title) for code, spec in rules.RULES.items()]

    def condition(self, value: str) -> Q:
        return Q(rule=value)


class ViolationSchoolFilter(ConditionFilter, SchoolFilter):
    """The course admin's school choices, on the violation's own copy of the school."""

    def condition(self, value: str) -> Q:
        return Q(school_id=canvas_id(value))


class ViolationTermFilter(ConditionFilter, TermFilter):
    def condition(self, value: str) -> Q:
        return Q(term_id=canvas_id(value))


def teaching() -> QuerySet[Enrollment]:
    return Enrollment.objects.filter(type=Enrollment.Type.TEACHER, state="active", deleted=False)


class TeacherFilter(ConditionFilter):
    """Violations of the courses a teacher teaches: ``?teacher=<person Canvas id>``.

    A district has about 1,500 teachers, far too many for a list, so the choices are the teachers
    of the chosen school (a few dozen); without a school the filter says how to get there. Any
    teacher's Canvas id is accepted (the people admin links here).
    """

    title = "teacher"
    parameter_name = "teacher"
    template = "admin/sync/violation/teacher_filter.html"
    facets = False  # a correlated EXISTS per teacher per row is not cheap

    def lookups(self, request, model_admin):
        chosen = Q()
        school = request.GET.get(ViolationSchoolFilter.parameter_name, "")
        if school.isdigit():
            in_school = teaching().filter(course__account=int(school)).values("person_id")
            chosen |= Q(canvas_id__in=in_school)
        teacher = self.used_parameters.get(self.parameter_name, "")
        if teacher.isdigit():
            chosen |= Q(canvas_id=int(teacher))
        if not chosen:
            return []
        people = Person.objects.filter(chosen).order_by("sortable_name")
        found = list(people.values_list("canvas_id", "name"))
        if teacher.isdigit() and int(teacher) not in {cid for cid, _ in found}:
            found.append((int(teacher), f"Person {teacher}"))
        return found

    def has_output(self) -> bool:
        return True  # with no choices, the template explains how to pick a teacher

    def condition(self, value: str) -> Q:
        taught = teaching().filter(course=OuterRef("course_id"), person=canvas_id(value))
        return Q(Exists(taught))


class ChosenRowFilter(ConditionFilter):
    """Shown only when a link chose one row (a course, an assignment): its name and a way out.

    The parameter is the one Django itself would accept (``course__canvas_id__exact``), so the
    links the course and assignment pages make read like any admin filter link.
    """

    model: type = Course
    field = "course"

    def lookups(self, request, model_admin):
        value = self.used_parameters.get(self.parameter_name)
        if not value:
            return []
        chosen = canvas_id(value)
        # A row gone from the database still filters (to nothing), under its id.
        name = self.model.objects.filter(canvas_id=chosen).values_list("name", flat=True)
        return [(chosen, name.first() or f"{self.title} {chosen}")]

    def condition(self, value: str) -> Q:
        return Q(**{f"{self.field}_id": canvas_id(value)})


class CourseChosenFilter(ChosenRowFilter):
    title = "course"
    parameter_name = "course__canvas_id__exact"


class AssignmentChosenFilter(ChosenRowFilter):
    title = "assignment"
    parameter_name = "assignment__canvas_id__exact"
    model = Assignment
    field = "assignment"
