"""Reads for a course's sync runs: one run's progress (the page and its JSON) and the history.

A run's progress is a fixed handful of grouped queries over its outcomes, whatever its size,
so that the page can poll it every couple of seconds. Grade lists are capped; counts are not.
"""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse

from courses.models import Course
from sync import rules
from sync.models import AssignmentOutcome, GradeOutcome, SyncRun
from teachers.access import courses_for
from teachers.selectors import when

GRADES_LISTED = 100  # failed and skipped grades listed per kind; the rest are counted

# GradeOutcome.reason in a teacher's words.
REASONS = {
    "no_grade": "No grade entered in Canvas",
    "student_not_in_sis": "Student not in Infinite Campus (no SIS id)",
    "invalid_score": "Score below zero",
    "outside_window": "Graded before the sync window",
    "same_as_sent": "Unchanged since the last sync",
    "sis_rejected": "Infinite Campus refused it",
    "sis_unavailable": "Infinite Campus did not answer",
    "line_item_failed": "The assignment could not be created in Infinite Campus",
    "run_failed": "The sync stopped before sending it",
}

ASSIGNMENT_STATUS_WORDS = {
    "pending": "Waiting",
    "synced": "Synced",
    "no_changes": "No changes",
    "blocked": "Blocked",
    "failed": "Failed",
}
RUN_STATUS_WORDS = {
    "queued": "Scheduled",
    "running": "Running",
    "done": "Done",
    "failed": "Failed",
}
GRADE_STATUSES = [s.value for s in GradeOutcome.Status]
LISTED_STATUSES = (GradeOutcome.Status.FAILED.value, GradeOutcome.Status.SKIPPED.value)


def reason_words(reason: str) -> str:
    return REASONS.get(reason, reason.replace("_", " ").capitalize() if reason else "")


def run_or_404(user: AbstractBaseUser | AnonymousUser, run_id: int) -> SyncRun:
    """The run if it belongs to one of the user's courses; Http404 otherwise."""
    run = (
        SyncRun.objects.filter(pk=run_id, course__in=courses_for(user))
        .select_related("course")
        .first()
    )
    if run is None:
        raise Http404("No such sync among your courses.")
    return run


def run_progress(run: SyncRun) -> dict:
    """The run's status, per-assignment outcomes with grade counts, and failed and skipped
    grades with their reasons: JSON-ready (no grade values, no tokens)."""
    counts = {
        f"n_{status}": Count("grades", filter=Q(grades__status=status)) for status in GRADE_STATUSES
    }
    totals: dict[str, int] = dict.fromkeys(GRADE_STATUSES, 0)
    assignment_totals: dict[str, int] = dict.fromkeys(ASSIGNMENT_STATUS_WORDS, 0)
    assignments = []
    rows = (
        AssignmentOutcome.objects.filter(run=run)
        .annotate(**counts)
        .order_by()  # sorted below: a run's few hundred pairs, not its thousands of grades
        .values(
            "pk",
            "assignment_id",
            "assignment__name",
            "section__name",
            "status",
            "rule_codes",
            "message",
            *counts,
        )
    )
    by_name = sorted(rows, key=lambda r: (r["assignment__name"], r["section__name"], r["pk"]))
    for row in by_name:
        status = row["status"]
        assignment_totals[status] = assignment_totals.get(status, 0) + 1
        grades = {s: row[f"n_{s}"] for s in GRADE_STATUSES}
        for s, n in grades.items():
            totals[s] += n
        assignments.append(
            {
                "id": row["pk"],
                "assignment_id": row["assignment_id"],
                "assignment": row["assignment__name"],
                "section": row["section__name"],
                "status": status,
                "status_label": ASSIGNMENT_STATUS_WORDS.get(status, status),
                "blocked_by": [_rule_title(code) for code in row["rule_codes"] or []],
                "message": row["message"] if status in ("failed", "blocked") else "",
                "grades": grades,
            }
        )

    total = sum(totals.values())
    settled = total - totals.get("pending", 0)
    return {
        "run": run.pk,
        "course": run.course_id,
        "status": run.status,
        "status_label": RUN_STATUS_WORDS.get(run.status, run.status),
        "finished": run.status not in SyncRun.ACTIVE,
        "message": run.message,
        "requested_by": run.requested_by,
        "requested_at": _iso(run.requested_at),
        "requested_at_label": when(run.requested_at),
        "finished_at": _iso(run.finished_at),
        "finished_at_label": when(run.finished_at),
        "grades": totals,
        "grades_total": total,
        "grades_settled": settled,
        "assignment_counts": assignment_totals,
        "assignments": assignments,
        **_listed_grades(run, totals),
        "urls": {
            "page": reverse("teachers:run", args=[run.pk]),
            "course": reverse("teachers:course", args=[run.course_id]),
        },
    }


def _listed_grades(run: SyncRun, totals: dict[str, int]) -> dict[str, dict]:
    """The first failed and skipped grades, with student, assignment, section and reason."""
    return {status: _grades(run, status, totals.get(status, 0)) for status in LISTED_STATUSES}


def _grades(run: SyncRun, status: str, count: int) -> dict:
    """Each kind in a query of its own: an OR of both would not use the (run, status) index."""
    if not count:  # most runs fail nothing: no query for an empty list
        return {"count": 0, "more": 0, "grades": []}
    # The first ones in the order they were planned (grouped by assignment and section), picked
    # before anything is joined: names are read for the listed grades only.
    first = GradeOutcome.objects.filter(run=run, status=status).order_by("pk").values("pk")
    rows = (
        GradeOutcome.objects.filter(pk__in=first[:GRADES_LISTED])
        .order_by("pk")
        .values_list(
            "student__name",
            "assignment_outcome__assignment__name",
            "assignment_outcome__section__name",
            "reason",
            "detail",
        )
    )
    listed = [
        {
            "student": student,
            "assignment": assignment,
            "section": section,
            "reason": reason,
            "reason_label": reason_words(reason),
            # The SIS's own words explain a refusal; they never carry the grade sent.
            "detail": detail[:300] if status == GradeOutcome.Status.FAILED else "",
        }
        for student, assignment, section, reason, detail in rows
    ]
    return {"count": count, "more": max(0, count - len(listed)), "grades": listed}


def _rule_title(code: str) -> str:
    spec = rules.RULES.get(code)
    return spec.title if spec else code.replace("_", " ").capitalize()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _count_of(model: type, **filters: object) -> Coalesce:
    rows = (
        model.objects.filter(run=OuterRef("pk"), **filters)
        .order_by()
        .values("run")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def course_runs(course: Course) -> QuerySet[SyncRun]:
    """The course's runs, newest first, each with ``assignment_count`` (assignments covered)
    and ``posted``, ``failed`` (grades) annotated in correlated subqueries."""
    assignments = (
        AssignmentOutcome.objects.filter(run=OuterRef("pk"))
        .order_by()
        .values("run")
        .annotate(n=Count("assignment_id", distinct=True))
        .values("n")
    )
    return SyncRun.objects.filter(course_id=course.canvas_id).annotate(
        assignment_count=Coalesce(Subquery(assignments, output_field=IntegerField()), 0),
        posted=_count_of(GradeOutcome, status=GradeOutcome.Status.POSTED),
        failed=_count_of(GradeOutcome, status=GradeOutcome.Status.FAILED),
    )
