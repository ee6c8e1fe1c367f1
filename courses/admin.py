"""Read-only admin over the imported district: schools, terms, courses, people, assignments, grades.

Everything here comes from Canvas, so the admin browses it and never edits it. The big tables
(submissions ~1,000,000 rows, assignments ~40,000) skip the unfiltered total count, filter only on
small tables (course state, school, term) or on the row's own columns, and count related rows
with correlated subqueries that each hit a foreign-key index.
"""

from django.conf import settings
from django.contrib import admin
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from courses.models import (
    Account,
    Assignment,
    AssignmentGroup,
    AssignmentOverride,
    Course,
    Enrollment,
    Person,
    Section,
    Submission,
    Term,
)

INLINE_LIMIT = 50


def has_value(field: str) -> Q:
    """A text column that is set: neither NULL nor empty."""
    return Q(**{f"{field}__isnull": False}) & ~Q(**{field: ""})


def count_of(related: QuerySet, fk: str) -> Coalesce:
    """How many ``related`` rows point at the outer row: one indexed lookup per listed row."""
    counted = (
        related.filter(**{fk: OuterRef("canvas_id")})
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def changelist_link(model: type, label: str, **filters: object) -> str:
    """A link to ``model``'s changelist narrowed to ``filters`` (a local field or a list filter)."""
    url = reverse(f"admin:courses_{model._meta.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(filters), label)


def external_link(url: str, label: str) -> str:
    return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, label)


def canvas_course_url(course_canvas_id: int) -> str:
    return f"{settings.CANVAS_BASE_URL.rstrip('/')}/courses/{course_canvas_id}"


# --- filters -------------------------------------------------------------------------------------


class CourseFilter(admin.SimpleListFilter):
    """Base of the course state, school and term filters; ``course_path`` leads to the course."""

    course_path = "course"
    field = ""

    def lookup(self, field: str) -> str:
        return f"{self.course_path}__{field}" if self.course_path else field

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() is None:
            return queryset
        return queryset.filter(**{self.lookup(self.field): self.value()})


class CourseStateFilter(CourseFilter):
    title = "course state"
    parameter_name = "course_state"
    field = "workflow_state"

    def lookups(self, request, model_admin):
        return Course.State.choices


class SchoolFilter(CourseFilter):
    title = "school"
    parameter_name = "school"
    field = "account"

    def lookups(self, request, model_admin):
        return Account.objects.filter(deleted=False).values_list("canvas_id", "name")


class TermFilter(CourseFilter):
    title = "term"
    parameter_name = "term"
    field = "term"

    def lookups(self, request, model_admin):
        return Term.objects.filter(deleted=False).values_list("canvas_id", "name")


def course_filters(course_path: str) -> list[type[admin.SimpleListFilter]]:
    """Course state, school and term filters for a model reaching its course via ``course_path``."""
    return [
        type(base.__name__, (base,), {"course_path": course_path})
        for base in (CourseStateFilter, SchoolFilter, TermFilter)
    ]


class YesNoFilter(admin.SimpleListFilter):
    """A yes/no filter over one condition."""

    def condition(self) -> Q:
        raise NotImplementedError

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(self.condition())
        if self.value() == "no":
            return queryset.exclude(self.condition())
        return queryset


class SisIdFilter(YesNoFilter):
    title = "has a SIS id"
    parameter_name = "in_sis"
    sis_field = ""

    def condition(self) -> Q:
        return has_value(self.sis_field)


def sis_id_filter(sis_field: str) -> type[admin.SimpleListFilter]:
    return type("SisIdFilter", (SisIdFilter,), {"sis_field": sis_field})


class CourseInSisFilter(SisIdFilter):
    """As the rule book defines it: the course's SIS id, or one of its sections'."""

    def condition(self) -> Q:
        sections = Section.objects.filter(course=OuterRef("canvas_id")).filter(
            has_value("sis_section_id")
        )
        return has_value("sis_course_id") | Q(Exists(sections))


class TeacherFilter(YesNoFilter):
    title = "teaches"
    parameter_name = "teacher"

    def condition(self) -> Q:
        teaching = Enrollment.objects.filter(
            person=OuterRef("canvas_id"), type=Enrollment.Type.TEACHER, state="active"
        )
        return Q(Exists(teaching))


class ActiveEnrollmentFilter(YesNoFilter):
    title = "active"
    parameter_name = "active"

    def condition(self) -> Q:
        return Q(state="active")


class GradingTypeFilter(admin.SimpleListFilter):
    # Canvas's fixed list; listing it avoids a DISTINCT over every assignment.
    title = "grading type"
    parameter_name = "grading_type"

    def lookups(self, request, model_admin):
        kinds = ["points", "percent", "letter_grade", "gpa_scale", "pass_fail", "not_graded"]
        return [(kind, kind.replace("_", " ")) for kind in kinds]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(grading_type=self.value()) if self.value() else queryset


class OverrideFilter(admin.SimpleListFilter):
    title = "overrides"
    parameter_name = "overrides"

    def lookups(self, request, model_admin):
        return [
            ("none", "None"),
            ("sections", "For sections"),
            ("students", "For students or groups"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        live = AssignmentOverride.objects.filter(assignment=OuterRef("canvas_id"), deleted=False)
        if self.value() == "none":
            return queryset.exclude(Exists(live))
        if self.value() == "sections":
            return queryset.filter(Exists(live.filter(target=AssignmentOverride.Target.SECTION)))
        if self.value() == "students":
            individual = [AssignmentOverride.Target.STUDENTS, AssignmentOverride.Target.GROUP]
            return queryset.filter(Exists(live.filter(target__in=individual)))
        return queryset


class GradedFilter(YesNoFilter):
    title = "graded"
    parameter_name = "graded"

    def condition(self) -> Q:
        return Q(score__isnull=False) | Q(excused=True)


class PostedFilter(YesNoFilter):
    title = "posted to students"
    parameter_name = "posted"

    def condition(self) -> Q:
        return Q(posted_at__isnull=False)


# --- shared bases --------------------------------------------------------------------------------


class ImportedAdmin(admin.ModelAdmin):
    """Imported rows come from Canvas: viewable, never added, changed or deleted here."""

    show_full_result_count = False
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        # Every column is read-only, so no form (and no form field) is ever built for it.
        # The bookkeeping columns every imported row shares go after the row's own.
        shared = ["canvas_id", "deleted", "imported_at"]
        own = [f.name for f in self.opts.concrete_fields if not f.primary_key]
        return [*(name for name in own if name not in shared), *shared, *self.readonly_fields]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        # A number also finds the row with that Canvas id, through its unique index.
        searched, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term.isdigit():
            searched |= queryset.filter(canvas_id=int(term))
        return searched, may_have_duplicates


class BigTableAdmin(ImportedAdmin):
    # Facet counts would count a huge table once per filter choice.
    show_facets = admin.ShowFacets.NEVER


class PersonSearchAdmin(BigTableAdmin):
    """Searches rows by their person, with the people admin's own search."""

    person_field = "person"

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        # Find the people first (a small table), then their rows through the person index;
        # joining every row to its person to test the name makes PostgreSQL walk them all.
        if not search_term.strip():
            return queryset, False
        people, _ = self.admin_site.get_model_admin(Person).get_search_results(
            request, Person.objects.all(), search_term
        )
        return queryset.filter(**{f"{self.person_field}__in": people.values("canvas_id")}), False


class BoundedInlineFormSet(BaseInlineFormSet):
    """At most INLINE_LIMIT rows, so a detail page stays one small query however big the parent."""

    def get_queryset(self) -> QuerySet:
        if not hasattr(self, "_bounded"):
            self._bounded = super().get_queryset()[:INLINE_LIMIT]
        return self._bounded


class ReadOnlyInline(admin.TabularInline):
    formset = BoundedInlineFormSet
    extra = 0
    can_delete = False
    show_change_link = True
    select_related: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related(*self.select_related)

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        return self.fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class SectionInline(ReadOnlyInline):
    model = Section
    fields = ("name", "sis_section_id", "canvas_id", "deleted")
    verbose_name_plural = f"sections (first {INLINE_LIMIT})"


class AssignmentGroupInline(ReadOnlyInline):
    model = AssignmentGroup
    fields = ("name", "position", "group_weight", "canvas_id", "deleted")
    verbose_name_plural = f"assignment groups (first {INLINE_LIMIT})"


class EnrollmentInline(ReadOnlyInline):
    model = Enrollment
    fk_name = "section"
    fields = ("person", "type", "state", "canvas_id")
    select_related = ("person",)
    verbose_name_plural = f"enrollments (first {INLINE_LIMIT})"


class PersonEnrollmentInline(ReadOnlyInline):
    model = Enrollment
    fk_name = "person"
    fields = ("course", "section", "type", "state", "canvas_id")
    select_related = ("course", "section")
    verbose_name_plural = f"enrollments (first {INLINE_LIMIT})"


class AssignmentOverrideInline(ReadOnlyInline):
    model = AssignmentOverride
    fields = ("title", "target", "section", "due_at", "due_at_overridden", "deleted", "canvas_id")
    select_related = ("section",)
    verbose_name_plural = f"overrides (first {INLINE_LIMIT})"


# --- admins --------------------------------------------------------------------------------------


@admin.register(Account)
class AccountAdmin(ImportedAdmin):
    list_display = ("name", "sis_account_id", "parent", "course_count", "canvas_id", "deleted")
    list_select_related = ("parent",)
    list_filter = (sis_id_filter("sis_account_id"), "deleted")
    search_fields = ("name", "sis_account_id")
    readonly_fields = ("courses_link",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        courses = Course.objects.filter(deleted=False)
        return super().get_queryset(request).annotate(course_count=count_of(courses, "account"))

    @admin.display(description="courses", ordering="course_count")
    def course_count(self, obj: Account) -> int:
        return obj.course_count

    @admin.display(description="browse")
    def courses_link(self, obj: Account) -> str:
        return changelist_link(Course, f"{obj.course_count} courses", school=obj.canvas_id)


@admin.register(Term)
class TermAdmin(ImportedAdmin):
    list_display = ("name", "start_at", "end_at", "sis_term_id", "course_count", "canvas_id")
    list_filter = (sis_id_filter("sis_term_id"), "deleted")
    search_fields = ("name", "sis_term_id")
    readonly_fields = ("courses_link",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        courses = Course.objects.filter(deleted=False)
        return super().get_queryset(request).annotate(course_count=count_of(courses, "term"))

    @admin.display(description="courses", ordering="course_count")
    def course_count(self, obj: Term) -> int:
        return obj.course_count

    @admin.display(description="browse")
    def courses_link(self, obj: Term) -> str:
        return changelist_link(Course, f"{obj.course_count} courses", term=obj.canvas_id)


@admin.register(Course)
class CourseAdmin(ImportedAdmin):
    list_display = (
        "name",
        "course_code",
        "school",
        "term",
        "workflow_state",
        "sis_course_id",
        "section_count",
        "synced_assignment_count",
        "canvas_link",
    )
    list_select_related = ("account", "term")
    list_filter = (*course_filters(""), CourseInSisFilter, "deleted")
    search_fields = ("name", "course_code", "sis_course_id")
    search_help_text = "Name, course code, SIS id or Canvas id."
    readonly_fields = ("canvas_link", "browse")
    inlines = (SectionInline, AssignmentGroupInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        sections = Section.objects.filter(deleted=False)
        # Matches the (course, post_to_sis, deleted) index on assignments.
        synced = Assignment.objects.filter(post_to_sis=True, deleted=False)
        return (
            super()
            .get_queryset(request)
            .annotate(
                section_count=count_of(sections, "course"),
                synced_assignment_count=count_of(synced, "course"),
            )
        )

    @admin.display(description="school", ordering="account__name")
    def school(self, obj: Course) -> Account:
        return obj.account

    @admin.display(description="sections", ordering="section_count")
    def section_count(self, obj: Course) -> int:
        return obj.section_count

    @admin.display(description="synced assignments", ordering="synced_assignment_count")
    def synced_assignment_count(self, obj: Course) -> int:
        return obj.synced_assignment_count

    @admin.display(description="Canvas")
    def canvas_link(self, obj: Course) -> str:
        return external_link(canvas_course_url(obj.canvas_id), "Open in Canvas")

    @admin.display(description="browse")
    def browse(self, obj: Course) -> str:
        # One indexed count per relation, for this one course.
        links = [
            (Section, "sections", obj.sections.filter(deleted=False).count()),
            (Assignment, "assignments", obj.assignments.filter(deleted=False).count()),
            (Enrollment, "enrollments", obj.enrollments.filter(deleted=False).count()),
            (Submission, "grades", obj.submissions.filter(deleted=False).count()),
        ]
        return format_html_join(
            " · ",
            "{}",
            (
                (changelist_link(model, f"{count:,} {label}", course=obj.canvas_id, deleted=0),)
                for model, label, count in links
            ),
        )


@admin.register(Section)
class SectionAdmin(ImportedAdmin):
    list_display = ("name", "course", "sis_section_id", "student_count", "canvas_id", "deleted")
    list_select_related = ("course",)
    list_filter = (*course_filters("course"), sis_id_filter("sis_section_id"), "deleted")
    search_fields = ("name", "sis_section_id", "course__name", "course__sis_course_id")
    search_help_text = "Section or course name, SIS id, or Canvas id."
    raw_id_fields = ("course",)
    readonly_fields = ("browse",)
    inlines = (EnrollmentInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Matches the (section, type, state) index on enrollments.
        students = Enrollment.objects.filter(type=Enrollment.Type.STUDENT, state="active")
        return super().get_queryset(request).annotate(student_count=count_of(students, "section"))

    @admin.display(description="active students", ordering="student_count")
    def student_count(self, obj: Section) -> int:
        return obj.student_count

    @admin.display(description="browse")
    def browse(self, obj: Section) -> str:
        return changelist_link(Enrollment, f"{obj.student_count} students", section=obj.canvas_id)


@admin.register(Person)
class PersonAdmin(BigTableAdmin):
    list_display = ("name", "sortable_name", "sis_user_id", "login_id", "email", "canvas_id")
    list_filter = (TeacherFilter, sis_id_filter("sis_user_id"), "deleted")
    search_fields = ("name", "sortable_name", "=sis_user_id", "=login_id", "=email")
    search_help_text = "Name, or exact SIS user id, login, e-mail or Canvas id."
    readonly_fields = ("browse",)
    inlines = (PersonEnrollmentInline,)

    @admin.display(description="browse")
    def browse(self, obj: Person) -> str:
        return changelist_link(Submission, "grades", student=obj.canvas_id)


@admin.register(Enrollment)
class EnrollmentAdmin(PersonSearchAdmin):
    list_display = ("person", "type", "state", "section", "course", "canvas_id")
    list_select_related = ("person", "section", "course")
    list_filter = ("type", ActiveEnrollmentFilter, *course_filters("course"))
    search_fields = ("person__name",)  # searched through PersonAdmin: see get_search_results
    search_help_text = "Person name, or exact SIS user id, login, e-mail or Canvas id."
    raw_id_fields = ("person", "section", "course")


@admin.register(AssignmentGroup)
class AssignmentGroupAdmin(ImportedAdmin):
    list_display = ("name", "course", "position", "group_weight", "canvas_id", "deleted")
    list_select_related = ("course",)
    list_filter = (*course_filters("course"), "deleted")
    search_fields = ("name", "course__name")
    raw_id_fields = ("course",)


@admin.register(Assignment)
class AssignmentAdmin(BigTableAdmin):
    list_display = (
        "name",
        "course",
        "group",
        "published",
        "post_to_sis",
        "due_at",
        "points_possible",
        "grading_type",
        "override_count",
        "grades_link",
        "canvas_link",
    )
    list_select_related = ("course", "group")
    list_filter = (
        "post_to_sis",
        "published",
        GradingTypeFilter,
        OverrideFilter,
        "only_visible_to_overrides",
        "omit_from_final_grade",
        "deleted",
        *course_filters("course"),
    )
    search_fields = ("name", "=sis_assignment_id")
    search_help_text = "Assignment name, exact SIS id, or Canvas id."
    raw_id_fields = ("course", "group")
    readonly_fields = ("canvas_link", "grades_link")
    inlines = (AssignmentOverrideInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        overrides = AssignmentOverride.objects.filter(deleted=False)
        queryset = super().get_queryset(request)
        return queryset.annotate(override_count=count_of(overrides, "assignment"))

    @admin.display(description="overrides", ordering="override_count")
    def override_count(self, obj: Assignment) -> int:
        return obj.override_count

    @admin.display(description="grades")
    def grades_link(self, obj: Assignment) -> str:
        return changelist_link(Submission, "grades", assignment=obj.canvas_id)

    @admin.display(description="Canvas")
    def canvas_link(self, obj: Assignment) -> str:
        return external_link(obj.html_url, "Open in Canvas") if obj.html_url else "-"


@admin.register(AssignmentOverride)
class AssignmentOverrideAdmin(BigTableAdmin):
    list_display = (
        "__str__",
        "assignment",
        "course",
        "target",
        "section",
        "student_count",
        "due_at",
        "due_at_overridden",
        "deleted",
    )
    list_select_related = ("assignment__course", "section")
    list_filter = ("target", "due_at_overridden", "deleted", *course_filters("assignment__course"))
    search_fields = ("title", "assignment__name")
    search_help_text = "Override title, assignment name, or Canvas id."
    raw_id_fields = ("assignment", "section")

    @admin.display(description="course", ordering="assignment__course__name")
    def course(self, obj: AssignmentOverride) -> Course:
        return obj.assignment.course

    @admin.display(description="students")
    def student_count(self, obj: AssignmentOverride) -> int:
        return len(obj.student_canvas_ids or [])


@admin.register(Submission)
class SubmissionAdmin(PersonSearchAdmin):
    list_display = (
        "student",
        "assignment",
        "course",
        "score",
        "grade",
        "excused",
        "late",
        "missing",
        "graded_at",
        "posted_at",
    )
    list_select_related = ("student", "assignment", "course")
    list_filter = (
        GradedFilter,
        PostedFilter,
        "excused",
        "late",
        "missing",
        *course_filters("course"),
    )
    search_fields = ("student__name",)  # searched through PersonAdmin: see get_search_results
    search_help_text = "Student name, or exact SIS user id, login, e-mail or Canvas id."
    person_field = "student"
    # Sorting a million grades by a joined or unindexed column is a full sort; keep the id order.
    sortable_by = ()
    raw_id_fields = ("course", "assignment", "student")
