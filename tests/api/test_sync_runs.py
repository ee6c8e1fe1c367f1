"""Passback over the API: runs with their counts, a run's grades, and requesting a course sync."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sync.importer import district_import
from sync.models import AssignmentOutcome, GradeOutcome, SyncRun
from sync.passback_payloads import line_item_id, result_id
from tests.api import factories
from tests.api.factories import T0
from tests.sync.fake_sis import FakeSis
from tests.sync.fakes import small_district
from tests.sync.queued_tasks import queue_down

pytestmark = pytest.mark.django_db

RUNS = "/api/v1/sync-runs/"


def sync_url(course_id: int) -> str:
    return f"/api/v1/courses/{course_id}/sync/"


# --- factories -----------------------------------------------------------------------------------


@pytest.fixture
def course(root):
    return factories.course(100, factories.school(10))


def make_run(course, status: str = "done", minutes: int = 0, **fields: object) -> SyncRun:
    requested = T0 + timedelta(minutes=minutes)
    finished = status in ("done", "failed")
    return SyncRun.objects.create(
        **{
            "course": course,
            "status": status,
            "requested_at": requested,
            "started_at": None if status == "queued" else requested + timedelta(seconds=5),
            "finished_at": requested + timedelta(seconds=95) if finished else None,
            **fields,
        }
    )


def make_graded_run(course, status: str = "done", offset: int = 0) -> SyncRun:
    """A run with one synced and one failed line item; 2 posted, 1 skipped and 1 failed grade.
    Canvas ids are 101 (section), 1000-1001 (assignments), 5000-5002 (students), plus offset."""
    section = factories.section(101 + offset, course)
    run = make_run(course, status)
    outcomes = {}
    for assignment_id, outcome_status in ((1000, "synced"), (1001, "failed")):
        assignment = factories.assignment(assignment_id + offset, course)
        outcomes[outcome_status] = AssignmentOutcome.objects.create(
            run=run,
            assignment=assignment,
            section=section,
            status=outcome_status,
            line_item_sourced_id=line_item_id(assignment.canvas_id, section.canvas_id),
        )
    people = {n: factories.person(n + offset) for n in (5000, 5001, 5002)}
    failure = {"reason": "sis_rejected", "http_status": 422, "detail": "not enrolled"}
    for student_id, outcome, status_, fields in (
        (5000, "synced", "posted", {"http_status": 201, "attempts": 1, "sent_at": T0}),
        (5001, "synced", "posted", {"http_status": 200, "attempts": 2, "sent_at": T0}),
        (5002, "synced", "skipped", {"reason": "no_grade"}),
        (5000, "failed", "failed", {**failure, "attempts": 1}),
    ):
        GradeOutcome.objects.create(
            run=run,
            assignment_outcome=outcomes[outcome],
            student=people[student_id],
            result_sourced_id=result_id(
                outcomes[outcome].assignment_id, section.canvas_id, student_id + offset
            ),
            status=status_,
            created_at=T0,
            **fields,
        )
    return run


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Tasks passback_request enqueues, recorded instead of run."""
    calls: list[tuple] = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kw: calls.append(args))
    return calls


# --- list ----------------------------------------------------------------------------------------


def test_runs_are_listed_newest_first_with_their_course(staff_client, course):
    older = make_run(course, minutes=0)
    newer = make_run(course, minutes=30)

    body = staff_client.get(RUNS).json()

    assert body["count"] == 2
    assert [r["id"] for r in body["results"]] == [newer.pk, older.pk]
    first = body["results"][0]
    assert first["course"]["canvas_id"] == 100 and first["course"]["name"] == "Course 100"
    assert first["status"] == "done" and first["duration_seconds"] == 90.0


def test_runs_filter_by_course_and_status(staff_client, course):
    other = factories.course(200, course.account)
    failed = make_run(course, "failed")
    make_run(course, "done", minutes=5)
    make_run(other, "failed", minutes=10)

    body = staff_client.get(RUNS, {"course": 100, "status": "failed"}).json()

    assert [r["id"] for r in body["results"]] == [failed.pk]


def test_an_unknown_run_status_answers_400_naming_the_valid_ones(staff_client, course):
    response = staff_client.get(RUNS, {"status": "finished"})

    assert response.status_code == 400
    assert response.json()["status"] == [
        'Unknown run status "finished". Valid values: queued, running, done, failed.'
    ]


def test_listing_runs_takes_the_same_queries_however_many_there_are(staff_client, course):
    make_run(course)
    with CaptureQueriesContext(connection) as few:
        staff_client.get(RUNS)
    for minutes in range(1, 6):
        make_run(course, minutes=minutes)

    with CaptureQueriesContext(connection) as more:
        staff_client.get(RUNS)

    assert len(more) == len(few)


# --- detail --------------------------------------------------------------------------------------


def test_a_run_shows_its_outcome_counts_for_every_status(staff_client, course):
    run = make_graded_run(course)

    body = staff_client.get(f"{RUNS}{run.pk}/").json()

    assert body["assignments"] == {
        "pending": 0,
        "synced": 1,
        "no_changes": 0,
        "blocked": 0,
        "failed": 1,
    }
    assert body["grades"] == {"pending": 0, "posted": 2, "unchanged": 0, "skipped": 1, "failed": 1}
    assert {
        "course",
        "status",
        "requested_by",
        "requested_at",
        "started_at",
        "finished_at",
        "message",
        "duration_seconds",
    } <= set(body)


def test_a_running_run_has_no_duration_yet(staff_client, course):
    run = make_run(course, "running", message="")

    body = staff_client.get(f"{RUNS}{run.pk}/").json()

    assert body["status"] == "running" and body["duration_seconds"] is None
    assert body["finished_at"] is None


def test_an_unknown_run_answers_404(staff_client, course):
    assert staff_client.get(f"{RUNS}999/").status_code == 404
    assert staff_client.get(f"{RUNS}999/grades/").status_code == 404


# --- grades --------------------------------------------------------------------------------------


def test_a_runs_grades_show_the_student_the_line_item_and_what_ic_said(staff_client, course):
    run = make_graded_run(course)
    make_graded_run(factories.course(200, course.account), offset=10)  # its grades stay out

    body = staff_client.get(f"{RUNS}{run.pk}/grades/").json()

    assert body["count"] == 4
    first = body["results"][0]
    assert first == {
        "id": first["id"],
        "result_sourced_id": "gpb-a1000-s101-u5000",
        "assignment_canvas_id": 1000,
        "section_canvas_id": 101,
        "student": {"canvas_id": 5000, "name": "Person 5000", "sis_user_id": None},
        "status": "posted",
        "reason": "",
        "detail": "",
        "http_status": 201,
        "attempts": 1,
        "sent_at": "2025-09-01T07:00:00-05:00",
    }


def test_a_runs_failed_grades_are_listed_alone(staff_client, course):
    run = make_graded_run(course)

    body = staff_client.get(f"{RUNS}{run.pk}/grades/", {"status": "failed"}).json()

    assert [g["result_sourced_id"] for g in body["results"]] == ["gpb-a1001-s101-u5000"]
    failed = body["results"][0]
    assert (failed["reason"], failed["http_status"], failed["detail"]) == (
        "sis_rejected",
        422,
        "not enrolled",
    )


def test_an_unknown_grade_status_answers_400(staff_client, course):
    run = make_graded_run(course)

    response = staff_client.get(f"{RUNS}{run.pk}/grades/", {"status": "lost"})

    assert response.status_code == 400
    assert (
        "Valid values: pending, posted, unchanged, skipped, failed." in response.json()["status"][0]
    )


def test_a_runs_grades_are_paginated(staff_client, course):
    run = make_graded_run(course)

    body = staff_client.get(f"{RUNS}{run.pk}/grades/", {"page_size": 3}).json()

    assert body["count"] == 4 and len(body["results"]) == 3 and body["next"]


# --- requesting a sync ---------------------------------------------------------------------------


def test_requesting_a_sync_queues_a_run_and_answers_202(staff_client, course, enqueued):
    response = staff_client.post(sync_url(100), {}, format="json")

    assert response.status_code == 202
    body = response.json()
    run = SyncRun.objects.get()
    assert body["id"] == run.pk and body["joined"] is False
    assert (body["status"], body["requested_by"]) == ("queued", "admin")
    assert body["grades"] == {"pending": 0, "posted": 0, "unchanged": 0, "skipped": 0, "failed": 0}
    assert enqueued == [("sync.tasks.passback_start", run.pk, 1)]


def test_a_sync_request_when_the_task_queue_is_down_answers_503_and_queues_nothing(
    staff_client, course, monkeypatch
):
    monkeypatch.setattr("django_q.tasks.async_task", queue_down)

    response = staff_client.post(sync_url(100), {}, format="json")

    assert response.status_code == 503
    assert response.json()["detail"].startswith("The task queue did not take passback #")
    assert not SyncRun.objects.filter(status__in=SyncRun.ACTIVE).exists()


def test_a_sync_request_may_name_sections_and_assignments(staff_client, course, enqueued):
    factories.section(101, course)
    factories.section(102, course)
    factories.assignment(1000, course)

    response = staff_client.post(
        sync_url(100), {"sections": [102, 101], "assignments": [1000]}, format="json"
    )

    assert response.status_code == 202
    assert (response.json()["section_ids"], response.json()["assignment_ids"]) == (
        [101, 102],
        [1000],
    )


def test_a_request_while_a_run_is_active_joins_it(staff_client, course, enqueued):
    now = timezone.now()  # started just now: running, not stalled
    active = make_run(course, "running", requested_at=now, started_at=now)

    response = staff_client.post(sync_url(100), {}, format="json")

    assert response.status_code == 202
    assert response.json()["id"] == active.pk and response.json()["joined"] is True
    assert SyncRun.objects.count() == 1 and not enqueued


def test_sections_or_assignments_of_another_course_answer_400(staff_client, course, enqueued):
    factories.section(101, course)
    other = factories.course(200, course.account)
    factories.section(201, other)
    factories.assignment(2000, other)

    response = staff_client.post(
        sync_url(100), {"sections": [101, 201], "assignments": [2000]}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "sections": ["Not sections of this course: 201."],
        "assignments": ["Not assignments of this course: 2000."],
    }
    assert not SyncRun.objects.exists()


def test_a_malformed_sync_request_answers_400(staff_client, course, enqueued):
    assert staff_client.post(sync_url(100), [1, 2], format="json").status_code == 400
    response = staff_client.post(sync_url(100), {"sections": "all"}, format="json")
    assert response.status_code == 400 and "sections" in response.json()
    assert not SyncRun.objects.exists()


def test_requesting_a_sync_of_an_unknown_course_answers_404(staff_client, course, enqueued):
    assert staff_client.post(sync_url(999), {}, format="json").status_code == 404
    assert not enqueued


def test_only_staff_may_request_a_sync_or_read_runs(course, enqueued):
    run = make_run(course)
    teacher = factories.client_for(factories.user("teacher", staff=False))
    anonymous = factories.client_for(None)

    for client in (teacher, anonymous):
        assert client.post(sync_url(100), {}, format="json").status_code in (401, 403)
        assert client.get(RUNS).status_code in (401, 403)
        assert client.get(f"{RUNS}{run.pk}/grades/").status_code in (401, 403)
    assert teacher.get(f"{RUNS}{run.pk}/").status_code == 403
    assert SyncRun.objects.count() == 1 and not enqueued


def test_a_requested_sync_runs_through_the_worker_to_infinite_campus(
    staff_client, settings, monkeypatch
):
    # Q_CLUSTER sync=True runs the enqueued task inline; the SIS is in memory.
    recent = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    canvas = small_district()
    for data in canvas.course_data.values():
        for sub in data["submissions"]:
            sub["graded_at"] = recent
    district_import(client=canvas, concurrency=1, full=True)
    settings.SIS_BASE_URL = "https://ic.example/ims/oneroster/gradebook/v1p2"
    sis = FakeSis({c: ["Homework", "Tests"] for c in ["SIS-S101", "SIS-S102"]})
    monkeypatch.setattr("sync.passback.sis_client", lambda: sis)

    response = staff_client.post(sync_url(100), {"sections": [101]}, format="json")

    assert response.status_code == 202
    run = SyncRun.objects.get(pk=response.json()["id"])
    assert run.status == "done"
    detail = staff_client.get(f"{RUNS}{run.pk}/").json()
    assert detail["grades"]["posted"] == len(sis.results) > 0
    assert all("-s101-" in sourced_id for sourced_id in sis.results)


# --- schema --------------------------------------------------------------------------------------


def test_the_schema_documents_the_passback_endpoints_and_their_filters(staff_client, root):
    schema = staff_client.get("/api/v1/schema/", {"format": "json"}).json()
    paths = schema["paths"]

    assert {
        "/api/v1/sync-runs/",
        "/api/v1/sync-runs/{id}/",
        "/api/v1/sync-runs/{id}/grades/",
        "/api/v1/courses/{canvas_id}/sync/",
    } <= set(paths)
    runs = {p["name"]: p["schema"] for p in paths["/api/v1/sync-runs/"]["get"]["parameters"]}
    assert runs["course"]["type"] == "integer"
    assert runs["status"]["enum"] == ["queued", "running", "done", "failed"]
    grades = paths["/api/v1/sync-runs/{id}/grades/"]["get"]
    assert {p["name"]: p["schema"] for p in grades["parameters"]}["status"]["enum"] == [
        "pending",
        "posted",
        "unchanged",
        "skipped",
        "failed",
    ]
    assert (
        "Paginated" in grades["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    )
    assert set(paths["/api/v1/courses/{canvas_id}/sync/"]["post"]["responses"]) == {
        "202",
        "400",
        "404",
        "503",
    }
