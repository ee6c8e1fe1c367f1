"""What the database broker holds, for the tests of lanes and of queueing runs again."""

import redis
from django_q.models import OrmQ


def queue_down(*args, **kwargs):
    """Stands in for django-q2's async_task while Redis refuses connections."""
    raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def lanes_of_queued_tasks() -> list[str]:
    return list(OrmQ.objects.order_by("id").values_list("key", flat=True))


def queued_tasks() -> list[tuple[str, tuple, str]]:
    """(function, arguments, lane) of every queued task, oldest first."""
    return [(q.func(), tuple(q.args()), q.key) for q in OrmQ.objects.order_by("id")]
