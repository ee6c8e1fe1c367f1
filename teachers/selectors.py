"""Reads for the teacher pages: my courses, and the words and links every page shares.

``course_summaries`` answers in a fixed number of queries whatever the number of courses on the
page: compliance and open blocking violations are counted in SQL, the last run is a subquery.
The course's own sync page is read by teachers/course_page.py, a run by run_selectors.py.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from courses.models import Course
from sync import rules
from sync.compliance import synced_assignments
from sync.models import SyncRun, Violation

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def when(moment: datetime | None) -> str:
    """``Oct 3, 2026, 11:59 PM`` in the current time zone (what the templates' ``M j, Y, g:i A``
    writes), or an empty string. Spelled out: a page formats hundreds of due dates."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    half = "AM" if local.hour < 12 else "PM"
    return (
        f"{_MONTHS[local.month - 1]} {local.day}, {local.year}, "
        f"{local.hour % 12 or 12}:{local.minute:02d} {half}"
    )


def natural_key(name: str) -> tuple:
    """Sort key for names as people read them: "Quiz 2" before "Quiz 10", any case."""
    parts = re.split(r"(\d+)", name.casefold().strip())
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p)


def canvas_course_url(course_id: int) -> str:
    return f"{settings.CANVAS_BASE_URL.rstrip('/')}/courses/{course_id}"


def canvas_assignment_url(course_id: int, assignment_id: int) -> str:
    return f"{canvas_course_url(course_id)}/assignments/{assignment_id}"


# --- my courses ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseSummary:
    canvas_id: int
    name: str
    course_code: str
    term_name: str
    synced: int
    compliant: int
    blocking: int
    last_run_id: int | None
    last_run_status: str
    last_run_at: datetime | None

    @property
    def rate(self) -> int | None:
        """Compliance in whole percent (None when nothing syncs)."""
        return round(100 * self.compliant / self.synced) if self.synced else None


def _last_run(field_name: str) -> Subquery:
    runs = SyncRun.objects.filter(course_id=OuterRef("canvas_id")).order_by("-requested_at", "-pk")
    return Subquery(runs.values(field_name)[:1])


def course_summaries(courses: QuerySet[Course]) -> list[CourseSummary]:
    """One row per course with its compliance, open blocking violations and last sync run."""
    rows = list(
        courses.annotate(
            last_run_id=_last_run("pk"),
            last_run_status=_last_run("status"),
            last_run_requested=_last_run("requested_at"),
            last_run_finished=_last_run("finished_at"),
        ).values_list(
            "canvas_id",
            "name",
            "course_code",
            "term__name",
            "last_run_id",
            "last_run_status",
            "last_run_requested",
            "last_run_finished",
        )
    )
    ids = [row[0] for row in rows]
    compliance = {
        course_id: (synced, compliant)
        for course_id, synced, compliant in synced_assignments()
        .filter(course_id__in=ids)
        .values("course_id")
        .annotate(synced=Count("canvas_id"), compliant=Count("canvas_id", filter=Q(blocked=False)))
        .values_list("course_id", "synced", "compliant")
        .order_by()
    }
    blocking = dict(
        Violation.objects.filter(
            course_id__in=ids, resolved_at__isnull=True, severity=rules.BLOCKING
        )
        .values("course_id")
        .annotate(n=Count("pk"))
        .values_list("course_id", "n")
        .order_by()
    )
    return [
        CourseSummary(
            canvas_id=cid,
            name=name,
            course_code=code,
            term_name=term or "",
            synced=compliance.get(cid, (0, 0))[0],
            compliant=compliance.get(cid, (0, 0))[1],
            blocking=blocking.get(cid, 0),
            last_run_id=run_id,
            last_run_status=status or "",
            last_run_at=finished or requested,
        )
        for cid, name, code, term, run_id, status, requested, finished in rows
    ]
