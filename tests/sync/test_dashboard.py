"""The district dashboard on the admin index: the numbers, the lists, the trend, the empty state."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sync.admin.dashboard import district_compliance_counted, open_by_rule
from sync.admin.trend_chart import trend_chart
from sync.compliance import (
    compliance_by_rule,
    compliance_by_school,
    compliance_by_term,
    district_compliance,
)
from sync.models import ComplianceSample
from tests.courses.test_admin import make_account, make_assignment, make_course, make_term
from tests.sync.test_admin_violations import make_district_admin, make_violation

pytestmark = pytest.mark.django_db

INDEX = "admin:index"


@pytest.fixture
def district() -> dict:
    """North (fall): 3 synced assignments, one blocked by its name; 1 unsynced.
    South (spring): 2 synced assignments, both blocked by the unpublished course; a warning.
    District: 5 synced, 2 compliant."""
    fall, spring = make_term(name="Fall"), make_term(name="Spring")
    north = make_course(account=make_account(name="North"), term=fall, name="Algebra")
    south = make_course(account=make_account(name="South"), term=spring, name="Biology")
    quiz = make_assignment(north, name="A quiz whose name is far too long to sync")
    make_assignment(north, name="Test")
    make_assignment(north, name="Lab")
    make_assignment(north, name="Not synced", post_to_sis=False)
    cells = make_assignment(south, name="Cells")
    make_assignment(south, name="Genes")
    return {
        "north": north,
        "south": south,
        "name_too_long": make_violation(north, "name_too_long", assignment=quiz, days_open=3),
        "unpublished": make_violation(south, "course_unpublished", days_open=40),
        "warning": make_violation(
            south, "due_date_outside_term", assignment=cells, severity="warning", days_open=10
        ),
        "resolved": make_violation(north, "differentiated", days_open=60, resolved_days_later=2),
    }


def dashboard(client: Client) -> dict:
    response = client.get(reverse(INDEX))
    assert response.status_code == 200
    return response.context


# --- the numbers ---------------------------------------------------------------------------------


def test_the_dashboard_shows_district_school_and_term_compliance(
    admin_client: Client, district: dict
) -> None:
    context = dashboard(admin_client)

    district_row = context["district"]
    assert (district_row.synced, district_row.compliant, district_row.blocked) == (5, 2, 3)
    assert district_row.percent == "40.0%"
    schools = {row.name: (row.synced, row.compliant, row.percent) for row in context["schools"]}
    assert schools == {"North": (3, 2, "66.7%"), "South": (2, 0, "0.0%")}
    terms = {row.name: (row.synced, row.compliant) for row in context["terms"]}
    assert terms == {"Fall": (3, 2), "Spring": (2, 0)}


def test_the_dashboard_counts_open_violations_by_rule_with_links(
    admin_client: Client, district: dict
) -> None:
    context = dashboard(admin_client)

    rules = {row.code: row for row in context["rules"]}
    assert rules["name_too_long"].open == 1
    assert rules["name_too_long"].percent == "80.0%"
    assert rules["differentiated"].open == 0  # resolved
    assert rules["due_date_outside_term"].open == 1
    assert context["open_total"] == 3
    page = admin_client.get(reverse(INDEX)).content.decode()
    assert f'href="{reverse("admin:sync_violation_changelist")}?rule=name_too_long"' in page


def test_the_dashboard_figures_match_the_compliance_module(district: dict) -> None:
    counted = district_compliance_counted()

    def key(rows):
        return sorted((c.key, c.name, c.synced, c.compliant) for c in rows)

    assert (counted.district.synced, counted.district.compliant) == (
        district_compliance().synced,
        district_compliance().compliant,
    )
    assert key(counted.schools) == key(compliance_by_school())
    assert key(counted.terms) == key(compliance_by_term())
    expected = [(r["rule"], r["open"], r["assignments"], r["rate"]) for r in compliance_by_rule()]
    rows = open_by_rule(counted.district.synced)
    assert [(r.code, r.open, r.assignments, r.rate) for r in rows] == expected


def test_the_dashboard_lists_the_newest_and_oldest_open_violations_with_their_age(
    admin_client: Client, district: dict
) -> None:
    context = dashboard(admin_client)

    newest = [(v.rule, v.days_open) for v in context["newest"]]
    oldest = [(v.rule, v.days_open) for v in context["oldest"]]
    assert newest == [
        ("name_too_long", 3),
        ("due_date_outside_term", 10),
        ("course_unpublished", 40),
    ]
    assert oldest == list(reversed(newest))


def test_the_dashboard_lists_at_most_ten_violations_each_way(admin_client: Client) -> None:
    course = make_course()
    for days in range(15):
        make_violation(course, days_open=days + 1)

    context = dashboard(admin_client)

    assert [v.days_open for v in context["newest"]] == list(range(1, 11))
    assert [v.days_open for v in context["oldest"]] == list(range(15, 5, -1))


# --- the trend -----------------------------------------------------------------------------------


def test_the_trend_is_an_inline_svg_with_labelled_axes(admin_client: Client) -> None:
    now = timezone.now()
    for days_ago, compliant in ((30, 50), (10, 70), (0, 90)):
        ComplianceSample.objects.create(
            taken_at=now - timedelta(days=days_ago), synced=100, compliant=compliant
        )

    page = admin_client.get(reverse(INDEX)).content.decode()

    assert "<svg" in page
    assert "Compliance (%)" in page
    assert "100%" in page
    assert page.count('class="gpb-point"') == 3
    assert "From 50.0%" in page and "to 90.0%" in page
    assert "cdn" not in page.lower() and "<script" not in page.split("<svg")[1].split("</svg>")[0]


def test_the_trend_keeps_the_last_sample_of_each_day_within_ninety_days(
    admin_client: Client,
) -> None:
    today = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    ComplianceSample.objects.create(taken_at=today - timedelta(hours=2), synced=10, compliant=1)
    ComplianceSample.objects.create(taken_at=today, synced=10, compliant=9)
    ComplianceSample.objects.create(taken_at=today - timedelta(days=120), synced=10, compliant=5)
    school = make_account(name="North")
    ComplianceSample.objects.create(taken_at=today, school=school, synced=10, compliant=2)

    trend = dashboard(admin_client)["trend"]

    assert [round(p.percent) for p in trend.points] == [90]


def test_the_trend_chart_spans_the_whole_period_on_a_zero_to_hundred_scale() -> None:
    today = timezone.localtime()
    samples = [
        (today - timedelta(days=89), 100, 0),
        (today - timedelta(days=45), 100, 50),
        (today, 100, 100),
    ]

    chart = trend_chart(samples, last_day=today.date(), days=90)

    first, middle, last = chart.points
    assert (first.x, last.x) == (chart.left, chart.right)
    assert (first.y, last.y) == (chart.bottom, chart.top)
    assert chart.left < middle.x < chart.right
    assert [tick.label for tick in chart.y_ticks] == ["0%", "25%", "50%", "75%", "100%"]
    first_day = (today - timedelta(days=89)).date()
    assert chart.x_ticks[0].label == f"{first_day:%b} {first_day.day}"


# --- empty state, access, speed -----------------------------------------------------------------


def test_an_empty_district_tells_the_admin_to_run_an_import(admin_client: Client) -> None:
    response = admin_client.get(reverse(INDEX))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Run an import to see compliance" in page
    assert "No open violations." in page
    assert response.context["trend"] is None
    assert '<svg class="gpb-trend"' not in page
    assert "Grade passback" in page  # the app list is still there


def test_a_district_admin_sees_the_dashboard(client: Client, district: dict) -> None:
    client.force_login(make_district_admin())

    context = dashboard(client)

    assert context["district"].synced == 5


def test_staff_who_may_not_view_violations_see_only_the_app_list(client: Client) -> None:
    client.force_login(User.objects.create_user("clerk", password="pw", is_staff=True))

    response = client.get(reverse(INDEX))

    assert response.status_code == 200
    assert "district" not in response.context
    assert "District compliance" not in response.content.decode()


def test_dashboard_queries_do_not_grow_with_the_number_of_violations(
    admin_client: Client, district: dict
) -> None:
    now = timezone.now()
    ComplianceSample.objects.create(taken_at=now, synced=5, compliant=2)
    with CaptureQueriesContext(connection) as few:
        dashboard(admin_client)
    for n in range(30):
        course = make_course(account=make_account(name=f"School {n}"), term=make_term())
        make_violation(course, assignment=make_assignment(course))
        ComplianceSample.objects.create(taken_at=now - timedelta(days=n), synced=5, compliant=n)

    with CaptureQueriesContext(connection) as more:
        dashboard(admin_client)

    assert len(more) == len(few)
