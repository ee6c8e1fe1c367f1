"""Queueing a passback run's tasks: which lane, queueing it again, and telling a stalled run.

A run's tasks carry its ``dispatch`` number. Queueing the run again raises the number, so the
tasks queued before find nothing to do: a person asking for a course whose nightly run waits
behind the other nightly tasks moves what is left of it to the interactive lane
(sync/lanes.py) without planning it twice or sending a section from two tasks, and a run whose
tasks were lost with their worker (Redis hands each task out once) can be queued again.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from sync import fanout
from sync.models import AssignmentOutcome, SyncRun

# A run with no progress for this long lost its tasks with their worker: the next request for
# its course (a person's or the nightly one) queues it again. Long enough that a run waiting its
# turn behind a district's nightly tasks, or a section waiting out IC's throttling, is never
# taken for dead.
STALLED_AFTER = timedelta(hours=6)

logger = logging.getLogger(__name__)


class QueueUnavailable(Exception):
    """The task queue did not take a run's task; its message says what to do."""


def run_dispatch(run: SyncRun, *, interactive: bool) -> SyncRun:
    """Queue the run's start task (again): a queued run is planned, a running one resumes its
    pending sections. Tasks queued for it before are superseded, unless the queue does not
    take the new one (QueueUnavailable): then they stand as they were."""
    was_scheduled = SyncRun.objects.filter(pk=run.pk).values_list("scheduled", flat=True).get()
    SyncRun.objects.filter(pk=run.pk).update(
        dispatch=F("dispatch") + 1, scheduled=not interactive, dispatched_at=timezone.now()
    )
    run.refresh_from_db(fields=["dispatch", "scheduled", "dispatched_at"])
    try:
        run_enqueue(run)
    except QueueUnavailable:
        _undo_dispatch(run, was_scheduled)
        raise
    return run


def run_joined(run: SyncRun, *, scheduled: bool) -> None:
    """A new request joins the active ``run``: any request queues a stalled run again (in the
    interactive lane unless both the run and the request are nightly ones), and a person's
    moves what is left of a nightly run to the interactive lane."""
    if run_stalled(run):
        run_dispatch(run, interactive=not (scheduled and run.scheduled))
    elif run.scheduled and not scheduled:
        try:
            run_ahead(run)
        except QueueUnavailable:  # the run goes on in the nightly lane
            logger.warning("Passback #%s not moved ahead: the task queue is down", run.pk)


def run_ahead(run: SyncRun) -> SyncRun:
    """Move what no task has begun of a run to the interactive lane: its start while it is
    still queued, else its sections no task has begun sending.

    Decided under the run's lock, as it is now: a section a worker is sending goes on, and the
    tasks queued before find the run queued again when they come up, and do nothing (a plan and
    a section's start check the same lock), so nothing is planned or sent by two tasks.
    """
    with transaction.atomic():
        locked = SyncRun.objects.select_for_update().filter(pk=run.pk)
        status = locked.values_list("status", flat=True).get()
        if status not in SyncRun.ACTIVE:
            return run  # it finished meanwhile
        was_scheduled = locked.values_list("scheduled", flat=True).get()
        locked.update(dispatch=F("dispatch") + 1, scheduled=False, dispatched_at=timezone.now())
        sections = []
        if status == SyncRun.Status.RUNNING:
            pending = AssignmentOutcome.objects.filter(
                run=run, status=AssignmentOutcome.Status.PENDING
            )
            begun = pending.filter(send_started_at__isnull=False).values_list(
                "section_id", flat=True
            )
            sections = sorted(set(pending.values_list("section_id", flat=True)) - set(begun))
    run.refresh_from_db(fields=["status", "dispatch", "scheduled", "dispatched_at"])
    try:
        if status == SyncRun.Status.QUEUED:
            run_enqueue(run)
        for section_id in sections:
            _enqueue("passback_section", run, run.pk, section_id, run.dispatch, interactive=True)
    except QueueUnavailable:
        _undo_dispatch(run, was_scheduled)
        raise
    return run


def run_enqueue(run: SyncRun) -> None:
    """Queue the start task of the run as it stands, in its lane."""
    _enqueue("passback_start", run, run.pk, run.dispatch, interactive=not run.scheduled)


def _enqueue(task: str, run: SyncRun, *args: int, interactive: bool) -> None:
    try:
        fanout.enqueue(task, *args, group=f"passback-{run.pk}", interactive=interactive)
    except Exception as exc:  # the broker's own error: Redis's, or the database's
        raise QueueUnavailable(
            f"The task queue did not take passback #{run.pk} ({type(exc).__name__}: {exc}). "
            "Nothing was sent. Try again in a minute; if it keeps failing, tell your district "
            "admin that the task queue (Redis, or the database) is not answering."
        ) from exc


def _undo_dispatch(run: SyncRun, was_scheduled: bool) -> None:
    """Give the run back to the tasks it had: the ones queued for the new dispatch (if any
    got through) find it superseded."""
    SyncRun.objects.filter(pk=run.pk, dispatch=run.dispatch).update(
        dispatch=run.dispatch - 1, scheduled=was_scheduled
    )
    run.refresh_from_db(fields=["dispatch", "scheduled"])


def run_stalled(run: SyncRun, *, now: datetime | None = None) -> bool:
    """Whether an active run has shown no progress (queued, planned, a section begun, a grade
    sent) for STALLED_AFTER."""
    now = now or timezone.now()
    latest = [run.requested_at, run.dispatched_at, run.started_at]
    if run.status == SyncRun.Status.RUNNING:
        latest.append(run.assignments.aggregate(at=Max("send_started_at"))["at"])
        latest.append(run.grades.aggregate(at=Max("sent_at"))["at"])
    return max(at for at in latest if at is not None) < now - STALLED_AFTER
