"""GET /api/v1/compliance/: the sync/compliance.py figures by district, school, term, rule."""

from datetime import timedelta

import pytest

from sync import rules
from tests.api.factories import T0, assignment, course, school, term, violation

pytestmark = pytest.mark.django_db
URL = "/api/v1/compliance/"


@pytest.fixture
def district(root):
    """School 10 / term 1: 2 synced assignments, one blocked by its name (plus a warning on the
    other). School 20 / term 2: 1 synced assignment, clean (its blocking violation is resolved).
    Not synced: an assignment not set to sync, a deleted one, and one in a deleted course."""
    s10, s20 = school(10, name="North High"), school(20, name="South High")
    fall, spring = term(1, "Fall"), term(2, "Spring")
    c100, c200 = course(100, s10, fall), course(200, s20, spring)
    blocked = assignment(1001, c100)
    warned = assignment(1002, c100)
    assignment(1003, c100, post_to_sis=False)
    assignment(1004, c100, deleted=True)
    clean = assignment(2001, c200)
    assignment(2011, course(201, s20, spring, deleted=True, workflow_state="deleted"))
    violation(c100, "name_too_long", assignment=blocked)
    violation(c100, "due_date_outside_availability", assignment=warned)
    violation(c200, "name_too_long", assignment=clean, resolved_at=T0 + timedelta(days=1))


def test_the_district_figures_count_synced_assignments_without_blocking_violations(
    staff_client, district
):
    data = staff_client.get(URL).json()
    assert data["district"] == {
        "synced": 3,
        "compliant": 2,
        "blocked": 1,
        "rate": pytest.approx(2 / 3),
    }


def test_each_school_and_term_has_its_own_figures(staff_client, district):
    data = staff_client.get(URL).json()
    assert data["schools"] == [
        {
            "canvas_id": 10,
            "name": "North High",
            "synced": 2,
            "compliant": 1,
            "blocked": 1,
            "rate": 0.5,
        },
        {
            "canvas_id": 20,
            "name": "South High",
            "synced": 1,
            "compliant": 1,
            "blocked": 0,
            "rate": 1.0,
        },
    ]
    assert [(t["canvas_id"], t["name"], t["synced"], t["compliant"]) for t in data["terms"]] == [
        (1, "Fall", 2, 1),
        (2, "Spring", 1, 1),
    ]


def test_every_rule_reports_its_open_violations_and_what_it_costs(staff_client, district):
    by_rule = {row["rule"]: row for row in staff_client.get(URL).json()["rules"]}
    assert set(by_rule) == set(rules.RULES)
    assert by_rule["name_too_long"] == {
        "rule": "name_too_long",
        "title": rules.RULES["name_too_long"].title,
        "severity": "blocking",
        "open": 1,
        "assignments": 1,
        "rate": pytest.approx(2 / 3),
    }
    assert by_rule["due_date_outside_availability"]["severity"] == "warning"
    assert by_rule["differentiated"]["open"] == 0


def test_a_district_with_nothing_synced_has_null_rates(staff_client, root):
    data = staff_client.get(URL).json()
    assert data["district"] == {"synced": 0, "compliant": 0, "blocked": 0, "rate": None}
    assert data["schools"] == [] and data["terms"] == []
    assert all(row["rate"] is None for row in data["rules"])
