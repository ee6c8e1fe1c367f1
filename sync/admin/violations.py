"""The violation changelist: browse, filter, search and export the GPB rule violations.

Read-only (violations are written by the refresh only); superusers may prune history. It stays
fast at a million rows of history: open only by default, every filter a condition on an indexed
column of the violation (school and term are copied onto it), search through the small tables
first, no unfiltered total count, and every column from one joined query.
"""

import io
from collections.abc import Iterator
from datetime import datetime
from itertools import islice

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import smart_split, unescape_string_literal

from courses.admin import canvas_course_url, external_link
from courses.models import Assignment, Course, Section
from sync import rules
from sync.admin.violation_filters import (
    AgeFilter,
    AssignmentChosenFilter,
    CourseChosenFilter,
    RuleFilter,
    SeverityFilter,
    StatusFilter,
    TeacherFilter,
    ViolationSchoolFilter,
    ViolationTermFilter,
    teaching,
)
from sync.models import Violation
from sync.violation_rows import rows_to_csv, violation_rows

CSV_ROWS_PER_CHUNK = 500
SEARCH_IDS_LISTED = 1000


# --- what a violation shows (shared by the changelist, its detail page and the inlines) ----------


def rule_title(violation: Violation) -> str:
    spec = rules.RULES.get(violation.rule)
    return spec.title if spec else violation.rule


def days_open(violation: Violation, now: datetime | None = None) -> int:
    """Whole days from first seen until resolved, or until now while open."""
    end = violation.resolved_at or now or timezone.now()
    return max((end - violation.first_seen).days, 0)


def canvas_url(violation: Violation) -> str:
    """Where the teacher fixes it: the assignment's Canvas page, else the section's or course's."""
    if violation.assignment_id:
        if violation.assignment.html_url:
            return violation.assignment.html_url
        return f"{canvas_course_url(violation.course_id)}/assignments/{violation.assignment_id}"
    if violation.section_id:
        return f"{canvas_course_url(violation.course_id)}/sections/{violation.section_id}"
    return canvas_course_url(violation.course_id)


def admin_link(obj: object, label: str | None = None) -> str:
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or str(obj))


class ViolationColumns:
    """Columns of a violation, as admin display methods, for the admin and the inlines."""

    @admin.display(description="rule", ordering="rule")
    def rule_title(self, obj: Violation) -> str:
        return rule_title(obj)

    @admin.display(description="status", ordering="resolved_at")
    def status(self, obj: Violation) -> str:
        return "open" if obj.is_open else f"resolved {obj.resolved_at:%Y-%m-%d}"

    @admin.display(description="age (days open)", ordering="-first_seen")
    def age(self, obj: Violation) -> int:
        return days_open(obj)

    @admin.display(description="course", ordering="course__name")
    def course_link(self, obj: Violation) -> str:
        return admin_link(obj.course)

    @admin.display(description="assignment")
    def assignment_link(self, obj: Violation) -> str:
        return admin_link(obj.assignment) if obj.assignment_id else "-"

    @admin.display(description="Canvas")
    def canvas_link(self, obj: Violation) -> str:
        return external_link(canvas_url(obj), "Fix in Canvas")


# --- CSV export ----------------------------------------------------------------------------------


def violations_csv(violations: QuerySet[Violation]) -> Iterator[str]:
    """The ``gpb_report`` CSV of these violations, a chunk of rows at a time (for streaming)."""
    header = io.StringIO()
    rows_to_csv([], header)
    yield header.getvalue()
    rows = violation_rows(violations)
    while chunk := list(islice(rows, CSV_ROWS_PER_CHUNK)):
        out = io.StringIO()
        rows_to_csv(chunk, out)
        yield out.getvalue()[len(header.getvalue()) :]  # each chunk repeats the header


def csv_response(violations: QuerySet[Violation]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(violations_csv(violations), content_type="text/csv")
    filename = f"gpb-violations-{timezone.localtime():%Y%m%d-%H%M}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- search --------------------------------------------------------------------------------------


def matching_ids(rows: QuerySet, field: str) -> list[int] | QuerySet:
    """The ``field`` values of ``rows``: a list when short, else the subquery itself.

    The district tables are small, so searching them first is quick; handing PostgreSQL the ids
    found keeps the violation query a plain indexed ``IN``, instead of subqueries that a parallel
    plan (and the count beside the page) would each run again.
    """
    ids = list(rows.order_by().values_list(field, flat=True).distinct()[: SEARCH_IDS_LISTED + 1])
    return ids if len(ids) <= SEARCH_IDS_LISTED else rows.values(field)


def search_condition(term: str) -> Q:
    """Violations of the courses, assignments or sections matching ``term``, or of its teachers."""
    courses = Course.objects.filter(Q(name__icontains=term) | Q(sis_course_id__icontains=term))
    taught = teaching().filter(person__name__icontains=term)
    assignments = Assignment.objects.filter(name__icontains=term)
    sections = Section.objects.filter(sis_section_id__icontains=term)
    condition = (
        Q(course__in=matching_ids(courses, "canvas_id"))
        | Q(course__in=matching_ids(taught, "course_id"))
        | Q(assignment__in=matching_ids(assignments, "canvas_id"))
        | Q(section__in=matching_ids(sections, "canvas_id"))
    )
    if term.isdigit():
        canvas_id = int(term)
        condition |= Q(course=canvas_id) | Q(assignment=canvas_id) | Q(section=canvas_id)
    return condition


# --- the admin -----------------------------------------------------------------------------------


class CappedPaginator(Paginator):
    """Counts at most CAP + 1 rows: the whole history holds millions, and counting them all
    for the page links costs more than the page. The template says "more than" past the cap."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.CAP + 1].count()


@admin.register(Violation)
class ViolationAdmin(ViolationColumns, admin.ModelAdmin):
    paginator = CappedPaginator
    list_display = (
        "rule_title",
        "severity",
        "course_link",
        "assignment_link",
        "canvas_link",
        "section",
        "school",
        "message",
        "first_seen",
        "age",
        "status",
    )
    list_select_related = ("course", "assignment", "section", "school")
    list_filter = (
        StatusFilter,
        AgeFilter,
        SeverityFilter,
        RuleFilter,
        ViolationSchoolFilter,
        ViolationTermFilter,
        TeacherFilter,
        CourseChosenFilter,
        AssignmentChosenFilter,
    )
    # Searched by search_condition; listed so that the admin shows a search box.
    search_fields = ("course__name", "assignment__name", "section__sis_section_id")
    search_help_text = (
        "Course, assignment or teacher name, course or section SIS id, or a Canvas id."
    )
    sortable_by = ("rule_title", "severity", "course_link", "first_seen", "age", "status")
    show_full_result_count = False
    # Fifty rows of eleven columns: rendering, not the database, is most of the page's time.
    list_per_page = 50
    actions = ("export_csv",)
    fieldsets = (
        (None, {"fields": ("rule_title", "rule", "severity", "message", "canvas_link")}),
        ("Where", {"fields": ("course_link", "assignment_link", "section", "school", "term")}),
        ("History", {"fields": ("status", "first_seen", "last_seen", "resolved_at", "age")}),
        ("Identity", {"fields": ("key",), "classes": ("collapse",)}),
    )
    readonly_fields = (
        "rule_title",
        "canvas_link",
        "course_link",
        "assignment_link",
        "status",
        "age",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the refresh writes violations

    def has_change_permission(self, request: HttpRequest, obj: Violation | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Violation | None = None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))
    def action_checkbox(self, obj: Violation) -> str:
        # Django renders each row's box through the form widget templates, a fifth of the page's
        # time; this is the same markup.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" '
            'aria-label="Select this object for an action - {}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            obj,
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Violation]:
        # The detail page shows the same columns as the list, so it joins the same rows.
        return super().get_queryset(request).select_related(*self.list_select_related)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        for bit in smart_split(search_term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            queryset = queryset.filter(search_condition(bit))
        return queryset, False

    # --- export ----------------------------------------------------------------------------------

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> StreamingHttpResponse:
        self.message_user(request, f"Exported {queryset.count():,} violations as CSV.")
        return csv_response(queryset)

    def get_urls(self) -> list:
        export = self.admin_site.admin_view(self.export_view)
        return [path("export/", export, name="sync_violation_export"), *super().get_urls()]

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """Every violation matching the changelist's filters and search, as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(reverse("admin:sync_violation_changelist") + "?e=1")
        return csv_response(changelist.queryset)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        query = request.GET.copy()
        query.pop("p", None)
        export_url = reverse("admin:sync_violation_export")
        if query:
            export_url += "?" + query.urlencode()
        return super().changelist_view(request, {"export_url": export_url, **(extra_context or {})})
