"""Passback runs against an in-memory Infinite Campus: mapping, window, idempotency, blocking."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from courses.models import Assignment, Submission
from sync.importer import district_import
from sync.models import AssignmentOutcome, GradeOutcome, SyncRun
from sync.oneroster import OneRosterError
from sync.passback import passback_counts, passback_execute, passback_request
from tests.sync.passback_setup import RECENT, fake_sis_configured, recent_district

pytestmark = pytest.mark.django_db


@pytest.fixture
def canvas():
    return recent_district()


@pytest.fixture
def sis(settings, monkeypatch):
    settings.SIS_MAX_CONCURRENCY = 2
    monkeypatch.setattr("sync.passback_send.RECORD_EVERY", 3)
    return fake_sis_configured(settings, monkeypatch)


def imported(canvas):
    district_import(client=canvas, concurrency=1, full=True)


def run_course(course_id=100, **kwargs) -> SyncRun:
    run, created = passback_request(course_id=course_id, enqueue=False, **kwargs)
    assert created
    return passback_execute(run.pk)


def test_a_first_run_sends_a_line_item_per_assigned_section_and_every_grade(canvas, sis):
    imported(canvas)
    run = run_course()

    assert run.status == SyncRun.Status.DONE
    assert passback_counts(run) == {"assignments": {"synced": 6}, "grades": {"posted": 12}}
    assert sorted(sis.line_items) == [
        f"gpb-a{a}-s{s}" for a in (1000, 1001, 1002) for s in (101, 102)
    ]
    assert len(sis.results) == 12 and set(sis.writes.values()) == {1}


def test_line_items_and_results_carry_the_binding_fields(canvas, sis):
    imported(canvas)
    run_course()

    item = sis.line_items["gpb-a1000-s101"]
    assert item["sourcedId"] == "gpb-a1000-s101" and item["status"] == "active"
    assert item["title"] == "Assignment 1000"
    assert item["dueDate"] == "2026-10-01T05:59:00.000Z"
    assert item["class"] == {
        "href": "https://ic.example/ims/oneroster/gradebook/v1p2/classes/SIS-S101",
        "sourcedId": "SIS-S101",
        "type": "class",
    }
    assert item["school"]["sourcedId"] == "SCH10" and item["school"]["type"] == "org"
    assert item["category"]["sourcedId"] == "cat-SIS-S101-homework"
    assert (item["resultValueMin"], item["resultValueMax"]) == (0.0, 10.0)

    result = sis.results["gpb-a1000-s101-u5000"]
    assert result["lineItem"]["sourcedId"] == "gpb-a1000-s101"
    assert result["student"] == {
        "href": "https://ic.example/ims/oneroster/gradebook/v1p2/users/U5000",
        "sourcedId": "U5000",
        "type": "user",
    }
    assert result["scoreStatus"] == "fully graded" and result["score"] == 8.0
    assert result["scoreDate"] == RECENT[:10]
    assert (result["late"], result["missing"], result["status"]) == ("false", "false", "active")
    assert result["class"]["sourcedId"] == "SIS-S101"


def test_a_second_run_with_nothing_changed_sends_nothing(canvas, sis):
    imported(canvas)
    run_course()
    before = sum(sis.writes.values())

    run = run_course()

    assert sum(sis.writes.values()) == before
    assert passback_counts(run) == {
        "assignments": {"no_changes": 6},
        "grades": {"unchanged": 12},
    }
    assert set(run.grades.values_list("reason", flat=True)) == {"same_as_sent"}


def test_only_changed_grades_are_sent_again(canvas, sis):
    imported(canvas)
    run_course()
    Submission.objects.filter(canvas_id=100000).update(score=3.5)

    run = run_course()

    assert passback_counts(run)["grades"] == {"posted": 1, "unchanged": 11}
    assert sis.writes["gpb-a1000-s101-u5000"] == 2
    assert sis.results["gpb-a1000-s101-u5000"]["score"] == 3.5


def test_excused_missing_scores_students_without_sis_ids_and_old_grades(canvas, sis):
    subs = canvas.course_data[100]["submissions"]
    subs[0].update(excused=True, score=None)  # 1000 / 5000
    subs[1].update(score=None, grade=None, workflow_state="unsubmitted")  # 1001 / 5000
    subs[2].update(graded_at="2026-01-01T00:00:00Z")  # 1002 / 5000: outside the window
    subs[6].update(score=-2.0)  # 1000 / 5002
    for cid in (100, 200):  # student 5001 is in both courses
        canvas.course_data[cid]["enrollments"][2]["user"]["sis_user_id"] = None
    imported(canvas)

    run = run_course()

    outcomes = {g.result_sourced_id: (g.status, g.reason) for g in run.grades.all()}
    assert sis.results["gpb-a1000-s101-u5000"]["scoreStatus"] == "exempt"
    assert "score" not in sis.results["gpb-a1000-s101-u5000"]
    assert outcomes["gpb-a1001-s101-u5000"] == ("skipped", "no_grade")
    assert outcomes["gpb-a1002-s101-u5000"] == ("unchanged", "outside_window")
    assert outcomes["gpb-a1000-s102-u5001"] == ("skipped", "student_not_in_sis")
    assert outcomes["gpb-a1000-s101-u5002"] == ("skipped", "invalid_score")


def test_a_blocked_assignment_is_recorded_with_its_rules_and_never_sent(canvas, sis):
    canvas.course_data[100]["assignments"][0]["name"] = "X" * 31
    imported(canvas)

    run = run_course()

    blocked = run.assignments.filter(assignment_id=1000)
    assert {o.status for o in blocked} == {"blocked"}
    assert blocked.first().rule_codes == ["name_too_long"]
    assert not [k for k in sis.line_items if k.startswith("gpb-a1000-")]
    assert not run.grades.filter(assignment_outcome__assignment_id=1000).exists()


def test_an_assignment_group_without_an_ic_category_is_blocked(canvas, sis):
    canvas.course_data[100]["groups"][0]["name"] = "Misc"
    imported(canvas)

    run = run_course()

    assert set(run.assignments.values_list("status", flat=True)) == {"blocked"}
    assert run.assignments.first().rule_codes == ["category_not_in_sis"]


def test_a_rejected_grade_fails_alone_with_the_sis_reason(canvas, sis):
    imported(canvas)
    sis.fail["gpb-a1000-s101-u5000"] = OneRosterError(
        "Infinite Campus answered 422",
        status=422,
        description="student U5000 is not enrolled in class SIS-S101",
    )

    run = run_course()

    failed = run.grades.get(status="failed")
    assert failed.result_sourced_id == "gpb-a1000-s101-u5000"
    assert failed.http_status == 422 and failed.reason == "sis_rejected"
    assert "not enrolled" in failed.detail
    assert run.grades.filter(status="posted").count() == 11
    assert run.assignments.get(assignment_id=1000, section_id=101).status == "failed"
    assert run.status == "done"


def test_rejected_credentials_stop_the_run_and_fail_what_is_pending(canvas, sis):
    imported(canvas)
    sis.fail_everything = OneRosterError(
        "Infinite Campus rejected the client secret: check SIS_CLIENT_SECRET", kind="auth"
    )

    run = run_course()

    assert run.status == "failed" and "SIS_CLIENT_SECRET" in run.message
    assert not run.grades.filter(status="pending").exists()
    assert not run.assignments.filter(status="pending").exists()


def test_an_assignment_no_longer_synced_gets_its_line_items_marked_tobedeleted(canvas, sis):
    imported(canvas)
    run_course()
    Assignment.objects.filter(canvas_id=1002).update(post_to_sis=False)

    run = run_course()

    assert sis.line_items["gpb-a1002-s101"]["status"] == "tobedeleted"
    assert sis.line_items["gpb-a1002-s102"]["status"] == "tobedeleted"
    assert run.assignments.filter(assignment_id=1002, status="synced").count() == 2
    third = run_course()
    assert not third.assignments.filter(assignment_id=1002).exists()


def test_a_second_request_joins_the_active_run():
    from courses.models import Account, Course

    Account.objects.create(canvas_id=1, name="root")
    Course.objects.create(canvas_id=7, account_id=1, name="c", workflow_state="available")
    first, created = passback_request(course_id=7, enqueue=False)
    again, created_again = passback_request(course_id=7, enqueue=False)

    assert created and not created_again and again.pk == first.pk


def test_a_run_killed_midway_resumes_and_sends_each_grade_once(canvas, sis):
    imported(canvas)
    run, _ = passback_request(course_id=100, enqueue=False)
    sis.crash_after = 7
    with pytest.raises(KeyboardInterrupt):
        passback_execute(run.pk)
    assert SyncRun.objects.get(pk=run.pk).status == "running"

    sis.crash_after = None
    run = passback_execute(run.pk)

    assert run.status == "done"
    assert len(sis.results) == 12
    assert not run.grades.filter(status="pending").exists()
    # Confirmations not yet written when it died are found in IC, not sent a second time.
    assert sum(sis.writes.values()) == len(sis.writes)


def test_the_passback_command_waits_and_prints_json(canvas, sis):
    imported(canvas)
    out = StringIO()
    call_command("passback", "--course", "100", "--wait", "--json", stdout=out)

    summary = json.loads(out.getvalue())
    assert summary["status"] == "done"
    assert summary["assignments"] == {"synced": 6}
    assert summary["grades"] == {"posted": 12}


def test_the_passback_command_can_select_sections_and_assignments(canvas, sis):
    imported(canvas)
    out = StringIO()
    call_command(
        "passback",
        "--course",
        "100",
        "--section",
        "101",
        "--assignment",
        "1001",
        "--wait",
        "--json",
        stdout=out,
    )
    assert json.loads(out.getvalue())["grades"] == {"posted": 2}
    assert list(AssignmentOutcome.objects.values_list("assignment_id", "section_id")) == [
        (1001, 101)
    ]
    assert GradeOutcome.objects.count() == 2


def test_the_passback_command_says_when_the_sis_is_not_configured(canvas, settings):
    imported(canvas)
    settings.SIS_BASE_URL = ""
    with pytest.raises(CommandError, match="set SIS_BASE_URL"):
        call_command("passback", "--course", "100", "--wait", stdout=StringIO())


def test_extra_credit_is_kept_and_grade_text_does_not_matter_when_there_is_a_score(canvas, sis):
    subs = canvas.course_data[100]["submissions"]
    subs[0].update(score=12.5, grade="A+")  # 1000 / 5000, points possible 10
    subs[1].update(score=7.0, grade="complete")  # 1001 / 5000
    imported(canvas)

    run_course()

    assert sis.results["gpb-a1000-s101-u5000"]["score"] == 12.5
    assert sis.results["gpb-a1001-s101-u5000"]["score"] == 7.0


def test_a_student_in_two_sections_gets_a_result_on_each_sections_line_item(canvas, sis):
    from tests.sync.fakes import enrollment

    canvas.course_data[100]["enrollments"].append(enrollment(1099, 5000, 100, 102))
    imported(canvas)

    run = run_course()

    assert "gpb-a1000-s101-u5000" in sis.results
    assert "gpb-a1000-s102-u5000" in sis.results
    assert sis.results["gpb-a1000-s102-u5000"]["class"]["sourcedId"] == "SIS-S102"
    assert run.grades.filter(student_id=5000, status="posted").count() == 6


def test_a_section_whose_sis_id_changed_gets_its_line_items_sent_to_the_new_class(canvas, sis):
    from courses.models import Section

    imported(canvas)
    run_course()
    Section.objects.filter(canvas_id=101).update(sis_section_id="SIS-S101-NEW")
    sis.category_titles["SIS-S101-NEW"] = ["Homework"]

    run = run_course()

    item = sis.line_items["gpb-a1000-s101"]
    assert item["class"]["sourcedId"] == "SIS-S101-NEW"
    assert item["category"]["sourcedId"] == "cat-SIS-S101-NEW-homework"
    assert run.assignments.filter(section_id=101, status="synced").count() == 3
    # Its results go again (to the new class); the other section's stay unchanged.
    assert run.grades.filter(status="posted").count() == 6
    assert sis.results["gpb-a1000-s101-u5000"]["class"]["sourcedId"] == "SIS-S101-NEW"
