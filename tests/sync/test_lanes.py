"""Work a person waits for goes before scheduled bulk work, on the database broker and on Redis."""

import os
import socket
import uuid

import pytest
from django_q.conf import Conf
from django_q.models import OrmQ, Task

from sync.lanes import OrmLanes, RedisLanes, interactive_queue
from sync.models import SyncRun
from sync.passback import passback_request, passback_retry
from sync.tasks import passback_district, passback_start
from tests.sync.qcluster import kill, start_worker, wait_for
from tests.sync.queued_tasks import lanes_of_queued_tasks

REDIS = ("127.0.0.1", 6379)


def redis_reachable() -> bool:
    try:
        socket.create_connection(REDIS, timeout=0.5).close()
        return True
    except OSError:
        return False


def test_the_interactive_lane_of_a_queue_is_named_after_it():
    assert interactive_queue("gpb") == "gpb.interactive"
    assert interactive_queue("gpb.interactive") == "gpb.interactive"
    assert interactive_queue() == f"{Conf.CLUSTER_NAME}.interactive"


@pytest.mark.django_db
def test_a_worker_takes_interactive_tasks_first_then_bulk_ones_in_order(queued):
    bulk, interactive = OrmLanes("gpb"), OrmLanes(interactive_queue("gpb"))
    for payload in ("bulk 1", "bulk 2"):
        bulk.enqueue(payload)
    interactive.enqueue("teacher 1")
    bulk.enqueue("bulk 3")
    interactive.enqueue("teacher 2")

    worker = OrmLanes("gpb")
    taken = []
    while task := worker.dequeue():
        taken += [payload for _, payload in task]
        worker.acknowledge(task[0][0])
    assert taken == ["teacher 1", "teacher 2", "bulk 1", "bulk 2", "bulk 3"]


@pytest.mark.django_db
def test_a_task_another_cluster_holds_is_not_taken_again(queued):
    OrmLanes(interactive_queue("gpb")).enqueue("teacher")
    first, second = OrmLanes("gpb"), OrmLanes("gpb")
    assert [payload for _, payload in first.dequeue()] == ["teacher"]
    assert second.dequeue() is None  # locked until Q_RETRY: handed out once


@pytest.mark.skipif(
    not redis_reachable() and not os.environ.get("GPB_REQUIRE_REDIS"),
    reason="no Redis on 127.0.0.1:6379 (CI sets GPB_REQUIRE_REDIS and runs it)",
)
def test_on_redis_a_worker_takes_interactive_tasks_first(monkeypatch):
    monkeypatch.setattr(Conf, "REDIS", "redis://127.0.0.1:6379/15")
    queue = f"lanes-test-{uuid.uuid4().hex}"  # this test's own lists
    bulk, interactive = RedisLanes(queue), RedisLanes(interactive_queue(queue))
    try:
        bulk.enqueue("bulk 1")
        bulk.enqueue("bulk 2")
        interactive.enqueue("teacher")
        worker = RedisLanes(queue)
        taken = [worker.dequeue()[0][1] for _ in range(3)]
        assert taken == [b"teacher", b"bulk 1", b"bulk 2"]
        assert worker.dequeue() is None  # both empty: waited a second, got nothing
    finally:
        bulk.delete_queue()
        interactive.delete_queue()


@pytest.mark.django_db
def test_a_run_a_person_asks_for_and_its_sections_go_in_the_interactive_lane(
    imported_with_sis, queued
):
    run, _ = passback_request(course_id=100, requested_by="teacher")
    assert not run.scheduled
    assert lanes_of_queued_tasks() == ["gpb.interactive"]
    OrmQ.objects.all().delete()

    passback_start(run.pk)  # as the worker runs it: plans, then fans out its sections
    lanes = lanes_of_queued_tasks()
    assert len(lanes) >= 2
    assert set(lanes) == {"gpb.interactive"}


@pytest.mark.django_db
def test_the_nightly_runs_and_their_sections_go_in_the_bulk_lane(imported_with_sis, queued):
    passback_district()
    runs = list(SyncRun.objects.all())
    assert runs and all(run.scheduled for run in runs)
    assert set(lanes_of_queued_tasks()) == {"gpb"}
    OrmQ.objects.all().delete()

    passback_start(runs[0].pk)
    assert set(lanes_of_queued_tasks()) == {"gpb"}


@pytest.mark.django_db
def test_retrying_a_nightly_run_that_stalled_moves_what_is_left_to_the_interactive_lane(
    imported_with_sis, queued
):
    passback_district()
    run = SyncRun.objects.order_by("pk").first()
    passback_start(run.pk)  # planned and fanned out; say its worker then died
    OrmQ.objects.all().delete()

    passback_retry(run_id=run.pk, requested_by="admin")
    run.refresh_from_db()
    assert not run.scheduled
    assert lanes_of_queued_tasks() == ["gpb.interactive"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_real_worker_runs_a_task_queued_after_a_backlog_of_bulk_ones_first():
    from django_q.tasks import async_task

    backlog = [
        async_task("time.sleep", 0.2, group="bulk", sync=False, cluster="gpb") for _ in range(8)
    ]
    teacher = async_task("time.sleep", 0, group="teacher", sync=False, cluster="gpb.interactive")
    worker = start_worker()
    try:
        assert wait_for(lambda: Task.objects.filter(group="bulk").count() == 8, timeout=90), (
            "the worker did not run the backlog"
        )
    finally:
        kill(worker)
    done = dict(Task.objects.values_list("id", "stopped"))
    assert set(done) == {teacher, *backlog}
    assert done[teacher] < min(done[task] for task in backlog)
