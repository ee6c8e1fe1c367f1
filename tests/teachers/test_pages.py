"""The sync pages through Django's test client: what a teacher sees, sorting and filtering,
Post Grades, the run pages, and that every URL keeps to the teacher's own courses."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from courses.models import Assignment, AssignmentOverride, Enrollment, Section
from sync.models import AssignmentOutcome, GradeOutcome, SyncRun
from sync.permissions import DISTRICT_ADMIN_GROUP
from sync.violations import violations_refresh
from tests.sync.queued_tasks import queue_down
from tests.teachers.page_helpers import build_course, signed_in, teacher

pytestmark = pytest.mark.django_db

MINE, THEIRS = 101, 202


@pytest.fixture
def world():
    """Teacher 1 teaches course 101; teacher 2 teaches course 202."""
    me, other = teacher(1, "Ada Lovelace"), teacher(2, "Grace Hopper")
    build_course(MINE, teacher=me, assignments=3, students=2, sections=2, name="Algebra")
    build_course(THEIRS, teacher=other, name="Biology")
    user, client = signed_in(me)
    return {"me": me, "user": user, "client": client}


def a_run(course_id: int, status: str = SyncRun.Status.DONE) -> SyncRun:
    run = SyncRun.objects.create(
        course_id=course_id,
        status=status,
        requested_by="Ada Lovelace",
        requested_at=timezone.now(),
        started_at=timezone.now(),
        finished_at=timezone.now() if status not in SyncRun.ACTIVE else None,
    )
    assignment = Assignment.objects.filter(course_id=course_id).order_by("canvas_id").first()
    section = Section.objects.filter(course_id=course_id).order_by("canvas_id").first()
    outcome = AssignmentOutcome.objects.create(
        run=run,
        assignment=assignment,
        section=section,
        status="synced",
        line_item_sourced_id="li",
    )
    student = Enrollment.objects.filter(section=section, type="student").first().person
    for status_, reason in (("posted", ""), ("failed", "sis_rejected"), ("skipped", "no_grade")):
        GradeOutcome.objects.create(
            run=run,
            assignment_outcome=outcome,
            student=student,
            result_sourced_id=f"r-{status_}",
            status=status_,
            reason=reason,
            detail="Score too high for this line item" if status_ == "failed" else "",
            created_at=timezone.now(),
        )
    return run


# --- who sees what ---------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(world):
    response = Client().get(reverse("teachers:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("teachers:login"))


def test_every_course_url_of_another_teachers_course_is_not_found(world):
    client = world["client"]
    theirs_assignment = THEIRS * 1000
    gets = [
        reverse("teachers:course", args=[THEIRS]),
        reverse("teachers:history", args=[THEIRS]),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = [
        (reverse("teachers:post_grades", args=[THEIRS]), {"assignment": theirs_assignment}),
        (
            reverse("teachers:fix", args=[THEIRS, theirs_assignment]),
            {"fix": "name", "name": "Mine now"},
        ),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert not SyncRun.objects.exists()
    assert Assignment.objects.get(canvas_id=theirs_assignment).name == "Quiz 1"


def test_a_run_of_someone_elses_course_is_not_found_nor_its_progress(world):
    theirs = a_run(THEIRS)
    client = world["client"]
    assert client.get(reverse("teachers:run", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("teachers:run_progress", args=[theirs.pk])).status_code == 404
    mine = a_run(MINE)
    assert client.get(reverse("teachers:run_progress", args=[mine.pk])).status_code == 200


def test_an_assignment_of_another_course_cannot_be_fixed_through_my_course(world):
    url = reverse("teachers:fix", args=[MINE, THEIRS * 1000])
    assert world["client"].post(url, {"fix": "name", "name": "Sneaky"}).status_code == 404


def test_an_inactive_teacher_enrollment_gives_no_access(world):
    Enrollment.objects.filter(person_id=1).update(state="completed")
    client = world["client"]
    assert client.get(reverse("teachers:course", args=[MINE])).status_code == 404
    assert b"No courses yet" in client.get(reverse("teachers:home")).content


def test_district_staff_see_every_course(world):
    staff = User.objects.create_user("dana", is_staff=True)
    staff.groups.add(Group.objects.get_or_create(name=DISTRICT_ADMIN_GROUP)[0])
    client = Client()
    client.force_login(staff)
    page = client.get(reverse("teachers:home")).content.decode()
    assert "Algebra" in page and "Biology" in page
    assert client.get(reverse("teachers:course", args=[THEIRS])).status_code == 200


def test_forms_are_protected_against_cross_site_requests(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["user"])
    url = reverse("teachers:post_grades", args=[MINE])
    assert client.post(url, {"assignment": MINE * 1000}).status_code == 403
    fix = reverse("teachers:fix", args=[MINE, MINE * 1000])
    assert client.post(fix, {"fix": "name", "name": "New"}).status_code == 403
    page = client.get(reverse("teachers:course", args=[MINE])).content.decode()
    assert page.count('name="csrfmiddlewaretoken"') >= 2


# --- my courses --------------------------------------------------------------------------------


def test_my_courses_shows_compliance_blocking_problems_and_last_sync(world):
    Assignment.objects.filter(canvas_id=MINE * 1000).update(name="A" * 40)
    violations_refresh(course_ids=[MINE])
    a_run(MINE)
    page = world["client"].get(reverse("teachers:home")).content.decode()
    assert "Algebra" in page and "Biology" not in page
    assert "67%" in page and "2 of 3 assignments ready" in page
    assert "1 open" in page
    assert "Done" in page


# --- the course page ---------------------------------------------------------------------------


def test_the_course_page_lists_synced_assignments_with_sections_and_post_grades(world):
    Assignment.objects.filter(canvas_id=MINE * 1000 + 2).update(post_to_sis=False)
    response = world["client"].get(reverse("teachers:course", args=[MINE]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Quiz 1" in page and "Quiz 2" in page and "Quiz 3" not in page
    assert "Period 1" in page and "Period 2" in page
    assert page.count('name="assignment"') == 2
    assert "Post Grades" in page
    assert "Never" in page  # never synced yet
    # one student per section, graded a day ago, never sent: one changed grade per section
    assert "2 changed grades" in page


def test_last_sync_shows_the_latest_run_that_covered_each_assignment(world):
    first = a_run(MINE)  # covers every assignment; Quiz 1 synced in Period 1
    later = a_run(MINE)
    later.assignment_ids = [MINE * 1000 + 1]  # covers Quiz 2 only, which got no outcome
    later.save()
    page = world["client"].get(reverse("teachers:course", args=[MINE])).content.decode()
    quiz1 = page.split(f'id="assignment-{MINE * 1000}"')[1].split("</tbody>")[0]
    assert reverse("teachers:run", args=[first.pk]) in quiz1 and "Synced" in quiz1
    quiz3 = page.split(f'id="assignment-{MINE * 1000 + 2}"')[1].split("</tbody>")[0]
    assert "Never" in quiz3  # the run covered it but sent it nowhere


def test_blocking_problems_and_warnings_show_with_their_fix(world):
    long = Assignment.objects.get(canvas_id=MINE * 1000)
    long.name = "A very long assignment name that IC refuses"
    long.save()
    Assignment.objects.filter(canvas_id=MINE * 1000 + 1).update(published=False)
    AssignmentOverride.objects.create(
        canvas_id=1,
        assignment_id=MINE * 1000 + 2,
        target="section",
        section_id=MINE * 10,
        due_at=None,
        due_at_overridden=True,
    )
    violations_refresh(course_ids=[MINE])
    page = world["client"].get(reverse("teachers:course", args=[MINE])).content.decode()
    assert "Name too long" in page and "Shorten the name to 30 characters" in page
    assert f'id="name-{MINE * 1000}"' in page  # renamed right here
    assert "Assignment unpublished" in page
    assert f"/courses/{MINE}/assignments/{MINE * 1000 + 1}" in page  # fixed in Canvas
    assert "Missing due date" in page
    assert f'id="due-{MINE * 1000 + 2}-{MINE * 10}"' in page
    assert "Blocked" in page


def test_the_section_filter_narrows_due_dates_and_counts(world):
    AssignmentOverride.objects.create(
        canvas_id=2,
        assignment_id=MINE * 1000,
        target="section",
        section_id=MINE * 10 + 1,
        due_at=timezone.now() + timedelta(days=3),
        due_at_overridden=True,
    )
    client = world["client"]
    both = client.get(reverse("teachers:course", args=[MINE])).content.decode()
    assert "Period 1:" in both and "Period 2:" in both  # dates differ per section
    one = client.get(reverse("teachers:course", args=[MINE]), {"section": MINE * 10})
    text = one.content.decode()
    assert "Period 1:" not in text  # one section left: one date
    assert "1 changed grade<" in text
    assert f'<input type="hidden" name="section" value="{MINE * 10}">' in text
    assert f'name="section" value="{MINE * 10 + 1}">' not in text.split('id="post-form"')[1]


def test_sorting_by_name_or_date_in_both_directions(world):
    Assignment.objects.filter(canvas_id=MINE * 1000).update(name="Zebra")
    client = world["client"]

    def order(**params) -> list[str]:
        page = client.get(reverse("teachers:course", args=[MINE]), params).content.decode()
        names = ["Zebra", "Quiz 2", "Quiz 3"]
        return sorted(names, key=page.index)

    assert order() == ["Zebra", "Quiz 2", "Quiz 3"]  # due date, earliest first
    assert order(sort="date", dir="desc") == ["Quiz 3", "Quiz 2", "Zebra"]
    assert order(sort="name", dir="asc") == ["Quiz 2", "Quiz 3", "Zebra"]
    assert order(sort="name", dir="desc") == ["Zebra", "Quiz 3", "Quiz 2"]


# --- Post Grades --------------------------------------------------------------------------------


def test_post_grades_queues_a_run_of_the_chosen_sections_and_assignments(world):
    client = world["client"]
    chosen = [MINE * 1000, MINE * 1000 + 2]
    response = client.post(
        reverse("teachers:post_grades", args=[MINE]),
        {"section": [MINE * 10], "assignment": chosen},
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"?section={MINE * 10}")  # the filter stays
    run = SyncRun.objects.get(course_id=MINE)
    assert run.section_ids == [MINE * 10]
    assert run.assignment_ids == chosen
    assert run.requested_by == "Ada Lovelace"
    page = client.get(response["Location"]).content.decode()
    assert "Scheduled" in page and reverse("teachers:run", args=[run.pk]) in page
    assert "Scheduled" not in client.get(response["Location"]).content.decode()  # shown once


def test_posting_while_a_run_is_active_joins_it(world):
    active = a_run(MINE, status=SyncRun.Status.RUNNING)
    response = world["client"].post(
        reverse("teachers:post_grades", args=[MINE]),
        {"section": [MINE * 10], "assignment": [MINE * 1000]},
        follow=True,
    )
    assert SyncRun.objects.filter(course_id=MINE).count() == 1
    page = response.content.decode()
    assert "already under way" in page
    assert reverse("teachers:run", args=[active.pk]) in page


def test_post_grades_when_the_task_queue_is_down_says_so_and_leaves_the_course_free(
    world, monkeypatch
):
    monkeypatch.setattr("django_q.tasks.async_task", queue_down)
    post = {"section": [MINE * 10], "assignment": [MINE * 1000]}
    response = world["client"].post(reverse("teachers:post_grades", args=[MINE]), post)

    assert response.status_code == 503
    page = response.content.decode()
    assert "The task queue did not take passback" in page and "Nothing was sent" in page
    assert "Try again in a minute" in page
    assert not SyncRun.objects.filter(course_id=MINE, status__in=SyncRun.ACTIVE).exists()

    monkeypatch.undo()  # the queue is back: the next Post Grades makes a run of its own
    response = world["client"].post(reverse("teachers:post_grades", args=[MINE]), post)
    assert response.status_code == 302
    assert SyncRun.objects.filter(course_id=MINE).count() == 2


def test_post_grades_without_an_assignment_says_so_and_sends_nothing(world):
    response = world["client"].post(
        reverse("teachers:post_grades", args=[MINE]), {"section": [MINE * 10]}
    )
    assert response.status_code == 400
    assert "Choose at least one assignment" in response.content.decode()
    assert not SyncRun.objects.exists()


def test_post_grades_refuses_an_assignment_that_is_not_synced_in_this_course(world):
    Assignment.objects.filter(canvas_id=MINE * 1000).update(post_to_sis=False)
    for wrong in (MINE * 1000, THEIRS * 1000):
        response = world["client"].post(
            reverse("teachers:post_grades", args=[MINE]),
            {"section": [MINE * 10], "assignment": [wrong]},
        )
        assert response.status_code == 400
        assert "not part of this course" in response.content.decode()
    assert not SyncRun.objects.exists()


def test_post_grades_accepts_only_post(world):
    response = world["client"].get(reverse("teachers:post_grades", args=[MINE]))
    assert response.status_code == 405


# --- runs ------------------------------------------------------------------------------------


def test_the_progress_endpoint_gives_status_counts_and_failed_and_skipped_grades(world):
    run = a_run(MINE)
    response = world["client"].get(reverse("teachers:run_progress", args=[run.pk]))
    data = response.json()
    assert data["status"] == "done" and data["finished"] is True
    assert data["grades"]["posted"] == 1 and data["grades"]["failed"] == 1
    assert data["assignments"][0]["assignment"] == "Quiz 1"
    assert data["assignments"][0]["grades"]["skipped"] == 1
    failed = data["failed"]["grades"][0]
    assert failed["student"].startswith("Student") and failed["reason"] == "sis_rejected"
    assert failed["reason_label"] == "Infinite Campus refused it"
    assert data["skipped"]["grades"][0]["reason_label"] == "No grade entered in Canvas"
    assert "score" not in json.dumps(data).lower().replace("score too high", "")
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_progress_page_shows_the_run_and_polls_while_it_is_active(world):
    run = a_run(MINE, status=SyncRun.Status.RUNNING)
    page = world["client"].get(reverse("teachers:run", args=[run.pk])).content.decode()
    assert 'data-finished="false"' in page
    assert reverse("teachers:run_progress", args=[run.pk]) in page
    assert 'aria-live="polite"' in page
    assert "Infinite Campus refused it" in page and "Score too high" in page
    assert "No grade entered in Canvas" in page


def test_the_history_lists_who_when_status_assignments_and_grades_posted(world):
    a_run(MINE)
    page = world["client"].get(reverse("teachers:history", args=[MINE])).content.decode()
    assert "Ada Lovelace" in page and "Done" in page
    row = page.split("<tbody>")[1]
    assert '<td class="num" data-label="Assignments">1</td>' in row
    assert '<td class="num" data-label="Grades posted">1</td>' in row
