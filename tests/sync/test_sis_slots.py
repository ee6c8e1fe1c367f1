"""IC request permits: the SIS_MAX_CONCURRENCY bound held across every sender."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from sync.models import SisSlot
from sync.sis_slots import sis_permits

pytestmark = pytest.mark.django_db


def test_a_sender_takes_its_share_of_the_permits(settings):
    settings.SIS_MAX_CONCURRENCY = 4
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "workers": 2}

    with sis_permits() as permits:
        assert permits.count == 2
        assert SisSlot.objects.filter(lease_until__isnull=False).count() == 2

    assert not SisSlot.objects.filter(lease_until__isnull=False).exists()


def test_senders_together_never_hold_more_than_the_bound(settings):
    settings.SIS_MAX_CONCURRENCY = 3

    with sis_permits(want=2) as first, sis_permits(want=2) as second:
        assert (first.count, second.count) == (2, 1)
        assert set(first.numbers).isdisjoint(second.numbers)


def test_a_sender_waits_while_every_permit_is_taken(settings):
    settings.SIS_MAX_CONCURRENCY = 1
    waits = []

    with sis_permits() as held:

        def release_after_two_waits(seconds: float) -> None:
            waits.append(seconds)
            if len(waits) == 2:
                SisSlot.objects.filter(holder=held.holder).update(holder="", lease_until=None)

        with sis_permits(sleep=release_after_two_waits) as second:
            assert second.count == 1

    assert len(waits) == 2


def test_an_expired_lease_frees_its_permit(settings):
    settings.SIS_MAX_CONCURRENCY = 1
    SisSlot.objects.create(
        number=0, holder="gone-host:1:1:x", lease_until=timezone.now() - timedelta(seconds=1)
    )

    with sis_permits(sleep=pytest.fail) as permits:
        assert permits.numbers == [0]


def test_a_permit_of_a_dead_process_on_this_host_is_freed_at_once(settings):
    import socket
    import subprocess

    settings.SIS_MAX_CONCURRENCY = 1
    child = subprocess.Popen(["true"])
    child.wait()
    SisSlot.objects.create(
        number=0,
        holder=f"{socket.gethostname()}:{child.pid}:1:x",
        lease_until=timezone.now() + timedelta(minutes=1),
    )

    with sis_permits(sleep=pytest.fail) as permits:
        assert permits.numbers == [0]


def test_a_live_lease_elsewhere_is_respected(settings):
    settings.SIS_MAX_CONCURRENCY = 2
    SisSlot.objects.create(
        number=0, holder="other-host:1:1:x", lease_until=timezone.now() + timedelta(minutes=1)
    )

    with sis_permits(want=2, sleep=pytest.fail) as permits:
        assert permits.numbers == [1]


@pytest.mark.django_db(transaction=True)
def test_threads_of_one_process_share_the_bound(settings):
    settings.SIS_MAX_CONCURRENCY = 2
    inside, peak, lock = [0], [0], threading.Lock()

    def sender() -> None:
        from django.db import connection

        try:
            with sis_permits(want=1, sleep=lambda s: threading.Event().wait(0.01)):
                with lock:
                    inside[0] += 1
                    peak[0] = max(peak[0], inside[0])
                threading.Event().wait(0.05)
                with lock:
                    inside[0] -= 1
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert peak[0] <= 2


def test_one_permit_sends_in_the_callers_thread_and_renews_its_lease_while_it_does(
    settings, monkeypatch
):
    from sync import sis_slots

    settings.SIS_MAX_CONCURRENCY = 1
    ran_in = []
    with sis_permits() as permits, permits.pool() as pool:
        monkeypatch.setattr(sis_slots, "RENEW_EVERY", 0.0)  # every call is past due
        SisSlot.objects.update(lease_until=timezone.now() + timedelta(seconds=1))
        futures = [
            pool.submit(lambda n: (ran_in.append(threading.get_ident()), n)[1], n) for n in range(3)
        ]
        renewed_until = SisSlot.objects.get(number=permits.numbers[0]).lease_until

        with pytest.raises(ZeroDivisionError):  # a failure comes back through its future
            pool.submit(lambda: 1 / 0).result()

    assert [f.result() for f in futures] == [0, 1, 2]
    assert set(ran_in) == {threading.get_ident()}
    assert renewed_until > timezone.now() + timedelta(seconds=30)
