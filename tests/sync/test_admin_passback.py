"""The passback admin: runs with counts and progress, outcomes, filters, retries, connection."""

import itertools
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from courses.admin import INLINE_LIMIT
from courses.models import Assignment, Course, Person, Section
from sync.admin.passback import grade_progress
from sync.models import AssignmentOutcome, GradeOutcome, SyncRun
from sync.oneroster import OneRosterError
from sync.passback_payloads import line_item_id, result_id
from sync.permissions import DISTRICT_ADMIN_GROUP, district_admin_group_ensure
from tests.courses.test_admin import (
    make_account,
    make_assignment,
    make_course,
    make_person,
    make_section,
)
from tests.sync.queued_tasks import queue_down
from tests.sync.test_admin_violations import make_district_admin

pytestmark = pytest.mark.django_db

NOW = timezone.now()
_ids = itertools.count(1)
PASSBACK_MODELS = [SyncRun, AssignmentOutcome, GradeOutcome]


# --- factories -----------------------------------------------------------------------------------


def make_run(course: Course, status: str = "done", **fields: object) -> SyncRun:
    finished = status in ("done", "failed")
    return SyncRun.objects.create(
        **{
            "course": course,
            "status": status,
            "requested_at": NOW - timedelta(minutes=10),
            "started_at": None if status == "queued" else NOW - timedelta(minutes=9),
            "finished_at": NOW - timedelta(minutes=7) if finished else None,
            **fields,
        }
    )


def make_outcome(
    run: SyncRun, assignment: Assignment, section: Section, status: str = "synced", **fields
) -> AssignmentOutcome:
    return AssignmentOutcome.objects.create(
        **{
            "run": run,
            "assignment": assignment,
            "section": section,
            "status": status,
            "line_item_sourced_id": line_item_id(assignment.canvas_id, section.canvas_id),
            **fields,
        }
    )


def make_grade(
    outcome: AssignmentOutcome, student: Person, status: str = "posted", **fields: object
) -> GradeOutcome:
    return GradeOutcome.objects.create(
        **{
            "run": outcome.run,
            "assignment_outcome": outcome,
            "student": student,
            "result_sourced_id": result_id(
                outcome.assignment_id, outcome.section_id, student.canvas_id
            ),
            "status": status,
            "http_status": 201 if status == "posted" else None,
            "attempts": 1 if status in ("posted", "failed") else 0,
            "sent_at": NOW if status == "posted" else None,
            "created_at": NOW,
            **fields,
        }
    )


def make_passback(course: Course | None = None, status: str = "running") -> SyncRun:
    """A run of 4 line items (2 synced, 1 blocked, 1 failed) and 9 grades (3 posted,
    1 unchanged, 2 skipped, 1 failed, 2 pending)."""
    course = course or make_course()
    period1 = make_section(course, name="Period 1", sis_section_id=f"S-{next(_ids)}")
    period2 = make_section(course, name="Period 2", sis_section_id=None)
    quiz = make_assignment(course, name="Quiz 1")
    test = make_assignment(course, name="Unit test")
    run = make_run(course, status)
    synced = make_outcome(run, quiz, period1)
    make_outcome(run, test, period1, "synced")
    make_outcome(run, quiz, period2, "blocked", rule_codes=["section_not_in_sis"])
    failed = make_outcome(run, test, period2, "failed", http_status=422, message="Rejected")
    grades = [
        ("posted", {}),
        ("posted", {}),
        ("posted", {}),
        ("unchanged", {"reason": "same_as_sent"}),
        ("skipped", {"reason": "no_grade"}),
        ("skipped", {"reason": "student_not_in_sis"}),
        ("failed", {"reason": "sis_rejected", "http_status": 422, "detail": "not enrolled"}),
        ("pending", {}),
        ("pending", {}),
    ]
    for n, (status_, fields) in enumerate(grades):
        student = make_person(name=f"Student {n} {next(_ids)}", sis_user_id=f"U{next(_ids)}")
        make_grade(failed if status_ == "failed" else synced, student, status_, **fields)
    return run


def changelist(model: type) -> str:
    return reverse(f"admin:sync_{model._meta.model_name}_changelist")


def listed(client: Client, model: type, **params: object) -> list:
    response = client.get(changelist(model), params)
    assert response.status_code == 200, response.get("Location")  # a bad filter redirects
    return list(response.context["cl"].result_list)


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


@pytest.fixture
def district_admin_client(client: Client) -> Client:
    client.force_login(make_district_admin())
    return client


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Tasks the services enqueue, recorded instead of run."""
    calls: list[tuple] = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kw: calls.append(args))
    return calls


# --- pages open ----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", PASSBACK_MODELS, ids=lambda m: m.__name__)
def test_every_passback_list_and_detail_page_opens_for_a_superuser(
    admin_client: Client, model: type
) -> None:
    make_passback()

    rows = listed(admin_client, model)
    page = admin_client.get(
        reverse(f"admin:sync_{model._meta.model_name}_change", args=[rows[0].pk])
    )

    assert rows
    assert page.status_code == 200


@pytest.mark.parametrize("model", PASSBACK_MODELS, ids=lambda m: m.__name__)
def test_the_district_admin_group_views_every_passback_page(
    district_admin_client: Client, model: type
) -> None:
    make_passback()
    group = district_admin_group_ensure()

    assert group.name == DISTRICT_ADMIN_GROUP
    assert group.permissions.filter(codename=f"view_{model._meta.model_name}").exists()
    rows = listed(district_admin_client, model)
    url = reverse(f"admin:sync_{model._meta.model_name}_change", args=[rows[0].pk])
    assert district_admin_client.get(url).status_code == 200


def test_a_queued_run_without_outcomes_lists_and_opens(admin_client: Client) -> None:
    run = make_run(make_course(), "queued")

    (row,) = listed(admin_client, SyncRun)
    page = admin_client.get(reverse("admin:sync_syncrun_change", args=[run.pk]))

    assert row == run
    assert page.status_code == 200


# --- counts and progress -------------------------------------------------------------------------


def test_the_run_list_counts_line_items_and_grades_per_status(admin_client: Client) -> None:
    make_passback()

    response = admin_client.get(changelist(SyncRun))

    (row,) = response.context["cl"].result_list
    assert (row.assignments_synced, row.assignments_blocked, row.assignments_failed) == (2, 1, 1)
    assert (row.grades_posted, row.grades_unchanged, row.grades_skipped) == (3, 1, 2)
    assert (row.grades_failed, row.grades_pending) == (1, 2)
    page = response.content.decode()
    assert "2 synced, 1 blocked, 1 failed" in page
    assert "2 pending, 3 posted, 1 unchanged, 2 skipped, 1 failed" in page


def test_a_running_run_shows_grades_sent_out_of_all_its_grades(admin_client: Client) -> None:
    make_passback(status="running")

    page = admin_client.get(changelist(SyncRun)).content.decode()

    assert "7 / 9 grades sent" in page
    assert "so far" in page  # the duration of a run still going


def test_progress_counts_thousands_and_only_while_running() -> None:
    grades = {"pending": 688, "posted": 300, "unchanged": 10, "skipped": 2, "failed": 0}

    assert grade_progress(SyncRun(status="running"), grades) == "312 / 1,000 grades sent"
    assert grade_progress(SyncRun(status="done"), grades) == "-"


def test_a_finished_run_shows_how_long_it_took(admin_client: Client) -> None:
    make_passback(status="done")

    page = admin_client.get(changelist(SyncRun)).content.decode()

    assert '<td class="field-duration">2m 00s</td>' in page
    assert '<td class="field-progress">-</td>' in page


def test_the_run_page_shows_the_counts_the_message_and_links_to_its_outcomes(
    admin_client: Client,
) -> None:
    run = make_passback(status="failed")
    SyncRun.objects.filter(pk=run.pk).update(message="Infinite Campus rejected the secret")
    other = make_passback()

    page = admin_client.get(reverse("admin:sync_syncrun_change", args=[run.pk])).content.decode()

    assert "2 synced, 1 blocked, 1 failed" in page
    assert "Infinite Campus rejected the secret" in page
    assert f'{changelist(AssignmentOutcome)}?run={run.pk}">4 line items</a>' in page
    assert f'{changelist(GradeOutcome)}?run={run.pk}">9 grades</a>' in page
    assert f"?run={run.pk}&amp;status__exact=failed" in page
    assert {o.run_id for o in listed(admin_client, GradeOutcome, run=run.pk)} == {run.pk}
    assert len(listed(admin_client, AssignmentOutcome, run=other.pk)) == 4
    (failed,) = listed(admin_client, GradeOutcome, run=run.pk, status__exact="failed")
    assert failed.reason == "sis_rejected"


def test_the_run_page_lists_its_line_items_failed_and_blocked_first_up_to_the_limit(
    admin_client: Client,
) -> None:
    run = make_passback()
    section = Section.objects.filter(course=run.course_id).first()
    for _ in range(INLINE_LIMIT):
        make_outcome(run, make_assignment(run.course), section, "no_changes")

    response = admin_client.get(reverse("admin:sync_syncrun_change", args=[run.pk]))

    formset = response.context["inline_admin_formsets"][0].formset
    statuses = [form.instance.status for form in formset.forms]
    assert len(statuses) == INLINE_LIMIT
    assert statuses[:2] == ["failed", "blocked"]


def test_list_queries_do_not_grow_with_the_rows_listed(admin_client: Client) -> None:
    make_passback()
    few = {}
    for model in PASSBACK_MODELS:
        with CaptureQueriesContext(connection) as queries:
            admin_client.get(changelist(model))
        few[model] = len(queries)
    make_passback()
    make_passback(status="done")

    for model in PASSBACK_MODELS:
        with CaptureQueriesContext(connection) as queries:
            admin_client.get(changelist(model))
        assert len(queries) == few[model], model.__name__


def test_the_grade_list_skips_the_total_count_and_facets() -> None:
    grades = admin.site.get_model_admin(GradeOutcome)

    assert grades.show_full_result_count is False
    assert grades.show_facets is admin.ShowFacets.NEVER
    assert grades.list_select_related


# --- filters and search --------------------------------------------------------------------------


def test_runs_filter_by_status_school_and_requested_date(admin_client: Client) -> None:
    north, south = make_account(name="North"), make_account(name="South")
    wanted = make_run(make_course(account=north), "failed")
    make_run(make_course(account=north), "done")
    make_run(make_course(account=south), "failed")
    old = make_run(make_course(account=north), "failed", requested_at=NOW - timedelta(days=40))

    assert listed(admin_client, SyncRun, status__exact="failed", school=north.canvas_id) == [
        wanted,
        old,
    ]
    since = (NOW - timedelta(days=7)).isoformat()
    found = listed(admin_client, SyncRun, school=north.canvas_id, requested_at__gte=since)
    assert old not in found and wanted in found


def test_runs_filter_by_whether_the_nightly_schedule_or_a_person_asked(
    admin_client: Client,
) -> None:
    course = make_course()
    nightly = make_run(course, "done", scheduled=True, requested_by="nightly schedule")
    teacher = make_run(course, "done", requested_by="teacher")

    assert listed(admin_client, SyncRun, requester="schedule") == [nightly]
    assert listed(admin_client, SyncRun, requester="person") == [teacher]
    response = admin_client.get(changelist(SyncRun), {"requester": "robot"})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


def test_outcomes_filter_by_school_course_status_and_http_status(admin_client: Client) -> None:
    north = make_course(account=make_account(name="North"))
    run = make_passback(north)
    make_passback(make_course(account=make_account(name="South")))

    by_school = listed(admin_client, AssignmentOutcome, school=north.account_id)
    by_course = listed(admin_client, GradeOutcome, course=north.canvas_id)
    rejected = listed(admin_client, AssignmentOutcome, http="4xx")

    assert {o.run_id for o in by_school} == {run.pk} and len(by_school) == 4
    assert {g.run_id for g in by_course} == {run.pk} and len(by_course) == 9
    assert len(rejected) == 2 and {o.status for o in rejected} == {"failed"}
    assert len(listed(admin_client, AssignmentOutcome, status__exact="blocked")) == 2
    accepted = listed(admin_client, GradeOutcome, http="2xx", school=north.account_id)
    assert len(accepted) == 3


def test_grades_filter_by_reason(admin_client: Client) -> None:
    make_passback()

    found = listed(admin_client, GradeOutcome, reason="student_not_in_sis")

    assert [g.reason for g in found] == ["student_not_in_sis"]


def test_the_course_filter_names_the_chosen_course(admin_client: Client) -> None:
    run = make_passback(make_course(name="Algebra II"))

    page = admin_client.get(changelist(GradeOutcome), {"course": run.course_id}).content.decode()

    assert "Algebra II" in page


def test_a_bad_filter_value_shows_the_admin_error_instead_of_failing(
    admin_client: Client,
) -> None:
    response = admin_client.get(changelist(GradeOutcome), {"run": "abc"})

    assert response.status_code == 302 and response["Location"].endswith("?e=1")


def test_grades_are_found_by_student_name_sis_id_or_result_sourced_id(
    admin_client: Client,
) -> None:
    run = make_passback()
    ada = make_person(name="Ada Lovelace", sis_user_id="S-ADA")
    outcome = run.assignments.filter(status="synced").first()
    grade = make_grade(outcome, ada)

    assert listed(admin_client, GradeOutcome, q="lovelace") == [grade]
    assert listed(admin_client, GradeOutcome, q="S-ADA") == [grade]
    assert listed(admin_client, GradeOutcome, q=grade.result_sourced_id) == [grade]


def test_a_grade_row_names_its_student_with_the_sis_id(admin_client: Client) -> None:
    run = make_passback()
    make_grade(
        run.assignments.filter(status="synced").first(),
        make_person(name="No Sis", sis_user_id=None),
    )

    page = admin_client.get(changelist(GradeOutcome)).content.decode()

    assert "No Sis (no SIS id)" in page
    assert "Period 1 (S-" in page


# --- read-only -----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", PASSBACK_MODELS, ids=lambda m: m.__name__)
def test_passback_rows_are_read_only_and_only_superusers_delete_them(
    rf, admin_user: User, model: type
) -> None:
    make_passback()
    row = model.objects.first()
    model_admin = admin.site.get_model_admin(model)
    request = rf.get("/")
    request.user = admin_user
    staff = make_district_admin()

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, row)
    assert model_admin.has_delete_permission(request, row)
    request.user = staff
    assert model_admin.has_view_permission(request, row)
    assert not model_admin.has_delete_permission(request, row)


# --- retries -------------------------------------------------------------------------------------


def run_action(client: Client, action: str, *runs: SyncRun):
    return client.post(
        changelist(SyncRun),
        {"action": action, "_selected_action": [run.pk for run in runs]},
        follow=True,
    )


def test_retrying_failed_grades_queues_a_run_of_the_failed_pairs(
    admin_client: Client, enqueued: list
) -> None:
    run = make_passback(status="done")
    failed = run.assignments.get(status="failed")

    response = run_action(admin_client, "retry_failed", run)

    retry = SyncRun.objects.exclude(pk=run.pk).get()
    assert (retry.status, retry.requested_by) == ("queued", "admin")
    assert retry.assignment_ids == [failed.assignment_id]
    assert retry.section_ids == [failed.section_id]
    assert enqueued == [("sync.tasks.passback_start", retry.pk, 1)]
    assert messages_of(response) == [
        ("success", f"Failed grades retried: #{run.pk} queued as #{retry.pk}.")
    ]


def test_retrying_a_run_queues_it_again_with_the_same_selection(
    admin_client: Client, enqueued: list
) -> None:
    run = make_passback(status="failed")
    SyncRun.objects.filter(pk=run.pk).update(section_ids=[1, 2])

    response = run_action(admin_client, "retry_run", run)

    retry = SyncRun.objects.exclude(pk=run.pk).get()
    assert (retry.section_ids, retry.assignment_ids) == ([1, 2], [])
    assert messages_of(response) == [("success", f"Runs retried: #{run.pk} queued as #{retry.pk}.")]


def test_retrying_a_running_run_resumes_it_and_one_with_nothing_failed_says_so(
    admin_client: Client, enqueued: list
) -> None:
    running = make_passback(status="running")
    clean = make_run(make_course(), "done")

    response = run_action(admin_client, "retry_failed", running, clean)

    assert SyncRun.objects.count() == 2
    assert enqueued == [("sync.tasks.passback_start", running.pk, 2)]  # queued again
    assert messages_of(response) == [
        (
            "success",
            f"Failed grades retried: #{running.pk} resumed; "
            f"#{clean.pk} had nothing failed to retry.",
        )
    ]


def test_retrying_needs_the_change_permission_the_district_admin_group_lacks(
    rf, enqueued: list
) -> None:
    run = make_passback(status="done")
    staff = make_district_admin()
    model_admin = admin.site.get_model_admin(SyncRun)
    request = rf.get("/")
    request.user = staff

    assert not {"retry_failed", "retry_run"} & set(model_admin.get_actions(request))
    client = Client()
    client.force_login(staff)
    run_action(client, "retry_failed", run)
    assert SyncRun.objects.count() == 1 and not enqueued

    staff.user_permissions.add(Permission.objects.get(codename="change_syncrun"))
    request.user = User.objects.get(pk=staff.pk)  # permissions are cached per user object
    assert {"retry_failed", "retry_run"} <= set(model_admin.get_actions(request))
    assert not model_admin.has_change_permission(request, run)


# --- testing the connection ----------------------------------------------------------------------


class CheckingSis:
    """A OneRoster client that only answers the connection check."""

    def __init__(self, answer: str | Exception) -> None:
        self.answer = answer

    def check_connection(self) -> str:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def __enter__(self) -> "CheckingSis":
        return self

    def __exit__(self, *exc: object) -> None:
        pass


CONNECTION = "admin:sync_syncrun_test_connection"


def test_the_run_list_offers_a_connection_test(admin_client: Client) -> None:
    page = admin_client.get(changelist(SyncRun)).content.decode()

    assert f'href="{reverse(CONNECTION)}"' in page
    assert "Test connection to Infinite Campus" in page


def test_a_working_connection_shows_what_infinite_campus_accepted(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = "Connected to Infinite Campus at https://ic.example (OneRoster 1.2): token accepted"
    monkeypatch.setattr("sync.passback.sis_client", lambda: CheckingSis(line))

    response = admin_client.get(reverse(CONNECTION), follow=True)

    assert response.redirect_chain[-1][0] == changelist(SyncRun)
    assert messages_of(response) == [("success", line)]


def test_a_rejected_secret_is_shown_as_an_error_saying_what_to_fix(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = OneRosterError(
        "Infinite Campus rejected the client secret: check SIS_CLIENT_SECRET", kind="auth"
    )
    monkeypatch.setattr("sync.passback.sis_client", lambda: CheckingSis(error))

    response = admin_client.get(reverse(CONNECTION), follow=True)

    assert messages_of(response) == [("error", str(error))]


def test_missing_settings_are_named_in_the_error(admin_client: Client, settings) -> None:
    settings.SIS_BASE_URL = settings.SIS_TOKEN_URL = ""

    response = admin_client.get(reverse(CONNECTION), follow=True)

    ((level, text),) = messages_of(response)
    assert level == "error" and "set SIS_BASE_URL, SIS_TOKEN_URL" in text


def test_the_connection_test_needs_view_permission_on_runs(client: Client) -> None:
    client.force_login(User.objects.create_user("nobody", password="pw", is_staff=True))

    assert client.get(reverse(CONNECTION)).status_code == 403


@pytest.mark.django_db
def test_the_course_list_action_queues_a_passback_run_per_course(admin_client, monkeypatch):
    from courses.models import Account, Course

    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: queued.append(args))
    Account.objects.create(canvas_id=1, name="root")
    course = Course.objects.create(
        canvas_id=77, account_id=1, name="Algebra", workflow_state="available"
    )

    response = admin_client.post(
        "/admin/courses/course/",
        {"action": "pass_back", "_selected_action": [str(course.pk)]},
        follow=True,
    )

    run = SyncRun.objects.get(course_id=77)
    assert run.status == "queued"
    assert queued == [("sync.tasks.passback_start", run.pk, 1)]
    assert f"Queued passback runs #{run.pk}" in response.content.decode()


@pytest.mark.django_db
def test_the_course_list_action_says_when_the_task_queue_is_down(admin_client, monkeypatch):
    from courses.models import Account, Course

    monkeypatch.setattr("django_q.tasks.async_task", queue_down)
    Account.objects.create(canvas_id=1, name="root")
    course = Course.objects.create(
        canvas_id=77, account_id=1, name="Algebra", workflow_state="available"
    )

    response = admin_client.post(
        "/admin/courses/course/",
        {"action": "pass_back", "_selected_action": [str(course.pk)]},
        follow=True,
    )

    ((level, text),) = messages_of(response)
    assert level == "error" and "The task queue did not take passback" in text
    run = SyncRun.objects.get(course_id=77)
    assert run.status == "failed" and run.message == text  # the course is not held


def test_retrying_when_the_task_queue_is_down_says_so_and_keeps_the_run_as_it_was(
    admin_client: Client, monkeypatch
) -> None:
    running = make_passback(status="running")

    monkeypatch.setattr("django_q.tasks.async_task", queue_down)

    response = run_action(admin_client, "retry_run", running)

    ((level, text),) = messages_of(response)
    assert level == "error" and f"did not take passback #{running.pk}" in text
    running.refresh_from_db()
    assert (running.status, running.dispatch) == ("running", 1)
