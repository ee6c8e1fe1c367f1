"""Read queries behind the API: violations as the list filters them, compliance at a glance,
passback runs and their outcomes."""

from django.db.models import Exists, OuterRef, QuerySet

from api.filters import SyncRunFilters, ViolationFilters
from courses.models import Enrollment
from sync.compliance import (
    compliance_by_rule,
    compliance_by_school,
    compliance_by_term,
    district_compliance,
)
from sync.models import AssignmentOutcome, GradeOutcome, SyncRun, Violation
from sync.passback import passback_counts
from sync.violation_rows import school_and_descendants


def violations_with_relations() -> QuerySet[Violation]:
    """Every violation, with what the API shows about it joined in, newest first."""
    return Violation.objects.select_related("school", "course", "assignment", "section").order_by(
        "-first_seen", "-id"
    )


def violations_filtered(filters: ViolationFilters) -> QuerySet[Violation]:
    """The violations the filters select: one SQL query (the school filter first reads the
    account tree once), whatever the page size."""
    rows = violations_with_relations()
    if filters.open == "true":
        rows = rows.filter(resolved_at__isnull=True)
    elif filters.open == "false":
        rows = rows.filter(resolved_at__isnull=False)
    if filters.school is not None:
        rows = rows.filter(school_id__in=school_and_descendants(filters.school))
    if filters.term is not None:
        rows = rows.filter(term_id=filters.term)
    if filters.course is not None:
        rows = rows.filter(course_id=filters.course)
    if filters.teacher is not None:
        teaches = Enrollment.objects.filter(
            course_id=OuterRef("course_id"),
            person_id=filters.teacher,
            type=Enrollment.Type.TEACHER,
            state="active",
            deleted=False,
        )
        rows = rows.filter(Exists(teaches))
    if filters.rule:
        rows = rows.filter(rule=filters.rule)
    if filters.severity:
        rows = rows.filter(severity=filters.severity)
    return rows


def compliance_overview() -> dict:
    """District, per-school, per-term and per-rule compliance (sync/compliance.py)."""
    return {
        "district": district_compliance(),
        "schools": compliance_by_school(),
        "terms": compliance_by_term(),
        "rules": compliance_by_rule(),
    }


def sync_runs_with_course() -> QuerySet[SyncRun]:
    """Every passback run with its course joined in, newest first."""
    return SyncRun.objects.select_related("course").order_by("-requested_at", "-id")


def sync_runs_filtered(filters: SyncRunFilters) -> QuerySet[SyncRun]:
    runs = sync_runs_with_course()
    if filters.course is not None:
        runs = runs.filter(course_id=filters.course)
    if filters.status:
        runs = runs.filter(status=filters.status)
    return runs


def sync_run_counts(run: SyncRun) -> dict[str, dict[str, int]]:
    """The run's outcome counts with every status present (zero when none): two queries."""
    counts = passback_counts(run)
    return {
        "assignments": {s: counts["assignments"].get(s, 0) for s in AssignmentOutcome.Status},
        "grades": {s: counts["grades"].get(s, 0) for s in GradeOutcome.Status},
    }


def run_grades(*, run: SyncRun, status: str | None = None) -> QuerySet[GradeOutcome]:
    """The run's grade outcomes in the order they were planned, from the (run, status) index."""
    grades = GradeOutcome.objects.filter(run=run).select_related("assignment_outcome", "student")
    if status:
        grades = grades.filter(status=status)
    return grades.order_by("id")
