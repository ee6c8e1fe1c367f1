"""Compliance report snapshots: every figure checked against the hand-computed district."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses.models import Course
from sync.compliance import compliance_by_school, compliance_by_teacher, district_compliance
from sync.models import ComplianceReport, ReportKind
from sync.reports import report_build, teacher_digests_build
from sync.reports.figures import ROW_COLUMNS
from sync.violation_rows import COLUMNS, open_violations, violation_rows
from tests.api import factories as f
from tests.sync.report_district import NOW, build_district, days_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def district():
    return build_district()


def by_name(items: list[dict]) -> dict[str, dict]:
    return {item["name"]: item for item in items}


# --- the district summary ------------------------------------------------------------------------


def test_the_district_summary_counts_synced_blocked_and_compliance(district):
    report = report_build(now=NOW)

    assert (report.synced, report.compliant, report.blocked) == (11, 6, 5)
    assert report.compliance_rate == pytest.approx(6 / 11)
    assert (report.open_blocking, report.open_warning) == (4, 1)
    summary = report.snapshot["summary"]
    assert summary["oldest_open_days"] == 40
    assert summary["open_by_rule"] == {
        "section_not_in_sis": 1,
        "name_too_long": 1,
        "differentiated": 1,
        "missing_due_date": 1,
        "due_date_outside_term": 1,
    }
    assert report.previous is None and report.rate_change is None
    assert report.kind == ReportKind.DISTRICT and report.scope_label == "District"


def test_the_summary_agrees_with_the_compliance_module(district):
    report = report_build(now=timezone.now())

    district_figure = district_compliance()
    assert (report.synced, report.compliant) == (district_figure.synced, district_figure.compliant)
    schools = by_name(report.snapshot["schools"])
    for school in compliance_by_school():
        assert (schools[school.name]["synced"], schools[school.name]["compliant"]) == (
            school.synced,
            school.compliant,
        )
    teachers = by_name(report.snapshot["teachers"])
    for teacher in compliance_by_teacher():
        assert (teachers[teacher.name]["synced"], teachers[teacher.name]["compliant"]) == (
            teacher.synced,
            teacher.compliant,
        )


def test_each_school_has_its_figures_lowest_compliance_first(district):
    schools = report_build(now=NOW).snapshot["schools"]

    assert [s["name"] for s in schools] == ["North High", "South Middle"]
    north, south = schools
    assert (north["synced"], north["compliant"], north["blocked"]) == (7, 3, 4)
    assert (north["open_blocking"], north["open_warning"], north["oldest_open_days"]) == (3, 1, 20)
    assert north["rate"] == pytest.approx(3 / 7)
    assert (south["synced"], south["compliant"], south["open_blocking"]) == (4, 3, 1)
    assert south["oldest_open_days"] == 40
    assert south["open_by_rule"] == {"differentiated": 1}


def test_each_teacher_counts_the_courses_they_actively_teach(district):
    teachers = by_name(report_build(now=NOW).snapshot["teachers"])

    ada, ben, cy, dee = (
        teachers[n] for n in ("Ada Lovelace", "Ben Franklin", "Cy Young", "Dee Dee")
    )
    assert (ada["synced"], ada["compliant"], ada["open_blocking"], ada["open_warning"]) == (
        6,
        4,
        2,
        1,
    )
    assert ada["oldest_open_days"] == 40
    assert (ben["synced"], ben["compliant"], ben["open_blocking"]) == (3, 0, 2)
    assert ben["open_by_rule"] == {"section_not_in_sis": 1, "missing_due_date": 1}
    assert (cy["synced"], cy["compliant"], cy["open_blocking"]) == (2, 1, 1)
    assert (dee["synced"], dee["compliant"], dee["open_blocking"], dee["oldest_open_days"]) == (
        2,
        2,
        0,
        None,
    )
    order = [t["name"] for t in report_build(now=NOW).snapshot["teachers"]]
    assert order == ["Ben Franklin", "Cy Young", "Ada Lovelace", "Dee Dee"]


def test_the_rules_that_block_most_assignments_come_first(district):
    rules = report_build(now=NOW).snapshot["rules"]

    assert [(r["rule"], r["open"], r["assignments_blocked"]) for r in rules] == [
        ("section_not_in_sis", 1, 3),  # course-wide: every synced assignment of course 200
        ("differentiated", 1, 1),
        ("missing_due_date", 1, 1),
        ("name_too_long", 1, 1),
        ("due_date_outside_term", 1, 0),
    ]
    assert rules[0]["share"] == pytest.approx(3 / 11)
    assert rules[-1]["severity"] == "warning"


def test_passback_outcomes_count_the_runs_finished_since_the_window_start(district):
    passback = report_build(now=NOW).snapshot["passback"]

    assert passback["runs"] == 1  # the run of 30 days ago is before a first report's 7 days
    assert passback["grades"] == {"posted": 3, "failed": 1, "skipped": 2, "unchanged": 2}
    assert passback["reasons"] == [
        {"status": "failed", "reason": "sis_rejected", "count": 1},
        {"status": "skipped", "reason": "no_grade", "count": 1},
        {"status": "skipped", "reason": "student_not_in_sis", "count": 1},
    ]


def test_the_next_report_links_the_previous_and_gives_the_change_in_points(district):
    first = report_build(now=days_ago(1))
    district.violations["differentiated"].resolved_at = NOW
    district.violations["differentiated"].save()

    second = report_build(now=NOW)

    assert second.previous == first
    assert second.compliance_rate == pytest.approx(7 / 11)
    assert second.rate_change == pytest.approx(100 * (7 / 11 - 6 / 11), abs=0.01)
    assert second.snapshot["previous"]["id"] == first.pk
    # Passback outcomes count from the previous report on: the run 2 days ago is before it.
    assert second.snapshot["passback"]["runs"] == 0
    assert second.snapshot["since"] == first.taken_at.isoformat()


def test_the_violation_list_is_the_gpb_report_rows_plus_age_and_canvas_link(district):
    report = report_build(now=NOW)

    assert report.violations["columns"] == ROW_COLUMNS == [*COLUMNS, "first_seen", "canvas_url"]
    rows = [dict(zip(ROW_COLUMNS, row, strict=True)) for row in report.violations["rows"]]
    expected = list(violation_rows(open_violations()))
    assert [{c: r[c] for c in COLUMNS} for r in rows] == expected
    assert len(rows) == 5  # open blocking and warning; not the info or the resolved one
    course_wide = next(r for r in rows if r["rule"] == "section_not_in_sis")
    assert course_wide["canvas_url"].endswith("/courses/200/sections/201")
    assignment = next(r for r in rows if r["rule"] == "name_too_long")
    assert assignment["canvas_url"] == "https://canvas.example.edu/courses/100/assignments/1002"
    assert assignment["teachers"] == ["Ada Lovelace"]


def test_a_school_summary_covers_only_its_schools(district):
    report = report_build(kind=ReportKind.SCHOOL, school_ids=[20], now=NOW)

    assert (report.synced, report.compliant, report.open_blocking) == (4, 3, 1)
    assert report.scope_label == "South Middle" and report.scope_key == "schools:20"
    assert [s["name"] for s in report.snapshot["schools"]] == ["South Middle"]
    assert {t["name"] for t in report.snapshot["teachers"]} == {
        "Cy Young",
        "Ada Lovelace",
        "Dee Dee",
    }
    assert [row[ROW_COLUMNS.index("rule")] for row in report.violations["rows"]] == [
        "differentiated"
    ]
    assert report.snapshot["passback"]["runs"] == 0


def test_a_school_summary_of_a_parent_account_covers_its_sub_accounts(district):
    report = report_build(kind=ReportKind.SCHOOL, school_ids=[1], now=NOW)

    assert (report.synced, report.compliant) == (11, 6)


def test_a_district_with_no_violations_is_fully_compliant(district):
    from sync.models import Violation

    Violation.objects.update(resolved_at=NOW)

    report = report_build(now=NOW)

    assert (report.synced, report.compliant, report.compliance_rate) == (11, 11, 1.0)
    assert report.open_blocking == report.open_warning == 0
    assert report.snapshot["summary"]["oldest_open_days"] is None
    assert report.snapshot["rules"] == [] and report.violations["rows"] == []


def test_an_empty_district_has_no_rate():
    report = report_build(now=NOW)

    assert (report.synced, report.compliance_rate) == (0, None)
    assert report.snapshot["schools"] == [] and report.snapshot["teachers"] == []


def test_a_deleted_course_is_not_counted(district):
    Course.objects.filter(canvas_id=400).update(deleted=True)

    report = report_build(now=NOW)

    assert (report.synced, report.compliant) == (9, 4)


def test_the_snapshot_takes_a_fixed_number_of_queries_whatever_the_size(district):
    with CaptureQueriesContext(connection) as small:
        report_build(now=NOW)
    for n in range(20):  # twenty more courses, each with a teacher and a violation
        course = f.course(1000 + n, district.courses[100].account, name=f"Extra {n}")
        f.enrollment(f.person(8000 + n), f.section(10_000 + n, course))
        f.assignment(100_000 + n, course)
        f.violation(course, "course_unpublished")
    with CaptureQueriesContext(connection) as large:
        report_build(now=NOW)

    assert len(large.captured_queries) == len(small.captured_queries)


# --- teacher digests -----------------------------------------------------------------------------


def test_each_teacher_with_open_violations_gets_a_digest_of_their_own_courses(district):
    digests, clean = teacher_digests_build(now=NOW)

    assert clean == 1  # Dee has nothing open
    by_teacher = {d.teacher.name: d for d in digests}
    assert sorted(by_teacher) == ["Ada Lovelace", "Ben Franklin", "Cy Young"]
    ada = by_teacher["Ada Lovelace"]
    assert (ada.synced, ada.compliant, ada.open_blocking, ada.open_warning) == (6, 4, 2, 1)
    assert [c["name"] for c in ada.snapshot["courses"]] == ["Chemistry", "Algebra"]
    rules_of = {
        name: sorted(row[ROW_COLUMNS.index("rule")] for row in d.violations["rows"])
        for name, d in by_teacher.items()
    }
    assert rules_of == {
        "Ada Lovelace": ["differentiated", "due_date_outside_term", "name_too_long"],
        "Ben Franklin": ["missing_due_date", "section_not_in_sis"],
        "Cy Young": ["differentiated"],
    }
    assert by_teacher["Ada Lovelace"].snapshot["passback"]["grades"]["posted"] == 3
    assert by_teacher["Ben Franklin"].snapshot["passback"]["runs"] == 0
    assert "teachers" not in ada.snapshot and "schools" not in ada.snapshot
    assert ComplianceReport.objects.filter(kind=ReportKind.TEACHER).count() == 3


def test_a_teachers_next_digest_links_their_previous_one(district):
    first, _ = teacher_digests_build(now=days_ago(7))
    district.violations["name_too_long"].resolved_at = NOW
    district.violations["name_too_long"].save()

    second, _ = teacher_digests_build(now=NOW)

    ada_before = next(d for d in first if d.teacher_id == 9001)
    ada_now = next(d for d in second if d.teacher_id == 9001)
    assert ada_now.previous_id == ada_before.pk
    assert ada_now.rate_change == pytest.approx(100 * (5 / 6 - 4 / 6), abs=0.01)


def test_teacher_digests_of_a_school_cover_only_its_courses(district):
    digests, clean = teacher_digests_build(school_ids=[10], now=NOW)

    assert {d.teacher.name: d.synced for d in digests} == {"Ada Lovelace": 4, "Ben Franklin": 3}
    assert clean == 0


@pytest.mark.django_db(transaction=True)
def test_a_report_taken_outside_any_transaction_reads_the_district_at_one_moment():
    build_district()

    report = report_build(now=NOW)  # on PostgreSQL: one REPEATABLE READ, READ ONLY transaction

    assert (report.synced, report.compliant, report.open_blocking) == (11, 6, 4)
