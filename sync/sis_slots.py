"""District-wide bound on requests in flight to Infinite Campus (``SIS_MAX_CONCURRENCY``).

Passback sends from any number of django-q2 workers on any number of hosts; what they share is
the database. Each sender leases permits (``SisSlot`` rows) before sending and runs one request
at a time per permit. A lease lasts ``LEASE`` and is renewed while the sender works, so a worker
killed mid-send frees its permits by itself within that time.
"""

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from sync.models import SisSlot

LEASE = timedelta(seconds=60)
RENEW_EVERY = 15.0  # seconds; well inside the lease
WAIT_STEP = 0.2  # seconds between attempts while every permit is taken


class Permits:
    """The permits one sender holds; ``count`` is how many requests it may have in flight."""

    def __init__(self, holder: str, numbers: list[int]) -> None:
        self.holder = holder
        self.numbers = numbers
        self._renewed = time.monotonic()

    @property
    def count(self) -> int:
        return len(self.numbers)

    def pool(self) -> Executor:
        """Where to run the requests: a thread per permit, or this thread when there is one
        permit (handing each request to a single other thread only costs thread switches)."""
        if self.count > 1:
            return ThreadPoolExecutor(max_workers=self.count)
        return InlineExecutor(after_each=self.keep)  # callers may submit many before waiting

    def keep(self) -> None:
        """Renew the lease when due; cheap to call after every request."""
        if time.monotonic() - self._renewed < RENEW_EVERY:
            return
        SisSlot.objects.filter(number__in=self.numbers, holder=self.holder).update(
            lease_until=timezone.now() + LEASE
        )
        self._renewed = time.monotonic()


class InlineExecutor(Executor):
    """Runs each submitted call at once in the caller's thread; returns it as a done Future.
    ``after_each`` runs after every call (to renew a lease while a long batch is submitted)."""

    def __init__(self, after_each: Callable[[], None] = lambda: None) -> None:
        self._after_each = after_each

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future, as a pool does
            future.set_exception(exc)
        self._after_each()
        return future


def permits_total() -> int:
    return max(1, settings.SIS_MAX_CONCURRENCY)


def permits_per_sender() -> int:
    """What one sender may take: an even share between the task workers of one host."""
    workers = max(1, int(settings.Q_CLUSTER.get("workers", 1) or 1))
    return max(1, -(-permits_total() // workers))


@contextmanager
def sis_permits(
    *, want: int | None = None, sleep: Callable[[float], None] = time.sleep
) -> Iterator[Permits]:
    """Hold between one and ``want`` permits (default ``permits_per_sender()``) for the block;
    waits while every permit is taken by other senders."""
    want = min(want or permits_per_sender(), permits_total())
    holder = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"
    numbers = _lease(holder, want)
    while not numbers:
        # Nothing free: the permits may not exist yet (or the setting grew), or a dead process
        # of this host may hold them. Only then are those checked: senders lease all night.
        _slots_ensure()
        _release_dead_holders()
        numbers = _lease(holder, want)
        if not numbers:
            sleep(WAIT_STEP)
    try:
        yield Permits(holder, numbers)
    finally:
        SisSlot.objects.filter(holder=holder).update(holder="", lease_until=None)


def _slots_ensure() -> None:
    """Make sure permits 0..total-1 exist (the setting may have grown since the last run)."""
    total = permits_total()
    if SisSlot.objects.filter(number__lt=total).count() == total:
        return
    for number in range(total):
        try:
            with transaction.atomic():
                SisSlot.objects.get_or_create(number=number)
        except IntegrityError:  # another sender created it at the same moment
            pass


def _lease(holder: str, want: int) -> list[int]:
    """Take up to ``want`` free permits; each is claimed by a conditional UPDATE, so two
    senders can never hold the same one."""
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    candidates = list(
        SisSlot.objects.filter(free, number__lt=permits_total()).values_list("number", flat=True)
    )
    taken = []
    for number in candidates:
        if len(taken) >= want:
            break
        claimed = SisSlot.objects.filter(free, number=number).update(
            holder=holder, lease_until=now + LEASE
        )
        if claimed:
            taken.append(number)
    return taken


def _release_dead_holders() -> None:
    """Free at once the permits of processes of this host that no longer exist (a worker
    restarted after a crash need not wait for their leases to run out)."""
    host = socket.gethostname()
    held = SisSlot.objects.filter(holder__startswith=f"{host}:", lease_until__isnull=False)
    for number, holder in held.values_list("number", "holder"):
        pid = int(holder.split(":")[1]) if holder.split(":")[1].isdigit() else None
        if pid is None or _process_alive(pid):
            continue
        SisSlot.objects.filter(number=number, holder=holder).update(holder="", lease_until=None)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    try:
        # A killed worker whose parent died too may linger as a zombie until init reaps it.
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
