"""Fixtures of the queueing tests (lanes, runs queued again)."""

import pytest
from django_q.conf import Conf

from sync.importer import district_import
from tests.sync.passback_setup import fake_sis_configured, recent_district


@pytest.fixture
def queued(monkeypatch):
    """Tasks go to the database broker instead of running inline (as the test settings do)."""
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", "default")
    monkeypatch.setattr(Conf, "BROKER_CLASS", "sync.lanes.OrmLanes")


@pytest.fixture
def imported_with_sis(settings, monkeypatch):
    """The small district imported, every grade recent, and an in-memory IC configured."""
    sis = fake_sis_configured(settings, monkeypatch)
    district_import(client=recent_district(), concurrency=1, full=True)
    return sis
