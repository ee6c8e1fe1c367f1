"""Queueing a passback run's tasks: which lane, queueing it again, and telling a stalled run.

A run's tasks carry its ``dispatch`` number. Queueing the run again raises the number, so the
tasks queued before find nothing to do: a person asking for a run still queued behind the
nightly tasks moves it to the interactive lane (sync/lanes.py) without planning it twice, and a
run whose tasks were lost with their worker (Redis hands each task out once) can be queued again
without sending anything twice.
"""

from datetime import datetime, timedelta

from django.db.models import F, Max
from django.utils import timezone

from sync import fanout
from sync.models import SyncRun

# A run with no progress for this long lost its tasks with their worker: the next request for
# its course (a person's or the nightly one) queues it again. Long enough that a run waiting its
# turn behind a district's nightly tasks, or a section waiting out IC's throttling, is never
# taken for dead.
STALLED_AFTER = timedelta(hours=6)


def run_dispatch(run: SyncRun, *, interactive: bool) -> SyncRun:
    """Queue the run's start task (again): a queued run is planned, a running one resumes its
    pending sections. Tasks queued for it before are superseded."""
    SyncRun.objects.filter(pk=run.pk).update(
        dispatch=F("dispatch") + 1, scheduled=not interactive, dispatched_at=timezone.now()
    )
    run.refresh_from_db(fields=["dispatch", "scheduled", "dispatched_at"])
    run_enqueue(run)
    return run


def run_joined(run: SyncRun, *, scheduled: bool) -> None:
    """A new request joins the active ``run``: a person's moves a nightly run still queued to
    the interactive lane, and any request queues a stalled run again (in the interactive lane
    unless both the run and the request are nightly ones)."""
    if run.status == SyncRun.Status.QUEUED and run.scheduled and not scheduled:
        run_dispatch(run, interactive=True)
    elif run_stalled(run):
        run_dispatch(run, interactive=not (scheduled and run.scheduled))


def run_enqueue(run: SyncRun) -> None:
    """Queue the start task of the run as it stands, in its lane."""
    fanout.enqueue(
        "passback_start",
        run.pk,
        run.dispatch,
        group=f"passback-{run.pk}",
        interactive=not run.scheduled,
    )


def run_stalled(run: SyncRun, *, now: datetime | None = None) -> bool:
    """Whether an active run has shown no progress (queued, planned, a section begun, a grade
    sent) for STALLED_AFTER."""
    now = now or timezone.now()
    latest = [run.requested_at, run.dispatched_at, run.started_at]
    if run.status == SyncRun.Status.RUNNING:
        latest.append(run.assignments.aggregate(at=Max("send_started_at"))["at"])
        latest.append(run.grades.aggregate(at=Max("sent_at"))["at"])
    return max(at for at in latest if at is not None) < now - STALLED_AFTER
