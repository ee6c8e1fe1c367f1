"""The small fake district with every grade recent, and an in-memory Infinite Campus wired into
the settings: what the passback tests (and the teacher page tests) start from."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.sync.fake_sis import FakeSis
from tests.sync.fakes import FakeCanvas, small_district

RECENT = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
CLASSES = ["SIS-S101", "SIS-S102", "SIS-S201", "SIS-S202"]


def recent_district() -> FakeCanvas:
    """small_district() with every grade graded two days ago (inside the sync window)."""
    fake = small_district()
    for data in fake.course_data.values():
        for sub in data["submissions"]:
            sub["graded_at"] = RECENT
    return fake


def fake_sis_configured(settings, monkeypatch: pytest.MonkeyPatch) -> FakeSis:
    """An in-memory IC with "Homework" and "Tests" in every class, used by every passback."""
    settings.SIS_BASE_URL = "https://ic.example/ims/oneroster/gradebook/v1p2"
    settings.SIS_TOKEN_URL = "https://ic.example/token"
    settings.SIS_CLIENT_ID = settings.SIS_CLIENT_SECRET = "x"
    fake = FakeSis({cls: ["Homework", "Tests"] for cls in CLASSES})
    monkeypatch.setattr("sync.passback.sis_client", lambda: fake)
    return fake
