"""The nightly district passback: every course planned once, then only courses that changed."""

from datetime import UTC, datetime, timedelta

import pytest

from sync.importer import district_import
from sync.models import DistrictPolicy, GradeOutcome, SyncRun
from sync.oneroster import OneRosterError
from sync.passback import passback_execute, passback_request
from sync.passback_changes import courses_changed
from sync.tasks import passback_district
from tests.sync.passback_setup import fake_sis_configured, recent_district

pytestmark = pytest.mark.django_db


@pytest.fixture
def canvas():
    return recent_district()


@pytest.fixture
def sis(settings, monkeypatch):
    # Every change in these tests happens seconds after the run it follows.
    monkeypatch.setattr("sync.passback_changes.IMPORT_MARGIN", timedelta(0))
    return fake_sis_configured(settings, monkeypatch)


def runs_of(course_id: int) -> int:
    return SyncRun.objects.filter(course_id=course_id).count()


def test_the_first_district_run_plans_every_course_with_synced_assignments(canvas, sis):
    district_import(client=canvas, concurrency=1, full=True)

    assert passback_district().startswith("2 passback runs queued")

    assert runs_of(100) == 1 and runs_of(200) == 1
    assert set(SyncRun.objects.values_list("status", flat=True)) == {"done"}
    assert len(sis.results) == 24


def test_a_second_district_run_with_nothing_changed_plans_and_sends_nothing(canvas, sis):
    district_import(client=canvas, concurrency=1, full=True)
    passback_district()
    writes = sum(sis.writes.values())

    message = passback_district()

    assert message == "0 passback runs queued; 2 courses unchanged since their last run"
    assert SyncRun.objects.count() == 2 and sum(sis.writes.values()) == writes


def test_a_grade_changed_in_canvas_replans_only_its_course_and_sends_only_it(canvas, sis):
    district_import(client=canvas, concurrency=1, full=True)
    passback_district()
    sub = canvas.course_data[200]["submissions"][0]
    sub["score"], sub["graded_at"] = 1.5, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    district_import(client=canvas, concurrency=1)  # the hourly incremental import

    assert passback_district().startswith("1 passback runs queued")

    assert runs_of(100) == 1 and runs_of(200) == 2
    latest = SyncRun.objects.filter(course_id=200).first()
    assert list(
        latest.grades.filter(status="posted").values_list("submission_canvas_id", flat=True)
    ) == [sub["id"]]


def test_an_assignment_renamed_in_canvas_replans_its_course(canvas, sis):
    district_import(client=canvas, concurrency=1, full=True)
    passback_district()
    canvas.course_data[100]["assignments"][0]["name"] = "Renamed"
    district_import(client=canvas, concurrency=1, full=True)

    assert courses_changed([100, 200]) == [100]


def test_an_assignment_deleted_in_canvas_replans_its_course(canvas, sis):
    district_import(client=canvas, concurrency=1, full=True)
    passback_district()
    del canvas.course_data[200]["assignments"][2]
    district_import(client=canvas, concurrency=1, full=True)

    assert courses_changed([100, 200]) == [200]


def test_a_policy_change_replans_every_course(canvas, sis):
    district_import(client=canvas, concurrency=1, full=True)
    passback_district()
    policy = DistrictPolicy.objects.get()
    policy.save()

    assert courses_changed([100, 200]) == [100, 200]


def test_new_ic_categories_for_a_class_replan_its_course(canvas, sis):
    district_import(client=canvas, concurrency=1, full=True)
    passback_district()
    sis.category_titles["SIS-S101"] = ["Homework", "Tests", "Quizzes"]
    run, _ = passback_request(course_id=200, enqueue=False)
    passback_execute(run.pk)  # refreshes course 200's categories only
    from sync.sis_categories import sis_categories_refresh

    sis_categories_refresh(client=sis)

    assert courses_changed([100, 200]) == [100]


def test_unchanged_ic_categories_are_not_rewritten(canvas, sis):
    from sync.models import SisCategory
    from sync.sis_categories import sis_categories_refresh

    district_import(client=canvas, concurrency=1, full=True)
    sis_categories_refresh(client=sis)
    before = set(SisCategory.objects.values_list("pk", "fetched_at"))

    assert sis_categories_refresh(client=sis) == []

    assert set(SisCategory.objects.values_list("pk", "fetched_at")) == before


def test_a_run_with_a_failed_grade_leaves_its_course_to_be_planned_again(canvas, sis):
    district_import(client=canvas, concurrency=1, full=True)
    sis.fail["gpb-a1000-s101-u5000"] = OneRosterError("rejected", status=422)
    passback_district()
    assert GradeOutcome.objects.filter(status="failed").count() == 1
    del sis.fail["gpb-a1000-s101-u5000"]

    assert passback_district().startswith("1 passback runs queued")

    assert "gpb-a1000-s101-u5000" in sis.results


def test_a_run_of_some_sections_only_does_not_count_as_a_clean_run(canvas, sis):
    district_import(client=canvas, concurrency=1, full=True)
    run, _ = passback_request(course_id=100, section_ids=[101], enqueue=False)
    passback_execute(run.pk)

    assert SyncRun.objects.get(pk=run.pk).inputs_as_of is None
    assert courses_changed([100]) == [100]
