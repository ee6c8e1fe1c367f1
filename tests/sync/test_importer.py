"""The importer's logic, against an in-memory Canvas."""

from datetime import UTC, datetime, timedelta

import pytest

from courses.models import (
    Account,
    Assignment,
    AssignmentOverride,
    Course,
    Enrollment,
    Person,
    Section,
    Submission,
)
from sync.canvas import CanvasError
from sync.importer import GRADED_SINCE_MARGIN, district_import
from sync.models import ImportRun
from tests.sync.fakes import assignment, small_district, submission

pytestmark = pytest.mark.django_db


def run_import(canvas, **kwargs) -> ImportRun:
    return district_import(client=canvas, concurrency=1, **kwargs)


def test_a_full_import_stores_the_whole_district_keyed_by_canvas_ids():
    run = run_import(small_district(), full=True)

    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.courses_total == run.courses_done == 2
    assert set(Account.objects.values_list("canvas_id", flat=True)) == {1, 10, 11}
    assert Course.objects.get(canvas_id=200).account_id == 11
    assert Section.objects.count() == 4
    assert Assignment.objects.filter(course_id=100).count() == 3
    assert Person.objects.count() == 6  # four students shared by both courses, two teachers
    assert Enrollment.objects.filter(type="teacher").count() == 2
    assert Submission.objects.count() == 24
    assert run.counts["submissions"] == 24
    assert run.counts["people"] == 10  # counted per course


def test_a_second_import_of_unchanged_data_changes_nothing():
    canvas = small_district()
    run_import(canvas, full=True)
    before = list(Submission.objects.order_by("canvas_id").values())

    run = run_import(canvas, full=True)

    assert run.status == ImportRun.Status.SUCCEEDED
    assert list(Submission.objects.order_by("canvas_id").values()) == before


def test_rows_gone_from_canvas_are_marked_deleted_and_come_back_when_they_return():
    canvas = small_district()
    run_import(canvas, full=True)
    data = canvas.course_data[100]
    removed = data["assignments"].pop()
    removed_section = data["sections"].pop()

    run_import(canvas, full=True)

    assert Assignment.objects.get(canvas_id=removed["id"]).deleted
    assert Section.objects.get(canvas_id=removed_section["id"]).deleted
    assert Submission.objects.filter(assignment_id=removed["id"], deleted=False).count() == 0
    assert not Assignment.objects.get(canvas_id=1000).deleted

    data["assignments"].append(removed)
    run_import(canvas, full=True)
    assert not Assignment.objects.get(canvas_id=removed["id"]).deleted


def test_a_course_gone_from_canvas_is_marked_deleted():
    canvas = small_district()
    run_import(canvas, full=True)
    canvas.courses_list.pop()

    run_import(canvas, full=True)

    gone = Course.objects.get(canvas_id=200)
    assert gone.deleted and gone.workflow_state == "deleted"


def test_an_incremental_import_asks_only_for_grades_since_the_last_read_minus_a_margin():
    canvas = small_district()
    first = run_import(canvas, full=True)

    run_import(canvas)

    assert canvas.graded_since_seen[100] == first.started_at - GRADED_SINCE_MARGIN


def test_an_incremental_import_keeps_grades_it_did_not_reread_and_stores_new_ones():
    canvas = small_district()
    run_import(canvas, full=True)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    canvas.course_data[100]["submissions"][0].update(score=3.0, graded_at=now)

    run = run_import(canvas)

    assert run.counts["submissions"] == 1
    assert Submission.objects.filter(deleted=False).count() == 24
    assert Submission.objects.get(canvas_id=100000).score == 3.0


def test_a_course_never_imported_gets_all_its_grades_on_an_incremental_run():
    canvas = small_district()

    run_import(canvas)

    assert canvas.graded_since_seen[100] is None
    assert Submission.objects.count() == 24


def test_an_assignment_without_an_id_fails_only_its_course_and_keeps_its_old_data():
    canvas = small_district()
    run_import(canvas, full=True)
    canvas.course_data[100]["assignments"][0] = {"name": "no id here"}
    canvas.course_data[100]["sections"][0]["name"] = "Renamed"

    run = run_import(canvas, full=True)

    assert run.status == ImportRun.Status.PARTIAL
    assert run.courses_failed == 1 and run.courses_done == 1
    error = run.errors.get()
    assert error.course_canvas_id == 100
    assert "without a valid id" in error.message
    assert Section.objects.get(canvas_id=101).name == "Period 101"  # untouched
    assert Assignment.objects.filter(course_id=100, deleted=False).count() == 3


def test_an_unknown_course_workflow_state_fails_the_course_with_a_clear_reason():
    canvas = small_district()
    canvas.courses_list[0]["workflow_state"] = "archived_weird"

    run = run_import(canvas, full=True)

    assert run.courses_failed == 1
    assert "workflow_state 'archived_weird'" in run.errors.get().message
    assert Course.objects.filter(canvas_id=200).exists()


def test_a_canvas_error_on_one_course_does_not_stop_the_others():
    canvas = small_district()
    canvas.errors[("submissions", 100)] = CanvasError("Canvas answered HTTP 500", kind="http")

    run = run_import(canvas, full=True)

    assert run.status == ImportRun.Status.PARTIAL
    assert run.errors.get().message == "Canvas answered HTTP 500"
    assert Submission.objects.filter(course_id=200).count() == 12


def test_a_rejected_token_stops_the_run_and_names_the_setting():
    canvas = small_district()
    canvas.errors[("sub_accounts", None)] = CanvasError(
        "Canvas rejected the access token (HTTP 401): check CANVAS_TOKEN", kind="auth", status=401
    )

    run = run_import(canvas, full=True)

    assert run.status == ImportRun.Status.FAILED
    assert "CANVAS_TOKEN" in run.message
    assert Course.objects.count() == 0


def test_a_rejected_token_mid_run_stops_the_remaining_courses():
    canvas = small_district()
    canvas.errors[("sections", 100)] = CanvasError("check CANVAS_TOKEN", kind="auth", status=401)

    run = run_import(canvas, full=True)

    assert run.status == ImportRun.Status.FAILED
    assert run.courses_done == 0
    assert "CANVAS_TOKEN" in run.message


def test_long_unicode_and_right_to_left_names_are_stored_whole():
    canvas = small_district()
    data = canvas.course_data[100]
    data["assignments"][0]["name"] = "x" * 10_000
    data["assignments"][1]["name"] = "Quiz 🧪 مراجعة الوحدة"

    run = run_import(canvas, full=True)

    assert run.status == ImportRun.Status.SUCCEEDED
    assert len(Assignment.objects.get(canvas_id=1000).name) == 10_000
    assert Assignment.objects.get(canvas_id=1001).name == "Quiz 🧪 مراجعة الوحدة"


def test_null_dates_and_fields_absent_from_older_canvas_versions_are_accepted():
    canvas = small_district()
    old = canvas.course_data[100]["assignments"][0]
    for key in (
        "post_to_sis",
        "omit_from_final_grade",
        "only_visible_to_overrides",
        "overrides",
        "published",
    ):
        old.pop(key)
    old.update(due_at=None, unlock_at=None, lock_at=None, updated_at=None)
    for item in canvas.course_data[100]["submissions"]:
        item.pop("posted_at")
        item.pop("late")
        item.pop("missing")

    run = run_import(canvas, full=True)

    assert run.status == ImportRun.Status.SUCCEEDED
    stored = Assignment.objects.get(canvas_id=1000)
    assert stored.post_to_sis is False and stored.published is True and stored.due_at is None


def test_an_override_records_whether_it_sets_the_due_date():
    canvas = small_district()
    canvas.course_data[100]["assignments"][0]["overrides"] = [
        {
            "id": 1,
            "assignment_id": 1000,
            "course_section_id": 101,
            "title": "P1",
            "due_at": "2026-10-03T05:59:00Z",
        },
        {"id": 2, "assignment_id": 1000, "course_section_id": 102, "title": "P2", "due_at": None},
        {"id": 3, "assignment_id": 1000, "student_ids": [5000], "title": "1 student"},
        {"id": 4, "assignment_id": 1000, "group_id": 77, "title": "Group"},
        {"id": 5, "assignment_id": 1000, "noop_id": 1, "title": "Mastery path"},
    ]

    run_import(canvas, full=True)

    overrides = {o.canvas_id: o for o in AssignmentOverride.objects.all()}
    assert set(overrides) == {1, 2, 3, 4}
    assert overrides[1].due_at_overridden and overrides[1].section_id == 101
    assert overrides[2].due_at_overridden and overrides[2].due_at is None
    assert not overrides[3].due_at_overridden and overrides[3].student_canvas_ids == [5000]
    assert overrides[4].target == "group" and overrides[4].group_canvas_id == 77


def test_grades_of_students_not_actively_enrolled_are_skipped_and_counted():
    canvas = small_district()
    canvas.course_data[100]["submissions"].append(submission(999, 1000, 4242))

    run = run_import(canvas, full=True)

    assert not Submission.objects.filter(canvas_id=999).exists()
    assert run.counts["submissions_skipped"] == 1


def test_a_non_numeric_score_fails_the_course_and_says_which_submission():
    canvas = small_district()
    canvas.course_data[200]["submissions"][0]["score"] = "A+"

    run = run_import(canvas, full=True)

    assert "score of submission" in run.errors.get().message
    assert "not a number" in run.errors.get().message


def test_only_the_requested_courses_are_imported_and_unknown_ids_are_reported():
    canvas = small_district()

    run = run_import(canvas, full=True, course_ids=[200, 4040])

    assert list(Course.objects.values_list("canvas_id", flat=True)) == [200]
    assert run.courses_failed == 1
    assert "4040" in run.errors.get().message


def test_an_assignment_whose_group_vanished_is_kept_without_a_group():
    canvas = small_district()
    canvas.course_data[100]["assignments"].append(assignment(1099, 100, group_id=31337))

    run_import(canvas, full=True)

    assert Assignment.objects.get(canvas_id=1099).group_id is None


def test_a_scheduled_import_fans_out_one_task_per_course_and_closes_the_run(monkeypatch):
    canvas = small_district()
    monkeypatch.setattr("sync.importer._import_client", lambda: canvas)
    from sync.tasks import import_canvas

    message = import_canvas(full=True)  # the test settings run django-q2 tasks inline

    run = ImportRun.objects.get()
    assert message == f"import #{run.pk} started: 2 courses queued"
    assert run.status == ImportRun.Status.SUCCEEDED and run.finished_at
    assert run.courses_done == 2
    assert run.counts["submissions"] == 24
    assert Submission.objects.count() == 24


def test_a_scheduled_import_leaves_a_running_import_alone():
    from django.utils import timezone

    from sync.tasks import import_canvas

    running = ImportRun.objects.create(kind="full", started_at=timezone.now())

    assert import_canvas() == f"skipped: import #{running.pk} is still running"


def test_a_scheduled_import_leaves_alone_a_long_import_whose_courses_keep_finishing():
    from django.utils import timezone

    from sync.tasks import import_canvas

    now = timezone.now()
    running = ImportRun.objects.create(
        kind="full", started_at=now - timedelta(hours=3), progress_at=now - timedelta(minutes=5)
    )

    assert import_canvas() == f"skipped: import #{running.pk} is still running"


def test_a_scheduled_import_closes_an_import_that_stalled_and_reads_every_course(monkeypatch):
    from django.utils import timezone

    from sync.tasks import import_canvas

    monkeypatch.setattr("sync.importer._import_client", small_district)
    now = timezone.now()
    stalled = ImportRun.objects.create(
        kind="full",
        started_at=now - timedelta(hours=2),
        progress_at=now - timedelta(minutes=61),
        courses_total=2,
        courses_done=1,
    )

    message = import_canvas(full=True)

    stalled.refresh_from_db()
    assert stalled.status == ImportRun.Status.FAILED and stalled.finished_at
    assert stalled.message.startswith("No course of this import finished for 60 minutes")
    assert "1 of 2 courses were not imported by it and keep their previous data" in stalled.message
    fresh = ImportRun.objects.exclude(pk=stalled.pk).get()
    assert message == (
        f"import #{fresh.pk} started: 2 courses queued; stalled import(s) #{stalled.pk} closed"
    )
    assert fresh.status == ImportRun.Status.SUCCEEDED and fresh.courses_done == 2
    assert fresh.progress_at is not None


def test_an_incremental_import_rewrites_only_courses_canvas_describes_differently():
    canvas = small_district()
    run_import(canvas, full=True)
    canvas.course_data[200]["assignments"][0]["name"] = "Renamed in Canvas"

    run = run_import(canvas)

    assert run.counts["courses_unchanged"] == 1
    assert Assignment.objects.get(canvas_id=2000).name == "Renamed in Canvas"


def test_a_full_import_has_the_database_sample_the_tables_it_filled():
    """So that its planner knows their sizes now, not at autovacuum's next pass (or never,
    where autovacuum is off)."""
    from django.db import connection

    run_import(small_district(), full=True)

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT relname FROM pg_stat_user_tables WHERE relname LIKE 'courses_%%' "
                "AND last_analyze IS NOT NULL"
            )
        else:
            cursor.execute("SELECT DISTINCT tbl FROM sqlite_stat1")
        sampled = {row[0] for row in cursor.fetchall()}
    assert {"courses_submission", "courses_section", "courses_course"} <= sampled
