"""The violation resource: its shape, the detail endpoint, pagination and query counts."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.factories import T0, assignment, course, school, section, term, violation

pytestmark = pytest.mark.django_db
URL = "/api/v1/violations/"


@pytest.fixture
def school_course(root):
    return course(100, school(10, name="North High"), term(3), name="Algebra I")


def test_a_violation_shows_its_school_term_course_assignment_and_section(
    staff_client, school_course, settings
):
    settings.CANVAS_BASE_URL = "https://canvas.example.edu"
    homework = assignment(5000, school_course, name="Homework 1")
    period_1 = section(600, school_course, name="Period 1")
    row = violation(school_course, "missing_due_date", assignment=homework, section=period_1)

    data = staff_client.get(f"{URL}{row.id}/").json()

    assert {k: v for k, v in data.items() if k not in ("first_seen", "last_seen")} == {
        "id": row.id,
        "rule": "missing_due_date",
        "rule_title": "Missing due date",
        "severity": "blocking",
        "message": "Fix missing_due_date.",
        "school": {"canvas_id": 10, "name": "North High"},
        "term": 3,
        "course": {
            "canvas_id": 100,
            "name": "Algebra I",
            "sis_course_id": "SIS-C100",
            "canvas_url": "https://canvas.example.edu/courses/100",
        },
        "assignment": {
            "canvas_id": 5000,
            "name": "Homework 1",
            "html_url": "https://canvas.example.edu/courses/100/assignments/5000",
        },
        "section": {"canvas_id": 600, "name": "Period 1", "sis_section_id": "SIS-S600"},
        "resolved_at": None,
        "open": True,
    }
    assert datetime.fromisoformat(data["first_seen"]) == T0
    assert datetime.fromisoformat(data["last_seen"]) == T0 + timedelta(hours=1)


def test_a_course_wide_violation_has_no_assignment_and_no_section(staff_client, school_course):
    row = violation(school_course, "course_unpublished")
    data = staff_client.get(f"{URL}{row.id}/").json()
    assert (data["assignment"], data["section"]) == (None, None)


def test_the_detail_of_a_resolved_violation_says_it_is_not_open(staff_client, school_course):
    row = violation(school_course, resolved_at=T0 + timedelta(days=2))
    data = staff_client.get(f"{URL}{row.id}/").json()
    assert data["open"] is False
    assert datetime.fromisoformat(data["resolved_at"]) == T0 + timedelta(days=2)


def test_an_unknown_violation_id_answers_404(staff_client, root):
    assert staff_client.get(f"{URL}999999/").status_code == 404


def test_the_list_is_paginated_with_a_count_and_a_next_link(staff_client, school_course):
    for _ in range(3):
        violation(school_course)

    first = staff_client.get(URL, {"page_size": 2}).json()
    assert first["count"] == 3
    assert len(first["results"]) == 2
    assert "page=2" in first["next"]
    assert first["previous"] is None

    second = staff_client.get(first["next"]).json()
    assert len(second["results"]) == 1
    assert second["next"] is None


def _violations_in_distinct_schools(count: int, start: int) -> None:
    """Each violation on its own school, term, course, assignment and section."""
    for n in range(start, start + count):
        c = course(n * 10, school(n * 10), term(n * 10))
        violation(c, "missing_due_date", assignment=assignment(n * 100, c), section=section(n, c))


def test_the_number_of_queries_does_not_grow_with_the_number_of_rows(staff_client, root):
    _violations_in_distinct_schools(2, start=1)
    with CaptureQueriesContext(connection) as few:
        assert len(staff_client.get(URL).json()["results"]) == 2

    _violations_in_distinct_schools(20, start=3)
    with CaptureQueriesContext(connection) as many:
        assert len(staff_client.get(URL).json()["results"]) == 22

    assert len(many) == len(few)


def test_a_full_page_takes_a_handful_of_queries(staff_client, root, django_assert_max_num_queries):
    _violations_in_distinct_schools(30, start=1)
    # session, user, count, page; nothing per row
    with django_assert_max_num_queries(4):
        assert len(staff_client.get(URL).json()["results"]) == 30
