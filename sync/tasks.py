"""django-q2 entry points: ids and flags in, one service call, a short result out."""

from datetime import timedelta

from django.utils import timezone

from sync.importer import district_import
from sync.models import ImportRun

# A scheduled import that finds another still running leaves it alone; a run older than this
# is assumed to have died with its worker.
STALE_RUN_AFTER = timedelta(hours=6)


def import_canvas(*, full: bool = False) -> str:
    """Scheduled import of the whole district."""
    running = ImportRun.objects.filter(
        status=ImportRun.Status.RUNNING, started_at__gt=timezone.now() - STALE_RUN_AFTER
    ).first()
    if running:
        return f"skipped: import #{running.pk} is still running"
    run = district_import(full=full, requested_by="schedule")
    return f"import #{run.pk} {run.status}: {run.courses_done}/{run.courses_total} courses"
