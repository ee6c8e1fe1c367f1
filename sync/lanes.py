"""Two lanes on each django-q2 queue: work a person is waiting for goes before scheduled bulk work.

A scheduled import queues one task per course, and the nightly passback one per course and
section: thousands at once. django-q2 hands tasks out first in, first out, so a teacher's
*Post Grades* queued behind them would wait until the whole district had gone through. Every
worker therefore takes from the interactive lane first and from the bulk lane (the queue
django-q2 already has) only when no one is waiting. Both lanes live in the broker the cluster
already uses (the database, or Redis), so no extra worker or setting is needed.
"""

from time import sleep

from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf

LANE_SUFFIX = ".interactive"


def interactive_queue(queue: str | None = None) -> str:
    """The interactive lane of a queue (of this process's cluster when none is given)."""
    queue = queue or Conf.CLUSTER_NAME
    return queue if queue.endswith(LANE_SUFFIX) else queue + LANE_SUFFIX


def _lanes(queue: str | None) -> list[str]:
    """The queues a cluster named ``queue`` takes from, in order."""
    queue = queue or Conf.CLUSTER_NAME
    return [queue] if queue.endswith(LANE_SUFFIX) else [interactive_queue(queue), queue]


class RedisLanes(Redis):
    """django-q2's Redis broker; a worker's wait covers both lanes (BLPOP takes from the first
    key in the list that holds a task)."""

    def __init__(self, list_key: str | None = None) -> None:
        super().__init__(list_key)
        self.lane_keys = [f"django_q:{queue}:q" for queue in _lanes(list_key)]

    def dequeue(self) -> list[tuple[None, bytes]] | None:
        task = self.connection.blpop(self.lane_keys, 1)
        if task:
            return [(None, task[1])]
        return None


class OrmLanes(ORM):
    """django-q2's database broker; a poll looks at the interactive lane, then the bulk one,
    each first in, first out."""

    def __init__(self, list_key: str | None = None) -> None:
        super().__init__(list_key)
        self.lanes = _lanes(list_key)

    def dequeue(self) -> list[tuple[int, str]] | None:
        for queue in self.lanes:
            ready = self.get_connection().filter(key=queue, lock__lt=timezone.now())
            claimed = [
                (task.pk, task.payload)
                for task in ready.order_by("id")[: Conf.BULK]
                # Another cluster may have claimed it since: its lock has moved on.
                if self.get_connection()
                .filter(id=task.id, lock=task.lock)
                .update(lock=self.timeout(task))
            ]
            if claimed:
                return claimed
        sleep(Conf.POLL)  # both lanes empty: spare the database
        return None
