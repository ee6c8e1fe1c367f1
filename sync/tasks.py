"""django-q2 entry points: ids and flags in, one service call, a short result out."""

from sync.bulk import relaxed_commits
from sync.fanout import enqueue
from sync.importer import import_close_stalled, import_course_in_run, import_stalled, import_start
from sync.models import ImportRun, SyncRun


def import_canvas(*, full: bool = False) -> str:
    """Scheduled import of the whole district: lists it, then fans out one task per course.
    An import still going is left alone; one that has stalled is closed first."""
    closed = []
    for running in ImportRun.objects.filter(status=ImportRun.Status.RUNNING).order_by("pk"):
        if not import_stalled(running):
            return f"skipped: import #{running.pk} is still running"
        closed.append(import_close_stalled(running).pk)
    run = import_start(full=full, requested_by="schedule")
    summary = f"import #{run.pk} started: {run.courses_total} courses queued"
    if closed:
        summary += f"; stalled import(s) {', '.join(f'#{pk}' for pk in closed)} closed"
    return summary


def import_course(run_id: int, item: dict) -> str:
    """One course of a fanned-out import (safe to retry: the course is re-read and upserted)."""
    run = import_course_in_run(run_id=run_id, item=item)
    return f"import #{run.pk}: {run.courses_done + run.courses_failed}/{run.courses_total} courses"


def passback_start(run_id: int, dispatch: int | None = None) -> str:
    """Plan a queued passback run, or resume a running one, then fan out one task per section
    with grades to send. A task the run was queued again after (a later ``dispatch``) does
    nothing; ``None`` is a task queued before runs had dispatch numbers."""
    from sync.passback import (
        OneRosterError,
        PassbackNotConfigured,
        passback_finish,
        passback_plan,
        pending_sections,
        sis_client,
    )

    run = SyncRun.objects.get(pk=run_id)
    if run.finished_at:
        return f"passback #{run_id} already {run.status}"
    if dispatch is not None and dispatch != run.dispatch:
        return f"passback #{run_id}: queued again since, this task is superseded"
    try:
        with sis_client() as client, relaxed_commits():
            if run.status == SyncRun.Status.QUEUED and not passback_plan(run=run, client=client):
                return f"passback #{run_id}: planned by another task, or queued again since"
    except (PassbackNotConfigured, OneRosterError) as exc:
        return f"passback #{run_id} {passback_finish(run_id, error=exc).status}: {exc}"
    sections = pending_sections(run_id)
    for section_id in sections:
        enqueue(
            "passback_section",
            run_id,
            section_id,
            run.dispatch,
            group=f"passback-{run_id}",
            interactive=not run.scheduled,
        )
    run = passback_finish(run_id)
    return f"passback #{run_id} {run.status}: {len(sections)} sections queued"


def passback_section(run_id: int, section_id: int, dispatch: int | None = None) -> str:
    """Send one section's pending grades of a run (safe to run twice: only pending ones go);
    nothing when the run was queued again after this task (a later ``dispatch``)."""
    from sync.passback import PassbackNotConfigured, passback_finish, sis_client
    from sync.passback_send import RunStopped, section_send

    try:
        with sis_client() as client, relaxed_commits():
            section_send(run_id=run_id, section_id=section_id, client=client, dispatch=dispatch)
    except (PassbackNotConfigured, RunStopped) as exc:
        return f"passback #{run_id} {passback_finish(run_id, error=exc).status}: {exc}"
    run = passback_finish(run_id)
    return f"passback #{run_id} section {section_id} sent; run {run.status}"


def passback_district(course_ids: list[int] | None = None) -> str:
    """Nightly: request a passback run for every course (or these) that may have something to
    send; a course unchanged since its last clean run is skipped (sync/passback_changes.py)."""
    from django.conf import settings

    from sync.passback import passback_request
    from sync.passback_changes import courses_changed, passback_courses
    from sync.passback_queue import run_dispatch, run_stalled

    if not settings.SIS_BASE_URL:
        return "skipped: SIS_BASE_URL is not set"
    candidates = list(passback_courses())
    if course_ids is not None:
        wanted = set(course_ids)
        candidates = [cid for cid in candidates if cid in wanted]
    # A run that lost its tasks with their worker would keep its course from syncing, changed
    # or not: it is queued again, where it stopped.
    stalled = [
        run_dispatch(run, interactive=not run.scheduled)
        for run in SyncRun.objects.filter(status__in=SyncRun.ACTIVE, course_id__in=candidates)
        if run_stalled(run)
    ]
    changed = courses_changed(candidates)
    created = sum(
        passback_request(course_id=cid, requested_by="nightly schedule", scheduled=True)[1]
        for cid in changed
    )
    unchanged = len(candidates) - len(changed)
    summary = f"{created} passback runs queued; {unchanged} courses unchanged since their last run"
    if stalled:
        summary += f"; {len(stalled)} stalled runs queued again"
    return summary


def compliance_report_scheduled(schedule_id: int) -> str:
    """A report schedule's run: build its report(s), keep them, e-mail each recipient."""
    from sync.reports import report_schedule_run

    return report_schedule_run(schedule_id=schedule_id)


def report_deliveries_retry() -> str:
    """Send again the report deliveries whose retry is due (scheduled once per pending retry)."""
    from sync.reports import deliveries_retry

    summary = deliveries_retry()
    return f"report deliveries retried: {summary.line()}" if summary.attempted else "nothing due"
