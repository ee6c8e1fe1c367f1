"""The sync pages' reads: "what a sync sends now" agrees with the passback's own planning, and
every page costs the same number of queries whatever the number of assignments or students."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from courses.models import Enrollment, Section, Submission
from sync.grades_to_send import changed_grade_counts
from sync.importer import district_import
from sync.models import AssignmentOutcome, GradeOutcome, SyncRun
from sync.passback import passback_execute, passback_plan, passback_request
from tests.sync.fake_sis import FakeSis
from tests.sync.fakes import small_district
from tests.teachers.page_helpers import build_course, signed_in, teacher

pytestmark = pytest.mark.django_db

RECENT = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
CLASSES = ["SIS-S101", "SIS-S102", "SIS-S201", "SIS-S202"]
WINDOW = timedelta(days=30)


@pytest.fixture
def sis(settings, monkeypatch):
    settings.SIS_BASE_URL = "https://ic.example/ims/oneroster/gradebook/v1p2"
    settings.SIS_TOKEN_URL = "https://ic.example/token"
    settings.SIS_CLIENT_ID = settings.SIS_CLIENT_SECRET = "x"
    fake = FakeSis({cls: ["Homework", "Tests"] for cls in CLASSES})
    monkeypatch.setattr("sync.passback.sis_client", lambda: fake)
    canvas = small_district()
    for data in canvas.course_data.values():
        for sub in data["submissions"]:
            sub["graded_at"] = RECENT
    district_import(client=canvas, concurrency=1, full=True)
    return fake


def planned(course_id: int = 100) -> Counter:
    """What the passback itself would send: its pending grade outcomes per pair (the run is
    planned, then dropped)."""
    run, _ = passback_request(course_id=course_id, enqueue=False)
    passback_plan(run=run, client=FakeSis({cls: ["Homework", "Tests"] for cls in CLASSES}))
    counts = Counter(
        run.grades.filter(status=GradeOutcome.Status.PENDING).values_list(
            "assignment_outcome__assignment_id", "assignment_outcome__section_id"
        )
    )
    run.delete()
    return counts


def sendable(course_id: int = 100) -> Counter:
    counts = changed_grade_counts(course_id=course_id, window_start=timezone.now() - WINDOW)
    return Counter({pair: n for pair, n in counts.items() if n})


def test_before_any_sync_every_recent_grade_would_be_sent(sis):
    assert sendable() == planned()
    assert sum(sendable().values()) == 12


def test_after_a_sync_nothing_is_left_to_send(sis):
    run, _ = passback_request(course_id=100, enqueue=False)
    passback_execute(run.pk)
    assert sendable() == Counter() == planned()


def test_a_changed_score_an_excused_grade_and_a_late_flag_count_as_changes(sis):
    run, _ = passback_request(course_id=100, enqueue=False)
    passback_execute(run.pk)
    rows = list(Submission.objects.filter(course_id=100).order_by("canvas_id")[:3])
    Submission.objects.filter(pk=rows[0].pk).update(score=3.5)
    Submission.objects.filter(pk=rows[1].pk).update(excused=True)
    Submission.objects.filter(pk=rows[2].pk).update(late=True)

    assert sum(sendable().values()) == 3
    assert sendable() == planned()


def test_grades_outside_the_window_or_without_a_value_are_not_counted(sis):
    Submission.objects.filter(course_id=100, canvas_id=100000).update(
        graded_at=timezone.now() - timedelta(days=45)
    )
    Submission.objects.filter(course_id=100, canvas_id=100001).update(score=None)
    assert sum(sendable().values()) == 10
    assert sendable() == planned()


# --- queries do not grow with the course ---------------------------------------------------------


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def run_of(course_id: int, assignments: list[int], sections: list[int], students: int) -> int:
    run = SyncRun.objects.create(
        course_id=course_id, status="done", requested_at=timezone.now(), requested_by="t"
    )
    outcomes = AssignmentOutcome.objects.bulk_create(
        AssignmentOutcome(
            run=run, assignment_id=a, section_id=s, status="synced", line_item_sourced_id="x"
        )
        for a in assignments
        for s in sections
    )
    student_ids = [course_id * 1000 + 500 + i for i in range(students)]
    GradeOutcome.objects.bulk_create(
        GradeOutcome(
            run=run,
            assignment_outcome=o,
            student_id=student,
            result_sourced_id=f"r{o.pk}-{student}",
            status=("posted", "skipped", "failed")[n % 3],
            reason=("", "no_grade", "sis_rejected")[n % 3],
            created_at=timezone.now(),
        )
        for o in outcomes
        for n, student in enumerate(student_ids)
    )
    return run.pk


@pytest.fixture
def small_and_large():
    me = teacher(1, "Ada Lovelace")
    build_course(11, teacher=me, assignments=2, students=3, sections=1)
    build_course(22, teacher=me, assignments=25, students=30, sections=3)
    _, client = signed_in(me)
    small = run_of(11, [11000, 11001], [110], 3)  # one grade of each outcome
    large = run_of(22, [22000 + i for i in range(25)], [220, 221, 222], 30)
    return client, small, large


def test_the_course_page_costs_the_same_queries_for_a_small_and_a_large_course(small_and_large):
    client, _, _ = small_and_large
    small = queries(client, reverse("teachers:course", args=[11]))
    large = queries(client, reverse("teachers:course", args=[22]))
    assert small == large
    assert small <= 20


def test_the_progress_endpoint_costs_the_same_queries_for_a_small_and_a_large_run(
    small_and_large,
):
    client, small_run, large_run = small_and_large
    small = queries(client, reverse("teachers:run_progress", args=[small_run]))
    large = queries(client, reverse("teachers:run_progress", args=[large_run]))
    assert small == large
    assert small <= 10
    page = queries(client, reverse("teachers:run", args=[large_run]))
    assert page == queries(client, reverse("teachers:run", args=[small_run]))


def test_my_courses_and_the_history_cost_the_same_queries_however_many_rows(small_and_large):
    client, _, _ = small_and_large
    one_course = queries(client, reverse("teachers:home"))
    build_course(33, teacher=teacher(3), assignments=1, name="Chemistry")
    Enrollment.objects.create(
        canvas_id=999_001,
        person_id=1,
        course_id=33,
        section=Section.objects.get(canvas_id=330),
        type="teacher",
    )
    assert "Chemistry" in client.get(reverse("teachers:home")).content.decode()
    assert queries(client, reverse("teachers:home")) == one_course
    run_of(22, [22000], [220], 1)
    assert queries(client, reverse("teachers:history", args=[22])) == queries(
        client, reverse("teachers:history", args=[11])
    )
