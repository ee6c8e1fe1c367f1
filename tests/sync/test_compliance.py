"""Compliance figures: the share of synced assignments with no blocking violation."""

import pytest

from sync.compliance import (
    compliance_by_rule,
    compliance_by_school,
    compliance_by_teacher,
    compliance_by_term,
    district_compliance,
)
from sync.importer import district_import
from sync.models import ComplianceSample
from tests.sync.fakes import small_district

pytestmark = pytest.mark.django_db


@pytest.fixture
def district():
    """Course 100 (school 10): 1 of 3 blocked by its name; course 200 (school 11): course-wide
    blocked by a section without a SIS id; 1 assignment of course 200 not synced."""
    canvas = small_district()
    canvas.course_data[100]["assignments"][0]["name"] = "N" * 31
    canvas.course_data[200]["sections"][0]["sis_section_id"] = None
    canvas.course_data[200]["assignments"][2]["post_to_sis"] = False
    district_import(client=canvas, concurrency=1, full=True)
    return canvas


def test_district_compliance_counts_synced_assignments_without_blocking_violations(district):
    district = district_compliance()
    assert (district.synced, district.compliant) == (5, 2)
    assert district.rate == pytest.approx(0.4)


def test_compliance_per_school_and_term(district):
    assert [(c.key, c.name, c.synced, c.compliant) for c in compliance_by_school()] == [
        (10, "School 10", 3, 2),
        (11, "School 11", 2, 0),
    ]
    assert [(c.key, c.synced, c.compliant) for c in compliance_by_term()] == [(1, 5, 2)]


def test_compliance_per_teacher(district):
    assert [(c.key, c.synced, c.compliant) for c in compliance_by_teacher()] == [
        (9100, 3, 2),
        (9200, 2, 0),
    ]


def test_compliance_per_rule_counts_affected_assignments(district):
    by_rule = {row["rule"]: row for row in compliance_by_rule()}
    assert by_rule["name_too_long"]["open"] == 1
    assert by_rule["name_too_long"]["rate"] == pytest.approx(0.8)
    assert by_rule["section_not_in_sis"]["open"] == 1
    assert by_rule["differentiated"]["open"] == 0
    assert len(by_rule) == 16


def test_every_refresh_samples_the_district_and_each_school_for_the_trend(district):
    samples = ComplianceSample.objects.all()
    assert samples.filter(school__isnull=True).count() == 1
    assert samples.filter(school_id=11).get().compliant == 0


def test_an_empty_district_has_no_compliance_rate():
    assert district_compliance().rate is None
