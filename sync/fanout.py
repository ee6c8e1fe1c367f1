"""Queue the steps of a fanned-out run: one django-q2 task per course, section or run start."""

from typing import Any


def enqueue(task: str, *args: Any, group: str, interactive: bool = False) -> str:
    """Queue ``sync.tasks.<task>(*args)``; ``interactive`` when a person is waiting for it, so
    workers take it before scheduled bulk work (sync/lanes.py).

    Its outcome is recorded on our own rows (ImportRun, SyncRun and their outcomes), so django-q2
    keeps no record of its success: with a save limit, django-q2 reads every kept success each
    time it saves one, which at thousands of steps a night costs more than the steps. A failed
    step is still kept, under Failed tasks in the admin.
    """
    from django_q.tasks import async_task

    from sync.lanes import interactive_queue

    lane = {"cluster": interactive_queue()} if interactive else {}
    return async_task(f"sync.tasks.{task}", *args, group=group, save=False, **lane)
