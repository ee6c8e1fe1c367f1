"""The district admin: every page opens, imported data is read-only, search and filters narrow."""

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
from courses.models import (
    Account,
    Assignment,
    AssignmentGroup,
    AssignmentOverride,
    Course,
    Enrollment,
    Person,
    Section,
    Submission,
    Term,
)
from sync.admin import rows_written, run_progress
from sync.models import ImportRun, ImportRunError

pytestmark = pytest.mark.django_db

_ids = itertools.count(1000)
NOW = timezone.now()

IMPORTED_MODELS = [
    Account,
    Term,
    Course,
    Section,
    Person,
    Enrollment,
    AssignmentGroup,
    Assignment,
    AssignmentOverride,
    Submission,
]


# --- factories -----------------------------------------------------------------------------------


def make_account(**fields: object) -> Account:
    return Account.objects.create(**{"canvas_id": next(_ids), "name": "North High", **fields})


def make_term(**fields: object) -> Term:
    return Term.objects.create(**{"canvas_id": next(_ids), "name": "Fall 2026", **fields})


def make_course(**fields: object) -> Course:
    defaults = {"canvas_id": next(_ids), "name": "Algebra I", "workflow_state": "available"}
    if "account" not in fields:
        defaults["account"] = make_account()
    return Course.objects.create(**{**defaults, **fields})


def make_section(course: Course, **fields: object) -> Section:
    return Section.objects.create(
        **{"canvas_id": next(_ids), "course": course, "name": "Period 1", **fields}
    )


def make_person(name: str = "Ada Lovelace", **fields: object) -> Person:
    first, _, last = name.rpartition(" ")
    return Person.objects.create(
        **{"canvas_id": next(_ids), "name": name, "sortable_name": f"{last}, {first}", **fields}
    )


def make_enrollment(person: Person, section: Section, **fields: object) -> Enrollment:
    return Enrollment.objects.create(
        **{
            "canvas_id": next(_ids),
            "person": person,
            "section": section,
            "course": section.course,
            "type": "student",
            **fields,
        }
    )


def make_group(course: Course, **fields: object) -> AssignmentGroup:
    return AssignmentGroup.objects.create(
        **{"canvas_id": next(_ids), "course": course, "name": "Homework", **fields}
    )


def make_assignment(course: Course, **fields: object) -> Assignment:
    return Assignment.objects.create(
        **{
            "canvas_id": next(_ids),
            "course": course,
            "name": "Quiz 1",
            "published": True,
            "post_to_sis": True,
            "html_url": f"https://canvas.example.org/courses/{course.canvas_id}/assignments/1",
            **fields,
        }
    )


def make_override(assignment: Assignment, **fields: object) -> AssignmentOverride:
    return AssignmentOverride.objects.create(
        **{"canvas_id": next(_ids), "assignment": assignment, "target": "section", **fields}
    )


def make_submission(assignment: Assignment, student: Person, **fields: object) -> Submission:
    return Submission.objects.create(
        **{
            "canvas_id": next(_ids),
            "course": assignment.course,
            "assignment": assignment,
            "student": student,
            "score": 9.0,
            "grade": "9",
            "graded_at": NOW,
            **fields,
        }
    )


def make_district() -> dict[str, object]:
    """One of every imported row, wired together."""
    term = make_term()
    course = make_course(term=term)
    section = make_section(course, sis_section_id="S-1")
    student = make_person()
    enrollment = make_enrollment(student, section)
    group = make_group(course)
    assignment = make_assignment(course, group=group)
    override = make_override(assignment, section=section, due_at=NOW, due_at_overridden=True)
    submission = make_submission(assignment, student)
    return {
        "account": course.account,
        "term": term,
        "course": course,
        "section": section,
        "person": student,
        "enrollment": enrollment,
        "assignmentgroup": group,
        "assignment": assignment,
        "assignmentoverride": override,
        "submission": submission,
    }


def make_run(**fields: object) -> ImportRun:
    return ImportRun.objects.create(**{"kind": "full", "started_at": NOW, **fields})


def changelist(model: type, **params: object) -> str:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return url


def change_page(obj: object) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def listed(client: Client, model: type, **params: object) -> list:
    response = client.get(changelist(model, **params))
    assert response.status_code == 200  # a bad filter would redirect to ?e=1
    return list(response.context["cl"].result_list)


# --- every page opens ----------------------------------------------------------------------------


@pytest.mark.parametrize("model", IMPORTED_MODELS, ids=lambda m: m.__name__)
def test_every_imported_changelist_opens(admin_client: Client, model: type) -> None:
    make_district()

    response = admin_client.get(changelist(model))

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) >= 1


@pytest.mark.parametrize("model", IMPORTED_MODELS, ids=lambda m: m.__name__)
def test_every_imported_detail_page_opens(admin_client: Client, model: type) -> None:
    row = make_district()[model._meta.model_name]

    response = admin_client.get(change_page(row))

    assert response.status_code == 200


@pytest.mark.parametrize("model", IMPORTED_MODELS, ids=lambda m: m.__name__)
def test_changelist_queries_do_not_grow_with_the_rows_listed(
    admin_client: Client, model: type
) -> None:
    make_district()
    with CaptureQueriesContext(connection) as few:
        admin_client.get(changelist(model))
    make_district()
    make_district()

    with CaptureQueriesContext(connection) as more:
        admin_client.get(changelist(model))

    assert len(more) == len(few)


def test_an_override_naming_a_section_canvas_deleted_still_lists(admin_client: Client) -> None:
    assignment = make_assignment(make_course())
    make_override(assignment, section_id=999_999_999)

    assert len(listed(admin_client, AssignmentOverride)) == 1
    assert admin_client.get(change_page(assignment)).status_code == 200


# --- read-only -----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", IMPORTED_MODELS, ids=lambda m: m.__name__)
def test_imported_data_can_be_viewed_but_not_added_changed_or_deleted(
    admin_client: Client, rf: object, admin_user: User, model: type
) -> None:
    row = make_district()[model._meta.model_name]
    model_admin = admin.site.get_model_admin(model)
    request = rf.get("/")
    request.user = admin_user

    assert model_admin.has_view_permission(request, row)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, row)
    assert not model_admin.has_delete_permission(request, row)
    opts = model._meta
    add_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
    assert admin_client.get(add_url).status_code == 403
    assert admin_client.post(change_page(row), {}).status_code == 403


def test_a_course_cannot_be_renamed_through_the_admin(admin_client: Client) -> None:
    course = make_course(name="Algebra I")

    admin_client.post(change_page(course), {"name": "Renamed"})

    course.refresh_from_db()
    assert course.name == "Algebra I"


def test_the_detail_page_shows_at_most_the_inline_limit(admin_client: Client) -> None:
    course = make_course()
    for n in range(INLINE_LIMIT + 5):
        make_section(course, name=f"Period {n}")

    response = admin_client.get(change_page(course))

    sections = response.context["inline_admin_formsets"][0].formset
    assert sections.model is Section
    assert len(sections.forms) == INLINE_LIMIT


def test_an_assignment_page_lists_its_overrides(admin_client: Client) -> None:
    assignment = make_assignment(make_course())
    make_override(assignment, title="Extra time group", target="students")

    response = admin_client.get(change_page(assignment))

    assert b"Extra time group" in response.content


# --- columns and links ---------------------------------------------------------------------------


def test_a_course_links_to_its_canvas_page_in_a_new_tab(
    admin_client: Client, settings: object
) -> None:
    settings.CANVAS_BASE_URL = "https://district.instructure.com/"
    course = make_course()

    response = admin_client.get(changelist(Course))

    link = f'href="https://district.instructure.com/courses/{course.canvas_id}" target="_blank"'
    assert link in response.content.decode()


def test_an_assignment_links_to_its_canvas_page_in_a_new_tab(admin_client: Client) -> None:
    assignment = make_assignment(make_course())

    response = admin_client.get(changelist(Assignment))

    assert f'href="{assignment.html_url}" target="_blank"' in response.content.decode()


def test_the_course_list_counts_sections_and_synced_assignments(admin_client: Client) -> None:
    course = make_course()
    make_section(course)
    make_section(course)
    make_section(course, deleted=True)
    make_assignment(course)
    make_assignment(course, post_to_sis=False)
    make_assignment(course, deleted=True)

    (row,) = listed(admin_client, Course)

    assert (row.section_count, row.synced_assignment_count) == (2, 1)


def test_a_course_page_counts_its_rows_and_links_to_them(admin_client: Client) -> None:
    course = make_course()
    make_section(course)
    make_section(course, deleted=True)
    grade = make_submission(make_assignment(course), make_person())
    make_submission(make_assignment(make_course()), make_person())

    page = admin_client.get(change_page(course)).content.decode()

    assert f'?course={course.canvas_id}&amp;deleted=0">1 sections</a>' in page
    assert listed(admin_client, Submission, course=course.canvas_id, deleted=0) == [grade]


def test_big_tables_skip_the_unfiltered_total_count() -> None:
    for model in (Person, Enrollment, Assignment, AssignmentOverride, Submission):
        assert admin.site.get_model_admin(model).show_full_result_count is False


def test_the_site_is_titled_gpb_control_tower(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:index"))

    assert b"GPB control tower" in response.content


# --- search --------------------------------------------------------------------------------------


def test_searching_courses_by_name_finds_only_matching_courses(admin_client: Client) -> None:
    algebra = make_course(name="Algebra I")
    make_course(name="Biology")

    assert listed(admin_client, Course, q="algebra") == [algebra]


def test_searching_a_number_finds_the_row_with_that_canvas_id(admin_client: Client) -> None:
    make_course(name="Algebra I")
    biology = make_course(name="Biology")

    assert listed(admin_client, Course, q=biology.canvas_id) == [biology]


def test_searching_people_by_exact_sis_id_finds_that_person(admin_client: Client) -> None:
    ada = make_person(sis_user_id="S123")
    make_person(name="Grace Hopper", sis_user_id="S1234")

    assert listed(admin_client, Person, q="S123") == [ada]


def test_searching_grades_by_student_name_finds_that_students_grades(
    admin_client: Client,
) -> None:
    assignment = make_assignment(make_course())
    ada = make_person(name="Ada Lovelace")
    grace = make_person(name="Grace Hopper")
    ada_grade = make_submission(assignment, ada)
    make_submission(assignment, grace)

    assert listed(admin_client, Submission, q="lovelace") == [ada_grade]


def test_an_assignments_grades_link_lists_only_its_grades(admin_client: Client) -> None:
    course = make_course()
    quiz, test = make_assignment(course), make_assignment(course, name="Test")
    ada = make_person()
    quiz_grade = make_submission(quiz, ada)
    make_submission(test, ada)

    assert listed(admin_client, Submission, assignment=quiz.canvas_id) == [quiz_grade]


# --- filters -------------------------------------------------------------------------------------


def test_courses_filter_by_state_school_and_term(admin_client: Client) -> None:
    north, south = make_account(name="North"), make_account(name="South")
    fall, spring = make_term(name="Fall"), make_term(name="Spring")
    wanted = make_course(account=north, term=fall, workflow_state="unpublished")
    make_course(account=north, term=fall, workflow_state="available")
    make_course(account=south, term=fall, workflow_state="unpublished")
    make_course(account=north, term=spring, workflow_state="unpublished")

    found = listed(
        admin_client,
        Course,
        course_state="unpublished",
        school=north.canvas_id,
        term=fall.canvas_id,
    )

    assert found == [wanted]


def test_a_course_counts_as_in_sis_through_a_section_sis_id(admin_client: Client) -> None:
    by_section = make_course(name="A")
    make_section(by_section, sis_section_id="SEC-1")
    by_course = make_course(name="B", sis_course_id="CRS-1")
    neither = make_course(name="C")
    make_section(neither, sis_section_id="")

    assert listed(admin_client, Course, in_sis="yes") == [by_section, by_course]
    assert listed(admin_client, Course, in_sis="no") == [neither]


def test_grades_filter_by_school_and_graded_state(admin_client: Client) -> None:
    north = make_course(account=make_account(name="North"))
    south = make_course(account=make_account(name="South"))
    ada = make_person()
    graded = make_submission(make_assignment(north), ada)
    make_submission(make_assignment(north, name="Quiz 2"), ada, score=None, grade=None)
    make_submission(make_assignment(south), ada)

    assert listed(admin_client, Submission, school=north.account_id, graded="yes") == [graded]


def test_assignments_filter_by_student_overrides(admin_client: Client) -> None:
    course = make_course()
    differentiated = make_assignment(course, name="Differentiated")
    make_override(differentiated, target="students", student_canvas_ids=[1, 2])
    by_section = make_assignment(course, name="By section")
    make_override(by_section, section=make_section(course))
    plain = make_assignment(course, name="Plain")

    assert listed(admin_client, Assignment, overrides="students") == [differentiated]
    assert listed(admin_client, Assignment, overrides="none") == [plain]


def test_people_filter_to_teachers(admin_client: Client) -> None:
    section = make_section(make_course())
    teacher = make_person(name="Ms Teacher")
    make_enrollment(teacher, section, type="teacher")
    make_enrollment(make_person(name="A Student"), section)

    assert listed(admin_client, Person, teacher="yes") == [teacher]


# --- import runs ---------------------------------------------------------------------------------


def test_a_running_import_shows_courses_done_out_of_the_total(admin_client: Client) -> None:
    make_run(courses_done=312, courses_total=1000)

    response = admin_client.get(changelist(ImportRun))

    assert b"312 / 1000 (31%)" in response.content
    assert b"so far" in response.content


def test_progress_never_rounds_up_to_complete() -> None:
    assert run_progress(ImportRun(courses_done=999, courses_total=1000)) == "999 / 1000 (99%)"


def test_progress_before_the_courses_are_listed_has_no_percentage() -> None:
    assert run_progress(ImportRun(courses_done=0, courses_total=0)) == "0 / 0"


def test_rows_written_leaves_out_skipped_rows() -> None:
    counts = {"courses": 2, "submissions": 1000, "submissions_skipped": 7}

    assert rows_written(counts) == 1002


def test_a_finished_import_page_shows_counts_duration_and_course_errors(
    admin_client: Client,
) -> None:
    run = make_run(
        status="partial",
        finished_at=NOW + timedelta(minutes=4, seconds=5),
        courses_done=9,
        courses_total=10,
        courses_failed=1,
        counts={"courses": 9, "submissions": 12345},
    )
    ImportRunError.objects.create(
        run=run, course_canvas_id=77, course_name="Chemistry", message="Malformed JSON"
    )

    listing = admin_client.get(changelist(ImportRun)).content.decode()
    detail = admin_client.get(change_page(run)).content.decode()

    assert "4m 05s" in listing
    assert "12,354" in listing
    assert "Chemistry" in detail
    assert "Malformed JSON" in detail
    assert "&quot;submissions&quot;: 12345" in detail


def test_import_runs_filter_by_kind_and_status(admin_client: Client) -> None:
    wanted = make_run(kind="incremental", status="failed")
    make_run(kind="full", status="failed")
    make_run(kind="incremental", status="succeeded")

    assert listed(admin_client, ImportRun, kind__exact="incremental", status__exact="failed") == [
        wanted
    ]


def test_import_runs_cannot_be_added_or_changed(admin_client: Client) -> None:
    run = make_run()

    assert admin_client.get(reverse("admin:sync_importrun_add")).status_code == 403
    assert admin_client.post(change_page(run), {"status": "failed"}).status_code == 403
    run.refresh_from_db()
    assert run.status == "running"


def test_superusers_can_delete_import_runs(admin_client: Client) -> None:
    run = make_run()

    response = admin_client.post(
        reverse("admin:sync_importrun_delete", args=[run.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not ImportRun.objects.exists()


def test_staff_who_are_not_superusers_cannot_delete_import_runs(client: Client) -> None:
    staff = User.objects.create_user("clerk", password="pw", is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(codename__in=["view_importrun", "delete_importrun"])
    )
    client.force_login(staff)
    run = make_run()

    assert client.get(change_page(run)).status_code == 200
    assert client.post(reverse("admin:sync_importrun_delete", args=[run.pk])).status_code == 403
    assert ImportRun.objects.exists()
