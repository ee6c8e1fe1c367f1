"""Violations: persisted from the rule book, with first_seen / last_seen / resolved_at history."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.models import Assignment
from sync.importer import district_import
from sync.models import RuleSetting, Violation
from sync.policy import policy_get
from sync.violations import violations_refresh
from tests.sync.fakes import assignment, small_district

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC) + timedelta(minutes=5)  # after the imports the tests run


def imported(canvas=None):
    canvas = canvas or small_district()
    district_import(client=canvas, concurrency=1, full=True)
    return canvas


def open_rules(course_id=None):
    rows = Violation.objects.filter(resolved_at__isnull=True)
    if course_id:
        rows = rows.filter(course_id=course_id)
    return sorted(rows.values_list("rule", "assignment_id", "section_id"))


def test_a_clean_district_has_no_blocking_violations():
    imported()
    violations_refresh(now=NOW)

    assert not Violation.objects.filter(severity="blocking").exists()


def test_an_import_evaluates_the_rules_and_stores_what_fires_with_school_and_term():
    canvas = small_district()
    canvas.course_data[100]["assignments"][0]["name"] = "A" * 31

    imported(canvas)

    violation = Violation.objects.get(rule="name_too_long")
    assert violation.assignment_id == 1000 and violation.section_id is None
    assert violation.school_id == 10 and violation.term_id == 1
    assert violation.severity == "blocking"
    assert "30 characters or fewer (now 31)" in violation.message
    assert violation.resolved_at is None
    assert violation.first_seen == violation.last_seen


def test_a_second_refresh_bumps_last_seen_and_opens_nothing_new():
    canvas = small_district()
    canvas.course_data[100]["assignments"][0]["name"] = "A" * 31
    imported(canvas)
    violations_refresh(now=NOW)
    before = Violation.objects.count()

    summary = violations_refresh(now=NOW + timedelta(hours=1))

    assert Violation.objects.count() == before
    assert summary.opened == 0 and summary.resolved == 0
    violation = Violation.objects.get(rule="name_too_long")
    assert violation.last_seen == NOW + timedelta(hours=1)
    assert violation.first_seen < violation.last_seen


def test_a_fixed_problem_is_resolved_and_opens_a_new_row_when_it_comes_back():
    canvas = small_district()
    canvas.course_data[100]["assignments"][0]["name"] = "A" * 31
    imported(canvas)
    violations_refresh(now=NOW)

    Assignment.objects.filter(canvas_id=1000).update(name="Short name")
    violations_refresh(now=NOW + timedelta(days=1))
    first = Violation.objects.get(rule="name_too_long")
    assert first.resolved_at == NOW + timedelta(days=1)
    assert first.last_seen == NOW

    Assignment.objects.filter(canvas_id=1000).update(name="B" * 40)
    violations_refresh(now=NOW + timedelta(days=2))
    rows = Violation.objects.filter(rule="name_too_long").order_by("first_seen")
    assert [r.resolved_at is None for r in rows] == [False, True]
    assert "(now 40)" in rows[1].message


def test_a_changed_message_updates_the_open_row_instead_of_opening_another():
    canvas = small_district()
    canvas.course_data[100]["assignments"][0]["name"] = "A" * 31
    imported(canvas)
    Assignment.objects.filter(canvas_id=1000).update(name="A" * 35)

    violations_refresh(now=NOW)

    violation = Violation.objects.get(rule="name_too_long")
    assert "(now 35)" in violation.message


def test_the_policy_limit_and_rule_switches_are_applied():
    canvas = small_district()
    canvas.course_data[100]["assignments"][0]["name"] = "A" * 31
    imported(canvas)
    policy = policy_get()
    policy.name_max_length = 50
    policy.save()

    violations_refresh(now=NOW)
    assert not Violation.objects.filter(rule="name_too_long", resolved_at__isnull=True).exists()

    policy.name_max_length = 30
    policy.save()
    RuleSetting.objects.filter(rule="name_too_long").update(severity="warning")
    violations_refresh(now=NOW)
    assert Violation.objects.get(resolved_at__isnull=True, rule="name_too_long").severity == (
        "warning"
    )

    RuleSetting.objects.filter(rule="name_too_long").update(enabled=False)
    violations_refresh(now=NOW)
    assert not Violation.objects.filter(rule="name_too_long", resolved_at__isnull=True).exists()


def test_the_policy_starts_from_settings_with_one_switch_per_rule(settings):
    settings.GPB_NAME_MAX_LENGTH = 50
    policy = policy_get()

    assert policy.name_max_length == 50
    assert policy.sync_window_days == 30
    assert policy.rules.count() == 16


def test_section_scoped_findings_carry_the_section_and_the_assignment():
    canvas = small_district()
    canvas.course_data[100]["assignments"][0].update(due_at=None)

    imported(canvas)

    assert open_rules(100) == [
        ("missing_due_date", 1000, 101),
        ("missing_due_date", 1000, 102),
    ]


def test_refreshing_one_course_leaves_the_others_alone():
    canvas = small_district()
    canvas.course_data[100]["assignments"][0]["name"] = "A" * 31
    canvas.course_data[200]["assignments"][0]["name"] = "A" * 31
    imported(canvas)
    Assignment.objects.filter(canvas_id__in=[1000, 2000]).update(name="fixed")

    violations_refresh(course_ids=[100], now=NOW)

    assert open_rules() == [("name_too_long", 2000, None)]


def district_with(assignments_per_course: int):
    canvas = small_district()
    for cid in (100, 200):
        data = canvas.course_data[cid]
        data["assignments"] = [
            assignment(cid * 1000 + n, cid, cid + 5, name=f"Task {n} " + "x" * (n % 40))
            for n in range(assignments_per_course)
        ]
        data["submissions"] = []
    return imported(canvas)


def test_the_number_of_queries_does_not_grow_with_the_number_of_assignments():
    district_with(3)
    with CaptureQueriesContext(connection) as few:
        violations_refresh(now=NOW)
    Violation.objects.all().delete()

    district_with(60)
    with CaptureQueriesContext(connection) as many:
        violations_refresh(now=NOW)

    assert Violation.objects.filter(rule="name_too_long").count() > 10
    assert len(many.captured_queries) == len(few.captured_queries)
