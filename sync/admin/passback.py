"""Admin for passback runs and their outcomes: progress, counts, retries, a connection test.

Runs and outcomes are written by the passback engine (sync/passback.py), so every page here is
read-only; superusers may prune history. The run list counts each run's outcomes per status with
correlated subqueries, each answered by the (run, status) index: a fixed number of queries
whatever the page shows, and no join of both outcome tables (which would multiply a run's line
items by its grades). The grade list (about a million rows after a school year) lists newest
first by primary key, skips the unfiltered count and the facets, and searches people first.

Retrying sends grades to Infinite Campus, so the retry actions require the
``sync.change_syncrun`` permission: superusers hold it; the district admin group views runs but
may not retry them unless an operator grants that permission to the group by hand
(``district_admin_group_ensure`` keeps permissions added by hand). Holding it never lets anyone
edit a run here. Testing the connection only reads, so viewing runs is enough for it.
"""

import re

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from courses.admin import INLINE_LIMIT, ReadOnlyInline
from courses.models import Person, Section
from sync import passback
from sync.admin.imports import format_duration
from sync.admin.passback_filters import (
    HttpStatusFilter,
    OutcomeCourseFilter,
    OutcomeSchoolFilter,
    ReasonFilter,
    RunChosenFilter,
    RunRequesterFilter,
    RunSchoolFilter,
)
from sync.admin.violations import admin_link
from sync.models import AssignmentOutcome, GradeOutcome, SyncRun
from sync.oneroster import OneRosterError

RETRY_PERMISSION = "sync.change_syncrun"
# A result sourcedId we created (sync/passback_payloads.py result_id): its student is in it.
RESULT_ID = re.compile(r"gpb-a\d+-s\d+-u(\d+)")

# --- counting outcomes ---------------------------------------------------------------------------


def _count_of(model: type, status: str) -> Coalesce:
    rows = (
        model.objects.filter(run=OuterRef("pk"), status=status)
        .order_by()
        .values("run")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def with_outcome_counts(runs: QuerySet[SyncRun]) -> QuerySet[SyncRun]:
    """Runs annotated with ``assignments_<status>`` and ``grades_<status>`` for every status."""
    return runs.annotate(
        **{f"assignments_{s}": _count_of(AssignmentOutcome, s) for s in AssignmentOutcome.Status},
        **{f"grades_{s}": _count_of(GradeOutcome, s) for s in GradeOutcome.Status},
    )


def outcome_counts(run: SyncRun) -> dict[str, dict[str, int]]:
    """The annotated counts of a run: {"assignments": {status: n}, "grades": {status: n}}."""
    return {
        kind: {s.value: getattr(run, f"{kind}_{s}") for s in statuses}
        for kind, statuses in (
            ("assignments", AssignmentOutcome.Status),
            ("grades", GradeOutcome.Status),
        )
    }


def counts_line(counts: dict[str, int], statuses: type) -> str:
    """``4 synced, 1 blocked``: the statuses with a count, in their declared order."""
    parts = [f"{counts[s.value]:,} {s.label.lower()}" for s in statuses if counts[s.value]]
    return ", ".join(parts) or "-"


def grade_progress(run: SyncRun, grades: dict[str, int]) -> str:
    """While a run sends: grades no longer pending out of all its grades."""
    if run.status != SyncRun.Status.RUNNING:
        return "-"
    total = sum(grades.values())
    return f"{total - grades[GradeOutcome.Status.PENDING]:,} / {total:,} grades sent"


def retry_summary(run: SyncRun, retried: SyncRun) -> str:
    """What a retry did with one run, in a few words."""
    if retried.pk != run.pk:
        return f"#{run.pk} queued as #{retried.pk}"
    if run.status == SyncRun.Status.RUNNING:
        return f"#{run.pk} resumed"
    if run.status == SyncRun.Status.QUEUED:
        return f"#{run.pk} queued again, ahead of scheduled work"
    return f"#{run.pk} had nothing failed to retry"


def outcomes_link(model: type, label: str, **filters: object) -> str:
    url = reverse(f"admin:sync_{model._meta.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(filters), label)


def section_label(section: Section) -> str:
    return f"{section.name} ({section.sis_section_id})" if section.sis_section_id else section.name


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by the passback engine: viewable, never added or changed; superusers prune."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    @admin.display(description="run", ordering="run")
    def run_link(self, obj: AssignmentOutcome | GradeOutcome) -> str:
        url = reverse("admin:sync_syncrun_change", args=[obj.run_id])
        return format_html('<a href="{}">#{}</a>', url, obj.run_id)


# --- runs ----------------------------------------------------------------------------------------


class AssignmentOutcomeInline(ReadOnlyInline):
    model = AssignmentOutcome
    fields = ("assignment", "section", "status", "rules", "http_status", "message")
    select_related = ("assignment", "section")
    verbose_name_plural = f"line items (failed and blocked first; at most {INLINE_LIMIT})"

    def get_queryset(self, request: HttpRequest) -> QuerySet[AssignmentOutcome]:
        first = Case(
            When(status=AssignmentOutcome.Status.FAILED, then=Value(0)),
            When(status=AssignmentOutcome.Status.BLOCKED, then=Value(1)),
            default=Value(2),
        )
        return super().get_queryset(request).order_by(first, "assignment", "section")

    @admin.display(description="blocking rules")
    def rules(self, obj: AssignmentOutcome) -> str:
        return ", ".join(obj.rule_codes or []) or "-"


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "course_link",
        "status",
        "requested_by",
        "requested_at",
        "duration",
        "progress",
        "assignment_counts",
        "grade_counts",
    )
    list_select_related = ("course",)
    list_filter = ("status", RunRequesterFilter, RunSchoolFilter, "requested_at")
    search_fields = ("course__name", "course__sis_course_id", "requested_by")
    search_help_text = "Course name or SIS id, or who requested the run."
    actions = ("retry_failed", "retry_run")
    fieldsets = (
        (None, {"fields": ("course_link", "status", "requested_by", "scheduled", "message")}),
        (
            "Progress",
            {
                "fields": (
                    "requested_at",
                    "dispatched_at",
                    "started_at",
                    "finished_at",
                    "duration",
                    "progress",
                )
            },
        ),
        ("Outcomes", {"fields": ("assignment_counts", "grade_counts", "outcome_links")}),
        ("Scope", {"fields": ("section_ids", "assignment_ids")}),
    )
    readonly_fields = (
        "course_link",
        "duration",
        "progress",
        "assignment_counts",
        "grade_counts",
        "outcome_links",
    )
    inlines = (AssignmentOutcomeInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[SyncRun]:
        # The detail page shows the same counts as the list.
        runs = super().get_queryset(request).select_related(*self.list_select_related)
        return with_outcome_counts(runs)

    @admin.display(description="run", ordering="pk")
    def number(self, run: SyncRun) -> str:
        return f"#{run.pk}"

    @admin.display(description="course", ordering="course__name")
    def course_link(self, run: SyncRun) -> str:
        return admin_link(run.course)

    @admin.display(description="duration")
    def duration(self, run: SyncRun) -> str:
        if run.finished_at and run.started_at:
            return format_duration(run.duration_seconds)
        if run.status == SyncRun.Status.RUNNING and run.started_at:
            return f"{format_duration((timezone.now() - run.started_at).total_seconds())} so far"
        return "-"

    @admin.display(description="progress")
    def progress(self, run: SyncRun) -> str:
        return grade_progress(run, outcome_counts(run)["grades"])

    @admin.display(description="line items")
    def assignment_counts(self, run: SyncRun) -> str:
        return counts_line(outcome_counts(run)["assignments"], AssignmentOutcome.Status)

    @admin.display(description="grades")
    def grade_counts(self, run: SyncRun) -> str:
        return counts_line(outcome_counts(run)["grades"], GradeOutcome.Status)

    @admin.display(description="browse")
    def outcome_links(self, run: SyncRun) -> str:
        counts = outcome_counts(run)
        items, grades = sum(counts["assignments"].values()), sum(counts["grades"].values())
        failed = counts["grades"][GradeOutcome.Status.FAILED]
        links = [
            outcomes_link(AssignmentOutcome, f"{items:,} line items", run=run.pk),
            outcomes_link(GradeOutcome, f"{grades:,} grades", run=run.pk),
            outcomes_link(
                GradeOutcome, f"{failed:,} failed grades", run=run.pk, status__exact="failed"
            ),
        ]
        return format_html_join(" · ", "{}", ((link,) for link in links))

    # --- retrying --------------------------------------------------------------------------------

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RETRY_PERMISSION)

    @admin.action(description="Retry failed grades", permissions=["retry"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[SyncRun]) -> None:
        self._retry(request, queryset, failed_only=True)

    @admin.action(description="Retry this run", permissions=["retry"])
    def retry_run(self, request: HttpRequest, queryset: QuerySet[SyncRun]) -> None:
        self._retry(request, queryset, failed_only=False)

    def _retry(self, request: HttpRequest, queryset: QuerySet[SyncRun], failed_only: bool) -> None:
        summaries = []
        for run in queryset.order_by("pk"):
            try:
                retried = passback.passback_retry(
                    run_id=run.pk,
                    failed_only=failed_only,
                    requested_by=request.user.get_username(),
                )
            except passback.QueueUnavailable as exc:
                self.message_user(request, str(exc), messages.ERROR)
                break  # the next run would meet the same queue
            summaries.append(retry_summary(run, retried))
        if not summaries:
            return
        what = "Failed grades retried" if failed_only else "Runs retried"
        self.message_user(request, f"{what}: {'; '.join(summaries)}.", messages.SUCCESS)

    # --- testing the connection ------------------------------------------------------------------

    def get_urls(self) -> list:
        check = self.admin_site.admin_view(self.connection_view)
        return [
            path("test-connection/", check, name="sync_syncrun_test_connection"),
            *super().get_urls(),
        ]

    def connection_view(self, request: HttpRequest) -> HttpResponseRedirect:
        """Ask Infinite Campus for a token and one gradebook read; say what it answered."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            line = passback.sis_connection_check()
        except OneRosterError as exc:
            # Its message says what to fix: the secret, the vendor key, the base URL.
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, line, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:sync_syncrun_changelist"))


# --- outcomes ------------------------------------------------------------------------------------


@admin.register(AssignmentOutcome)
class AssignmentOutcomeAdmin(ReadOnlyAdmin):
    list_display = (
        "run_link",
        "assignment_name",
        "section_name",
        "status",
        "rules",
        "http_status",
        "message",
    )
    list_select_related = ("assignment", "section")
    list_filter = (
        RunChosenFilter,
        "status",
        OutcomeSchoolFilter,
        OutcomeCourseFilter,
        HttpStatusFilter,
    )
    ordering = ("-pk",)
    sortable_by = ("run_link", "status")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description="assignment", ordering="assignment__name")
    def assignment_name(self, obj: AssignmentOutcome) -> str:
        return obj.assignment.name

    @admin.display(description="section")
    def section_name(self, obj: AssignmentOutcome) -> str:
        return section_label(obj.section)

    @admin.display(description="blocking rules")
    def rules(self, obj: AssignmentOutcome) -> str:
        return ", ".join(obj.rule_codes or []) or "-"


@admin.register(GradeOutcome)
class GradeOutcomeAdmin(ReadOnlyAdmin):
    list_display = (
        "run_link",
        "assignment_name",
        "section_name",
        "student_name",
        "status",
        "reason",
        "http_status",
        "attempts",
        "detail",
        "sent_at",
    )
    list_select_related = (
        "assignment_outcome__assignment",
        "assignment_outcome__section",
        "student",
    )
    list_filter = (
        RunChosenFilter,
        "status",
        ReasonFilter,
        OutcomeSchoolFilter,
        OutcomeCourseFilter,
        HttpStatusFilter,
    )
    search_fields = ("student__name",)  # searched as get_search_results says
    search_help_text = "Student name or exact SIS user id, or a result sourcedId (gpb-a…-u…)."
    # Sorting a million rows by anything but the primary key is a full sort.
    ordering = ("-pk",)
    sortable_by = ()
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        # result_sourced_id has no index, but the student it names does (via its foreign key).
        if match := RESULT_ID.fullmatch(term):
            return queryset.filter(student_id=int(match[1]), result_sourced_id=term), False
        # The people table is small: find them first, then their grades by the student index.
        people, _ = self.admin_site.get_model_admin(Person).get_search_results(
            request, Person.objects.all(), term
        )
        return queryset.filter(student__in=people.values("canvas_id")), False

    @admin.display(description="assignment")
    def assignment_name(self, obj: GradeOutcome) -> str:
        return obj.assignment_outcome.assignment.name

    @admin.display(description="section")
    def section_name(self, obj: GradeOutcome) -> str:
        return section_label(obj.assignment_outcome.section)

    @admin.display(description="student")
    def student_name(self, obj: GradeOutcome) -> str:
        sis_id = obj.student.sis_user_id
        return f"{obj.student.name} ({sis_id})" if sis_id else f"{obj.student.name} (no SIS id)"
