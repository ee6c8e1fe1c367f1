"""GET /api/v1/violations/: each filter, open/resolved selection, ordering and bad values."""

from datetime import timedelta

import pytest

from sync import rules
from tests.api.factories import (
    T0,
    course,
    enrollment,
    person,
    school,
    section,
    term,
    violation,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/violations/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def two_schools(root):
    """School 10 (sub-account 11 below it) and school 20, one course each, in two terms."""
    fall, spring = term(1), term(2)
    s10, s11, s20 = school(10), school(11, parent=10), school(20)
    return {
        "c100": course(100, s10, fall),
        "c110": course(110, s11, fall),
        "c200": course(200, s20, spring),
    }


def test_the_list_shows_only_open_violations_by_default(staff_client, two_schools):
    opened = violation(two_schools["c100"])
    violation(two_schools["c100"], resolved_at=T0 + timedelta(days=1))
    assert ids(staff_client.get(URL)) == [opened.id]


def test_open_false_shows_only_resolved_violations(staff_client, two_schools):
    violation(two_schools["c100"])
    resolved = violation(two_schools["c100"], resolved_at=T0 + timedelta(days=1))
    assert ids(staff_client.get(URL, {"open": "false"})) == [resolved.id]


def test_open_all_shows_open_and_resolved_violations(staff_client, two_schools):
    opened = violation(two_schools["c100"])
    resolved = violation(two_schools["c100"], resolved_at=T0 + timedelta(days=1))
    assert sorted(ids(staff_client.get(URL, {"open": "all"}))) == [opened.id, resolved.id]


def test_newest_violations_come_first_and_ties_keep_a_stable_order(staff_client, two_schools):
    old = violation(two_schools["c100"], first_seen=T0 - timedelta(days=3))
    tie_a = violation(two_schools["c100"])
    tie_b = violation(two_schools["c100"])
    assert ids(staff_client.get(URL)) == [tie_b.id, tie_a.id, old.id]


def test_school_filter_includes_the_sub_accounts_below_it(staff_client, two_schools):
    v100 = violation(two_schools["c100"])
    v110 = violation(two_schools["c110"])
    violation(two_schools["c200"])
    assert sorted(ids(staff_client.get(URL, {"school": 10}))) == [v100.id, v110.id]
    assert ids(staff_client.get(URL, {"school": 11})) == [v110.id]


def test_term_filter_keeps_the_violations_of_that_term(staff_client, two_schools):
    violation(two_schools["c100"])
    v200 = violation(two_schools["c200"])
    assert ids(staff_client.get(URL, {"term": 2})) == [v200.id]


def test_course_filter_keeps_the_violations_of_that_course(staff_client, two_schools):
    violation(two_schools["c100"])
    v110 = violation(two_schools["c110"])
    assert ids(staff_client.get(URL, {"course": 110})) == [v110.id]


def test_teacher_filter_keeps_courses_the_person_actively_teaches(staff_client, two_schools):
    teacher = person(7)
    enrollment(teacher, section(1000, two_schools["c100"]))
    enrollment(teacher, section(1100, two_schools["c110"]), type="student")
    enrollment(teacher, section(2000, two_schools["c200"]), state="completed")
    taught = violation(two_schools["c100"])
    violation(two_schools["c110"])
    violation(two_schools["c200"])
    assert ids(staff_client.get(URL, {"teacher": 7})) == [taught.id]


def test_teacher_filter_lists_a_course_once_even_with_several_teaching_sections(
    staff_client, two_schools
):
    teacher = person(7)
    enrollment(teacher, section(1000, two_schools["c100"]))
    enrollment(teacher, section(1001, two_schools["c100"]))
    taught = violation(two_schools["c100"])
    assert ids(staff_client.get(URL, {"teacher": 7})) == [taught.id]


def test_rule_filter_keeps_that_rule(staff_client, two_schools):
    violation(two_schools["c100"], "name_too_long")
    unpublished = violation(two_schools["c100"], "course_unpublished")
    assert ids(staff_client.get(URL, {"rule": "course_unpublished"})) == [unpublished.id]


def test_severity_filter_keeps_that_severity(staff_client, two_schools):
    violation(two_schools["c100"], "name_too_long")
    warning = violation(two_schools["c100"], "due_date_outside_availability")
    assert ids(staff_client.get(URL, {"severity": "warning"})) == [warning.id]


def test_filters_combine(staff_client, two_schools):
    wanted = violation(two_schools["c100"], "name_too_long")
    violation(two_schools["c100"], "course_unpublished")
    violation(two_schools["c200"], "name_too_long")
    response = staff_client.get(URL, {"school": 10, "rule": "name_too_long", "term": 1})
    assert ids(response) == [wanted.id]


def test_an_unknown_rule_answers_400_listing_the_valid_codes(staff_client, root):
    response = staff_client.get(URL, {"rule": "no_such_rule"})
    assert response.status_code == 400
    message = response.json()["rule"][0]
    assert "no_such_rule" in message
    assert all(code in message for code in rules.RULES)


def test_an_unknown_severity_answers_400(staff_client, root):
    response = staff_client.get(URL, {"severity": "fatal"})
    assert response.status_code == 400
    assert "blocking, warning, info" in response.json()["severity"][0]


def test_an_unknown_open_value_answers_400(staff_client, root):
    response = staff_client.get(URL, {"open": "maybe"})
    assert response.status_code == 400
    assert "true, false, all" in response.json()["open"][0]


def test_a_non_numeric_id_filter_answers_400(staff_client, root):
    response = staff_client.get(URL, {"school": "ten"})
    assert response.status_code == 400
    assert "school" in response.json()
