"""The violation admin: open only by default, every filter narrows, search, CSV, inlines, speed."""

import csv
import io
import itertools
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from courses.admin import INLINE_LIMIT
from courses.models import Assignment, Course, Section
from sync.models import Violation
from sync.permissions import DISTRICT_ADMIN_GROUP, district_admin_group_ensure
from sync.violation_rows import COLUMNS
from tests.courses.test_admin import (
    make_account,
    make_assignment,
    make_course,
    make_enrollment,
    make_person,
    make_section,
    make_term,
)

pytestmark = pytest.mark.django_db

_keys = itertools.count(1)
CHANGELIST = "admin:sync_violation_changelist"


# --- factories -----------------------------------------------------------------------------------


def make_violation(
    course: Course,
    rule: str = "name_too_long",
    *,
    assignment: Assignment | None = None,
    section: Section | None = None,
    days_open: float = 1,
    resolved_days_later: float | None = None,
    **fields: object,
) -> Violation:
    """A violation first seen ``days_open`` days ago; resolved that many days after, if given."""
    first_seen = timezone.now() - timedelta(days=days_open)
    resolved_at = None
    if resolved_days_later is not None:
        resolved_at = first_seen + timedelta(days=resolved_days_later)
    return Violation.objects.create(
        **{
            "key": f"{rule}:{next(_keys)}",
            "rule": rule,
            "severity": "blocking",
            "course": course,
            "assignment": assignment,
            "section": section,
            "school_id": course.account_id,
            "term_id": course.term_id,
            "message": f"Fix the {rule.replace('_', ' ')}.",
            "first_seen": first_seen,
            "last_seen": resolved_at or timezone.now(),
            "resolved_at": resolved_at,
            **fields,
        }
    )


def make_district_admin(username: str = "district-admin") -> User:
    user = User.objects.create_user(username, password="pw", is_staff=True)
    user.groups.add(district_admin_group_ensure())
    return user


@pytest.fixture
def district_admin_client(client: Client) -> Client:
    client.force_login(make_district_admin())
    return client


def listed(client: Client, **params: object) -> list[Violation]:
    response = client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200, response.get("Location")  # a bad filter redirects
    return list(response.context["cl"].result_list)


def exported(response: StreamingHttpResponse) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == COLUMNS
    return list(reader)


# --- pages open ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["superuser", "district admin"])
def test_the_violation_list_and_a_violation_page_open_for_admins(
    who: str, admin_client: Client, district_admin_client: Client
) -> None:
    client = admin_client if who == "superuser" else district_admin_client
    course = make_course(term=make_term())
    section = make_section(course)
    make_violation(course, "course_unpublished")
    make_violation(course, "section_not_in_sis", section=section)
    violation = make_violation(
        course, "missing_due_date", assignment=make_assignment(course), section=section
    )

    assert len(listed(client)) == 3
    page = client.get(reverse("admin:sync_violation_change", args=[violation.pk]))
    assert page.status_code == 200
    assert b"Missing due date" in page.content


def test_a_violation_list_with_facet_counts_opens(admin_client: Client) -> None:
    course = make_course(term=make_term())
    make_violation(course)
    make_violation(course, "differentiated", severity="warning")

    response = admin_client.get(reverse(CHANGELIST), {"_facets": "True"})

    assert response.status_code == 200
    assert "Name too long (1)" in response.content.decode()


# --- open or resolved, age -----------------------------------------------------------------------


def test_the_list_shows_only_open_violations_by_default(admin_client: Client) -> None:
    course = make_course()
    still_open = make_violation(course)
    make_violation(course, days_open=5, resolved_days_later=2)

    assert listed(admin_client) == [still_open]


def test_the_status_filter_shows_resolved_or_all_violations(admin_client: Client) -> None:
    course = make_course()
    still_open = make_violation(course, days_open=1)
    resolved = make_violation(course, days_open=5, resolved_days_later=2)

    assert listed(admin_client, status="resolved") == [resolved]
    assert listed(admin_client, status="all") == [still_open, resolved]


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [("lt7", ["2 days"]), ("7to30", ["7 days", "30 days"]), ("gt30", ["31 days", "90 days"])],
)
def test_the_age_filter_buckets_open_violations_by_whole_days_open(
    admin_client: Client, bucket: str, expected: list[str]
) -> None:
    course = make_course()
    for days in (2, 7, 30, 31, 90):
        make_violation(course, message=f"{days} days", days_open=days + 0.5)

    found = listed(admin_client, age=bucket)

    assert sorted(v.message for v in found) == sorted(expected)


def test_the_age_of_a_resolved_violation_is_the_time_it_was_open(admin_client: Client) -> None:
    course = make_course()
    quick = make_violation(course, days_open=100, resolved_days_later=3)
    slow = make_violation(course, days_open=100, resolved_days_later=40)

    assert listed(admin_client, status="resolved", age="lt7") == [quick]
    assert listed(admin_client, status="all", age="gt30") == [slow]
    page = admin_client.get(reverse(CHANGELIST), {"status": "resolved"}).content.decode()
    assert '<td class="field-age">3</td>' in page
    assert '<td class="field-age">40</td>' in page


# --- filters -------------------------------------------------------------------------------------


def test_violations_filter_by_school(admin_client: Client) -> None:
    north = make_course(account=make_account(name="North"))
    south = make_course(account=make_account(name="South"))
    wanted = make_violation(north)
    make_violation(south)

    assert listed(admin_client, school=north.account_id) == [wanted]


def test_violations_filter_by_term(admin_client: Client) -> None:
    fall = make_course(term=make_term(name="Fall"))
    spring = make_course(term=make_term(name="Spring"))
    wanted = make_violation(fall)
    make_violation(spring)

    assert listed(admin_client, term=fall.term_id) == [wanted]


def test_violations_filter_by_rule(admin_client: Client) -> None:
    course = make_course()
    wanted = make_violation(course, "differentiated")
    make_violation(course, "name_too_long")

    assert listed(admin_client, rule="differentiated") == [wanted]


def test_violations_filter_by_severity(admin_client: Client) -> None:
    course = make_course()
    wanted = make_violation(course, "due_date_outside_term", severity="warning")
    make_violation(course)

    assert listed(admin_client, severity="warning") == [wanted]


def test_violations_filter_by_a_teacher_of_the_course(admin_client: Client) -> None:
    taught, other, left = make_course(name="A"), make_course(name="B"), make_course(name="C")
    teacher = make_person("Grace Hopper")
    make_enrollment(teacher, make_section(taught), type="teacher")
    make_enrollment(teacher, make_section(left), type="teacher", state="inactive")
    make_enrollment(teacher, make_section(other), type="student")
    wanted = make_violation(taught)
    make_violation(other)
    make_violation(left)

    assert listed(admin_client, teacher=teacher.canvas_id) == [wanted]


def test_teachers_are_offered_once_a_school_is_chosen(admin_client: Client) -> None:
    north, south = make_account(name="North"), make_account(name="South")
    north_teacher, south_teacher = make_person("Ada North"), make_person("Bob South")
    make_enrollment(north_teacher, make_section(make_course(account=north)), type="teacher")
    make_enrollment(south_teacher, make_section(make_course(account=south)), type="teacher")

    unchosen = admin_client.get(reverse(CHANGELIST)).content.decode()
    chosen = admin_client.get(reverse(CHANGELIST), {"school": north.canvas_id}).content.decode()

    assert "Choose a school to list its teachers" in unchosen
    assert "Ada North" not in unchosen
    assert f"teacher={north_teacher.canvas_id}" in chosen
    assert "Bob South" not in chosen


def test_links_from_a_course_or_an_assignment_narrow_the_list_to_it(admin_client: Client) -> None:
    course = make_course(name="Chemistry")
    quiz = make_assignment(course, name="Quiz")
    of_quiz = make_violation(course, assignment=quiz)
    of_course = make_violation(course, "course_unpublished")
    make_violation(make_course())

    by_course = listed(admin_client, course__canvas_id__exact=course.canvas_id)
    by_assignment = listed(admin_client, assignment__canvas_id__exact=quiz.canvas_id)

    assert sorted(v.pk for v in by_course) == sorted([of_quiz.pk, of_course.pk])
    assert by_assignment == [of_quiz]
    page = admin_client.get(reverse(CHANGELIST), {"course__canvas_id__exact": course.canvas_id})
    assert "Chemistry" in page.content.decode().split('id="changelist-filter"')[1]


@pytest.mark.parametrize(
    "params",
    [{"status": "bogus"}, {"age": "old"}, {"school": "north"}, {"teacher": "x"}],
    ids=lambda p: next(iter(p)),
)
def test_a_bad_filter_value_shows_the_admin_error_instead_of_failing(
    admin_client: Client, params: dict
) -> None:
    make_violation(make_course())

    response = admin_client.get(reverse(CHANGELIST), params)

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


# --- search --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "term", ["chemis", "titration", "curie", "CHEM-101", "SEC-7", "teacher-canvas-id"]
)
def test_search_finds_violations_by_course_assignment_teacher_or_sis_id(
    admin_client: Client, term: str
) -> None:
    course = make_course(name="Chemistry", sis_course_id="CHEM-101")
    section = make_section(course, sis_section_id="SEC-7")
    lab = make_assignment(course, name="Titration lab")
    teacher = make_person("Marie Curie")
    make_enrollment(teacher, section, type="teacher")
    wanted = make_violation(course, assignment=lab, section=section)
    make_violation(make_course(name="Biology", sis_course_id="BIO-1"))
    if term == "teacher-canvas-id":
        term = str(course.canvas_id)

    assert listed(admin_client, q=term) == [wanted]


def test_search_words_must_all_match(admin_client: Client) -> None:
    course = make_course(name="Chemistry")
    wanted = make_violation(course, assignment=make_assignment(course, name="Titration lab"))
    make_violation(course, assignment=make_assignment(course, name="Spectroscopy lab"))

    assert listed(admin_client, q="chemistry titration") == [wanted]


# --- columns -------------------------------------------------------------------------------------


def test_a_row_links_to_the_course_and_assignment_pages_and_to_canvas(
    admin_client: Client,
) -> None:
    course = make_course(name="Chemistry")
    lab = make_assignment(course, name="Titration lab")
    make_violation(course, assignment=lab)

    page = admin_client.get(reverse(CHANGELIST)).content.decode()

    assert reverse("admin:courses_course_change", args=[course.pk]) in page
    assert reverse("admin:courses_assignment_change", args=[lab.pk]) in page
    assert f'href="{lab.html_url}" target="_blank"' in page
    assert "Name too long" in page


def test_without_an_html_url_canvas_links_are_built_from_the_base_url(
    admin_client: Client, settings: object
) -> None:
    settings.CANVAS_BASE_URL = "https://district.instructure.com/"
    course = make_course()
    lab = make_assignment(course, html_url="")
    make_violation(course, assignment=lab)
    make_violation(course, "course_not_in_sis")

    page = admin_client.get(reverse(CHANGELIST)).content.decode()

    base = f"https://district.instructure.com/courses/{course.canvas_id}"
    assert f'href="{base}/assignments/{lab.canvas_id}"' in page
    assert f'href="{base}"' in page


# --- read-only -----------------------------------------------------------------------------------


def test_violations_cannot_be_added_or_changed(admin_client: Client) -> None:
    violation = make_violation(make_course())
    change = reverse("admin:sync_violation_change", args=[violation.pk])

    assert admin_client.get(reverse("admin:sync_violation_add")).status_code == 403
    assert admin_client.post(change, {"message": "edited"}).status_code == 403
    violation.refresh_from_db()
    assert violation.message != "edited"


def test_only_superusers_may_delete_violations(
    admin_client: Client, district_admin_client: Client
) -> None:
    violation = make_violation(make_course())
    delete = reverse("admin:sync_violation_delete", args=[violation.pk])

    assert district_admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert not Violation.objects.exists()


# --- CSV -----------------------------------------------------------------------------------------


def test_exporting_selected_violations_streams_the_gpb_report_columns(
    district_admin_client: Client,
) -> None:
    course = make_course(name="Chemistry", sis_course_id="CHEM-101")
    section = make_section(course, sis_section_id="SEC-7")
    lab = make_assignment(course, name="Titration lab")
    make_enrollment(make_person("Marie Curie"), section, type="teacher")
    make_enrollment(make_person("Pierre Curie"), section, type="teacher")
    chosen = make_violation(course, "missing_due_date", assignment=lab, section=section)
    make_violation(course, "course_unpublished")

    response = district_admin_client.post(
        reverse(CHANGELIST), {"action": "export_csv", "_selected_action": [chosen.pk]}
    )

    (row,) = exported(response)
    assert row == {
        "rule": "missing_due_date",
        "severity": "blocking",
        "school_canvas_id": str(course.account_id),
        "school_name": "North High",
        "course_canvas_id": str(course.canvas_id),
        "course_sis_id": "CHEM-101",
        "course_name": "Chemistry",
        "section_canvas_id": str(section.canvas_id),
        "section_sis_id": "SEC-7",
        "assignment_canvas_id": str(lab.canvas_id),
        "assignment_name": "Titration lab",
        "teachers": "Marie Curie; Pierre Curie",
        "message": "Fix the missing due date.",
    }
    assert response["Content-Disposition"].startswith('attachment; filename="gpb-violations-')


def test_a_large_export_keeps_one_header_and_every_row(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sync.admin.violations.CSV_ROWS_PER_CHUNK", 2)
    course = make_course()
    for _ in range(5):
        make_violation(course)

    rows = exported(admin_client.get(reverse("admin:sync_violation_export")))

    assert len(rows) == 5


def test_the_export_all_link_carries_the_current_filters(admin_client: Client) -> None:
    course = make_course()
    make_violation(course, "differentiated")
    make_violation(course, "name_too_long")
    make_violation(course, "differentiated", days_open=9, resolved_days_later=1)

    page = admin_client.get(reverse(CHANGELIST), {"rule": "differentiated", "p": "1"})
    export_url = page.context["export_url"]
    rows = exported(admin_client.get(export_url))

    assert export_url == reverse("admin:sync_violation_export") + "?rule=differentiated"
    assert f'href="{export_url}"' in page.content.decode()
    assert [row["rule"] for row in rows] == ["differentiated"]


def test_export_all_honours_search_and_the_status_filter(admin_client: Client) -> None:
    chemistry, biology = make_course(name="Chemistry"), make_course(name="Biology")
    make_violation(chemistry)
    make_violation(chemistry, days_open=9, resolved_days_later=1)
    make_violation(biology)
    export = reverse("admin:sync_violation_export")

    assert len(exported(admin_client.get(export, {"q": "chemistry"}))) == 1
    assert len(exported(admin_client.get(export, {"q": "chemistry", "status": "all"}))) == 2


# --- course and assignment pages -----------------------------------------------------------------


def test_a_course_page_lists_its_violations_open_first(admin_client: Client) -> None:
    course = make_course()
    old_resolved = make_violation(course, "differentiated", days_open=30, resolved_days_later=1)
    recent_resolved = make_violation(course, "name_not_unique", days_open=5, resolved_days_later=1)
    still_open = make_violation(course, "course_unpublished", days_open=40)

    response = admin_client.get(reverse("admin:courses_course_change", args=[course.pk]))

    (formset,) = [
        f.formset for f in response.context["inline_admin_formsets"] if f.formset.model is Violation
    ]
    assert [form.instance for form in formset.forms] == [still_open, recent_resolved, old_resolved]
    page = response.content.decode()
    assert "Fix the course unpublished." in page
    assert "Course unpublished" in page
    assert f"course__canvas_id__exact={course.canvas_id}" in page
    assert "1 open violations" in page


def test_a_course_page_shows_at_most_the_inline_limit_of_violations(admin_client: Client) -> None:
    course = make_course()
    for _ in range(INLINE_LIMIT + 3):
        make_violation(course)

    response = admin_client.get(reverse("admin:courses_course_change", args=[course.pk]))

    (formset,) = [
        f.formset for f in response.context["inline_admin_formsets"] if f.formset.model is Violation
    ]
    assert len(formset.forms) == INLINE_LIMIT


def test_an_assignment_page_lists_its_violations(district_admin_client: Client) -> None:
    course = make_course()
    lab = make_assignment(course, name="Titration lab")
    make_violation(course, "differentiated", assignment=lab, severity="warning")
    make_violation(course, "course_unpublished")

    response = district_admin_client.get(reverse("admin:courses_assignment_change", args=[lab.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Fix the differentiated." in page
    assert "Differentiated" in page
    assert "Warning" in page
    assert "Fix the course unpublished." not in page


def test_a_person_page_links_to_the_violations_of_the_courses_they_teach(
    admin_client: Client,
) -> None:
    teacher = make_person("Grace Hopper")

    page = admin_client.get(reverse("admin:courses_person_change", args=[teacher.pk]))

    assert f"?teacher={teacher.canvas_id}" in page.content.decode()


# --- speed ---------------------------------------------------------------------------------------


def many_violations(count: int) -> None:
    course = make_course(term=make_term())
    section = make_section(course)
    make_enrollment(make_person(), section, type="teacher")
    for _ in range(count):
        make_violation(course, assignment=make_assignment(course), section=section)


@pytest.mark.parametrize(
    "params",
    [{}, {"status": "all"}, {"rule": "name_too_long"}, {"q": "algebra"}, {"_facets": "True"}],
    ids=lambda p: next(iter(p), "default"),
)
def test_changelist_queries_do_not_grow_with_the_number_of_violations(
    admin_client: Client, params: dict
) -> None:
    many_violations(2)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(reverse(CHANGELIST), params).status_code == 200
    many_violations(20)

    with CaptureQueriesContext(connection) as more:
        admin_client.get(reverse(CHANGELIST), params)

    assert len(more) == len(few)


def test_the_district_admin_group_exists_after_migrating() -> None:
    assert Group.objects.filter(name=DISTRICT_ADMIN_GROUP).exists()


def test_past_the_count_cap_the_list_says_more_than_instead_of_counting_everything(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sync.admin.violations import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "CAP", 2)
    course = make_course()
    for _ in range(3):
        make_violation(course)

    page = admin_client.get(reverse("admin:sync_violation_changelist")).content.decode()

    assert "more than 2 violations" in page
