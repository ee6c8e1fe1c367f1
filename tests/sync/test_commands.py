"""The import_canvas and setup_schedules commands."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_q.models import Schedule

from courses.models import Submission
from sync.canvas import CanvasError
from tests.sync.fakes import small_district

pytestmark = pytest.mark.django_db


@pytest.fixture
def canvas(monkeypatch):
    fake = small_district()
    monkeypatch.setattr("sync.importer._import_client", lambda: fake)
    return fake


def test_import_canvas_prints_a_summary_of_what_it_imported(canvas):
    out = StringIO()
    call_command("import_canvas", "--full", "--concurrency", "1", stdout=out)

    text = out.getvalue()
    assert "(full) succeeded" in text
    assert "2 of 2 courses imported, 0 failed" in text
    assert "submissions 24" in text
    assert Submission.objects.count() == 24


def test_import_canvas_json_prints_one_object(canvas):
    out = StringIO()
    call_command("import_canvas", "--json", "--concurrency", "1", stdout=out)

    summary = json.loads(out.getvalue())
    assert summary["status"] == "succeeded"
    assert summary["kind"] == "incremental"
    assert summary["courses"] == {"total": 2, "imported": 2, "failed": 0}
    assert summary["counts"]["submissions"] == 24


def test_import_canvas_imports_only_the_courses_asked_for(canvas):
    out = StringIO()
    call_command("import_canvas", "--course", "200", "--json", "--concurrency", "1", stdout=out)

    assert json.loads(out.getvalue())["courses"]["total"] == 1
    assert set(Submission.objects.values_list("course_id", flat=True)) == {200}


def test_import_canvas_fails_with_a_one_line_reason_when_the_token_is_rejected(canvas):
    canvas.errors[("sub_accounts", None)] = CanvasError(
        "Canvas rejected the access token (HTTP 401): check CANVAS_TOKEN", kind="auth"
    )
    with pytest.raises(CommandError, match="CANVAS_TOKEN"):
        call_command("import_canvas", stdout=StringIO())


def test_import_canvas_fails_when_a_course_could_not_be_imported(canvas):
    canvas.course_data[100]["assignments"][0].pop("id")
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 2 courses failed"):
        call_command("import_canvas", "--concurrency", "1", stdout=out)
    assert "course 100: Canvas sent an assignment without a valid id" in out.getvalue()


def test_setup_schedules_is_idempotent():
    call_command("setup_schedules", stdout=StringIO())
    first = list(Schedule.objects.order_by("name").values("name", "func", "cron", "kwargs"))
    out = StringIO()
    call_command("setup_schedules", stdout=out)

    assert list(Schedule.objects.order_by("name").values("name", "func", "cron", "kwargs")) == first
    assert "up to date" in out.getvalue()
    assert {s["name"] for s in first} == {
        "Canvas import (incremental, hourly)",
        "Canvas import (full, nightly)",
        "Passback to Infinite Campus (nightly)",
        "Compliance report: Weekly district summary",
        "Compliance report: Weekly teacher digests",
    }
    nightly = Schedule.objects.get(name="Canvas import (full, nightly)")
    assert nightly.func == "sync.tasks.import_canvas"
    assert nightly.kwargs == "{'full': True}"


def test_setup_schedules_moves_the_next_run_when_a_job_time_changes():
    from datetime import timedelta

    from django.utils import timezone

    call_command("setup_schedules", stdout=StringIO())
    nightly = Schedule.objects.get(name="Passback to Infinite Campus (nightly)")
    nightly.cron, nightly.next_run = "0 0 1 1 *", timezone.now() + timedelta(days=300)
    nightly.save()

    call_command("setup_schedules", stdout=StringIO())

    nightly.refresh_from_db()
    assert nightly.cron == "30 3 * * *"
    assert nightly.next_run < timezone.now() + timedelta(days=1, minutes=1)
