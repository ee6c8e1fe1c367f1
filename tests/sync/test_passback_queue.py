"""Queueing a run again: a person's request moves a queued nightly run ahead, a stalled run is
resumed, and tasks queued before a run was queued again do nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sync import passback_send
from sync.models import AssignmentOutcome, GradeOutcome, SyncRun
from sync.passback import passback_plan, passback_request, passback_retry
from sync.passback_queue import (
    STALLED_AFTER,
    QueueUnavailable,
    run_dispatch,
    run_joined,
    run_stalled,
)
from sync.tasks import passback_district, passback_section, passback_start
from tests.sync.queued_tasks import queue_down, queued_tasks

pytestmark = pytest.mark.django_db

START = "sync.tasks.passback_start"


def nightly_run(course_id: int = 100) -> SyncRun:
    passback_district()
    return SyncRun.objects.get(course_id=course_id)


def planned(run: SyncRun) -> SyncRun:
    """The run planned by its start task, as a worker runs it; what it fanned out is dropped."""
    passback_start(run.pk, run.dispatch)
    from django_q.models import OrmQ

    OrmQ.objects.all().delete()
    run.refresh_from_db()
    return run


def backdate(run: SyncRun, by: timedelta) -> None:
    """Make everything the run did happen ``by`` earlier."""
    SyncRun.objects.filter(pk=run.pk).update(
        requested_at=run.requested_at - by,
        started_at=run.started_at - by if run.started_at else None,
    )
    AssignmentOutcome.objects.filter(run=run, send_started_at__isnull=False).update(
        send_started_at=timezone.now() - by
    )
    GradeOutcome.objects.filter(run=run, sent_at__isnull=False).update(sent_at=timezone.now() - by)
    run.refresh_from_db()


def test_a_person_asking_for_a_nightly_run_still_queued_moves_it_ahead(imported_with_sis, queued):
    run = nightly_run()
    assert (run.scheduled, run.dispatch) == (True, 1)

    joined, created = passback_request(course_id=100, requested_by="teacher")

    assert (joined.pk, created) == (run.pk, False)
    run.refresh_from_db()
    assert (run.scheduled, run.dispatch) == (False, 2)
    assert queued_tasks()[-1] == (START, (run.pk, 2), "gpb.interactive")


def test_the_start_task_a_run_was_queued_again_after_does_nothing(imported_with_sis, queued):
    run = nightly_run()
    passback_request(course_id=100, requested_by="teacher")

    assert "superseded" in passback_start(run.pk, 1)
    assert not AssignmentOutcome.objects.filter(run=run).exists()

    passback_start(run.pk, 2)
    run.refresh_from_db()
    assert run.status == "running" and AssignmentOutcome.objects.filter(run=run).exists()


def test_a_plan_that_another_task_finished_first_writes_nothing(imported_with_sis, queued):
    run, _ = passback_request(course_id=100, requested_by="teacher")
    as_first_seen = SyncRun.objects.get(pk=run.pk)  # the second task read it while queued
    planned(run)
    pairs = AssignmentOutcome.objects.filter(run=run).count()

    assert passback_plan(run=as_first_seen, client=imported_with_sis) is False
    assert AssignmentOutcome.objects.filter(run=run).count() == pairs


def test_a_section_task_queued_before_the_run_was_queued_again_sends_nothing(
    imported_with_sis, queued
):
    run = planned(passback_request(course_id=100, requested_by="teacher")[0])
    section_id = AssignmentOutcome.objects.filter(run=run).values_list("section_id", flat=True)[0]
    run_dispatch(run, interactive=True)  # e.g. a retry: the run is now dispatch 2

    passback_section(run.pk, section_id, 1)
    assert not GradeOutcome.objects.filter(run=run, status="posted").exists()

    passback_section(run.pk, section_id, 2)
    assert GradeOutcome.objects.filter(run=run, status="posted").exists()


def test_a_run_is_stalled_only_after_hours_without_progress(imported_with_sis, queued):
    run = planned(passback_request(course_id=100, requested_by="teacher")[0])
    assert not run_stalled(run)

    backdate(run, STALLED_AFTER - timedelta(minutes=5))
    assert not run_stalled(run)
    backdate(run, timedelta(minutes=10))
    assert run_stalled(run)

    # A grade sent a minute ago is progress, however old the run is.
    GradeOutcome.objects.filter(run=run).update(sent_at=timezone.now() - timedelta(minutes=1))
    assert not run_stalled(run)


def test_the_nightly_run_queues_again_a_run_whose_tasks_were_lost(imported_with_sis, queued):
    run = planned(nightly_run())  # planned, then its worker died with the section tasks
    backdate(run, STALLED_AFTER + timedelta(minutes=1))

    summary = passback_district()

    assert "1 stalled runs queued again" in summary
    run.refresh_from_db()
    assert run.dispatch == 2 and run.scheduled
    assert (START, (run.pk, 2), "gpb") in queued_tasks()
    assert SyncRun.objects.filter(course_id=100).count() == 1  # resumed, not requested anew


def test_a_running_run_with_recent_progress_is_joined_and_left_alone(imported_with_sis, queued):
    run = planned(passback_request(course_id=100, requested_by="teacher")[0])

    joined, created = passback_request(course_id=100, requested_by="another teacher")
    passback_district()

    assert (joined.pk, created) == (run.pk, False)
    run.refresh_from_db()
    assert run.dispatch == 1
    assert not [task for task in queued_tasks() if task[1][0] == run.pk]


def test_a_person_asking_for_a_stalled_run_resumes_it_ahead_of_scheduled_work(
    imported_with_sis, queued
):
    run = planned(nightly_run())
    backdate(run, STALLED_AFTER + timedelta(minutes=1))

    passback_request(course_id=100, requested_by="teacher")

    run.refresh_from_db()
    assert (run.dispatch, run.scheduled) == (2, False)
    assert queued_tasks() == [(START, (run.pk, 2), "gpb.interactive")]
    passback_start(run.pk, 2)  # resumes: fans out the pending sections, nothing planned again
    sections = {args[1] for func, args, _ in queued_tasks() if func.endswith("passback_section")}
    assert sections == set(
        AssignmentOutcome.objects.filter(run=run, status="pending").values_list(
            "section_id", flat=True
        )
    )


def test_retrying_a_run_whose_start_task_was_lost_queues_it_again(imported_with_sis, queued):
    run, _ = passback_request(course_id=100, requested_by="teacher")
    from django_q.models import OrmQ

    OrmQ.objects.all().delete()  # the worker holding it died

    retried = passback_retry(run_id=run.pk, requested_by="admin")

    assert (retried.pk, retried.dispatch) == (run.pk, 2)
    assert queued_tasks() == [(START, (run.pk, 2), "gpb.interactive")]
    passback_start(run.pk, 2)
    assert AssignmentOutcome.objects.filter(run=run).exists()


def section_tasks() -> dict[int, tuple[int, str]]:
    """Queued section tasks: section id -> (dispatch, lane)."""
    return {
        args[1]: (args[2], lane)
        for func, args, lane in queued_tasks()
        if func.endswith("passback_section")
    }


def test_a_person_joining_a_running_nightly_run_moves_its_sections_not_begun_ahead(
    imported_with_sis, queued
):
    run = nightly_run()
    passback_start(run.pk, 1)  # planned; its sections wait in the bulk lane
    waiting = section_tasks()
    assert len(waiting) >= 2 and {lane for _, lane in waiting.values()} == {"gpb"}
    being_sent = min(waiting)  # a worker has begun this one and is sending it
    AssignmentOutcome.objects.filter(run=run, section_id=being_sent).update(
        send_started_at=timezone.now()
    )

    passback_request(course_id=100, requested_by="teacher")

    run.refresh_from_db()
    assert (run.dispatch, run.scheduled) == (2, False)
    moved = {section: task for section, task in section_tasks().items() if task[0] == 2}
    assert moved == {
        section: (2, "gpb.interactive") for section in waiting if section != being_sent
    }

    other = next(iter(moved))
    passback_section(run.pk, other, 1)  # its old task comes up in the bulk lane: nothing sent
    assert not GradeOutcome.objects.filter(
        run=run, assignment_outcome__section_id=other, status="posted"
    ).exists()
    passback_section(run.pk, other, 2)
    assert GradeOutcome.objects.filter(
        run=run, assignment_outcome__section_id=other, status="posted"
    ).exists()


def test_a_section_begun_before_a_person_moves_the_run_ahead_is_finished_by_its_own_task(
    imported_with_sis, queued, monkeypatch
):
    run = nightly_run()
    passback_start(run.pk, 1)
    section = min(section_tasks())
    begin = passback_send._begin

    def begun_then_a_teacher_asks(*args):
        began = begin(*args)
        passback_request(course_id=100, requested_by="teacher")  # while this task sends
        return began

    monkeypatch.setattr(passback_send, "_begin", begun_then_a_teacher_asks)
    passback_section(run.pk, section, 1)

    run.refresh_from_db()
    assert run.dispatch == 2
    assert section not in {s for s, (dispatch, _) in section_tasks().items() if dispatch == 2}
    assert GradeOutcome.objects.filter(
        run=run, assignment_outcome__section_id=section, status="posted"
    ).exists()
    assert not AssignmentOutcome.objects.filter(
        run=run, section_id=section, status="pending"
    ).exists()


def test_a_run_the_task_queue_does_not_take_is_closed_and_does_not_hold_its_course(
    imported_with_sis, queued, monkeypatch
):
    monkeypatch.setattr("django_q.tasks.async_task", queue_down)
    with pytest.raises(QueueUnavailable, match="Nothing was sent. Try again in a minute"):
        passback_request(course_id=100, requested_by="teacher")
    run = SyncRun.objects.get()
    assert run.status == "failed" and run.finished_at and "ConnectionError" in run.message

    monkeypatch.undo()
    fresh, created = passback_request(course_id=100, requested_by="teacher")
    assert created and fresh.pk != run.pk


def test_a_nightly_run_not_moved_ahead_for_a_queue_down_goes_on_in_its_lane(
    imported_with_sis, queued, monkeypatch
):
    run = nightly_run()
    monkeypatch.setattr("django_q.tasks.async_task", queue_down)

    joined, created = passback_request(course_id=100, requested_by="teacher")

    assert (joined.pk, created) == (run.pk, False)
    run.refresh_from_db()
    assert (run.dispatch, run.scheduled, run.status) == (1, True, "queued")


def test_a_stalled_run_the_queue_does_not_take_again_keeps_the_tasks_it_had(
    imported_with_sis, queued, monkeypatch
):
    run = planned(passback_request(course_id=100, requested_by="teacher")[0])
    backdate(run, STALLED_AFTER + timedelta(minutes=1))
    monkeypatch.setattr("django_q.tasks.async_task", queue_down)

    with pytest.raises(QueueUnavailable):
        passback_request(course_id=100, requested_by="teacher")

    run.refresh_from_db()
    assert run.dispatch == 1 and run.status == "running"


def test_moving_a_run_ahead_goes_by_what_it_is_now_not_what_the_request_read(
    imported_with_sis, queued
):
    run = nightly_run()
    as_read = SyncRun.objects.get(pk=run.pk)  # the request read it while it was queued
    passback_start(run.pk, 1)  # then a worker planned it, and began sending one section
    section = min(section_tasks())
    AssignmentOutcome.objects.filter(run=run, section_id=section).update(
        send_started_at=timezone.now()
    )

    run_joined(as_read, scheduled=False)

    moved = [(func, args) for func, args, _ in queued_tasks() if args[-1] == 2]
    assert moved and all(func.endswith("passback_section") for func, _ in moved)
    assert section not in {args[1] for _, args in moved}
