"""django-q2 entry points: ids and flags in, one service call, a short result out."""

from datetime import timedelta

from django.utils import timezone

from sync.importer import import_course_in_run, import_start
from sync.models import ImportRun

# A scheduled import that finds another still running leaves it alone; a run older than this
# is assumed to have died with its worker.
STALE_RUN_AFTER = timedelta(hours=6)


def import_canvas(*, full: bool = False) -> str:
    """Scheduled import of the whole district: lists it, then fans out one task per course."""
    running = ImportRun.objects.filter(
        status=ImportRun.Status.RUNNING, started_at__gt=timezone.now() - STALE_RUN_AFTER
    ).first()
    if running:
        return f"skipped: import #{running.pk} is still running"
    run = import_start(full=full, requested_by="schedule")
    return f"import #{run.pk} started: {run.courses_total} courses queued"


def import_course(run_id: int, item: dict) -> str:
    """One course of a fanned-out import (safe to retry: the course is re-read and upserted)."""
    run = import_course_in_run(run_id=run_id, item=item)
    return f"import #{run.pk}: {run.courses_done + run.courses_failed}/{run.courses_total} courses"
