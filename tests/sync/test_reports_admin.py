"""The report admin: kept reports (HTML, CSV, trend), editable schedules, deliveries and retries."""

import csv
import io
from datetime import timedelta

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from django_q.models import Schedule

from courses.models import Account
from sync.models import ComplianceReport, ReportDelivery, ReportSchedule
from sync.reports import report_build, summary_send
from sync.violation_rows import COLUMNS
from tests.sync.report_district import NOW, build_district, days_ago
from tests.sync.test_admin_violations import make_district_admin

pytestmark = pytest.mark.django_db

REPORTS = "admin:sync_compliancereport_changelist"
SCHEDULES = "admin:sync_reportschedule_changelist"


@pytest.fixture
def district():
    return build_district()


@pytest.fixture
def district_admin_client(client: Client) -> Client:
    client.force_login(make_district_admin())
    return client


@pytest.fixture
def reports(district) -> list[ComplianceReport]:
    first = report_build(now=days_ago(14))
    district.violations["differentiated"].resolved_at = NOW - timedelta(days=1)
    district.violations["differentiated"].save()
    return [first, report_build(now=NOW)]


# --- kept reports --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["superuser", "district admin"])
def test_admins_see_the_reports_with_compliance_change_and_trend(
    who: str, admin_client: Client, district_admin_client: Client, reports
) -> None:
    client = admin_client if who == "superuser" else district_admin_client

    response = client.get(reverse(REPORTS))

    assert response.status_code == 200
    page = response.content.decode()
    assert "63.6%" in page and "+9.1 pts" in page and "54.5%" in page
    assert page.count('class="gpb-point"') == 2
    assert "Compliance (%)" in page


def test_the_report_list_says_how_to_take_a_first_report(admin_client: Client) -> None:
    page = admin_client.get(reverse(REPORTS)).content.decode()

    assert "No district summary has been taken yet" in page


@pytest.mark.parametrize("who", ["superuser", "district admin"])
def test_a_report_page_frames_its_html_and_links_the_csv(
    who: str, admin_client: Client, district_admin_client: Client, reports
) -> None:
    client = admin_client if who == "superuser" else district_admin_client
    report = reports[1]

    page = client.get(reverse("admin:sync_compliancereport_change", args=[report.pk]))

    assert page.status_code == 200
    html_url = reverse("admin:sync_compliancereport_html", args=[report.pk])
    csv_url = reverse("admin:sync_compliancereport_csv", args=[report.pk])
    content = page.content.decode()
    assert f'<iframe src="{html_url}"' in content and csv_url in content
    assert f"#{reports[0].pk}" in content  # the previous report, linked

    framed = client.get(html_url)
    assert framed.status_code == 200 and framed["X-Frame-Options"] == "SAMEORIGIN"
    assert "North High" in framed.content.decode()
    download = client.get(html_url, {"download": "1"})
    assert download["Content-Disposition"].startswith('attachment; filename="gpb-report-')


def test_a_reports_csv_downloads_streamed_in_the_gpb_report_columns(admin_client, reports):
    response = admin_client.get(reverse("admin:sync_compliancereport_csv", args=[reports[1].pk]))

    assert isinstance(response, StreamingHttpResponse)
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert list(rows[0]) == COLUMNS and len(rows) == 4


def test_reports_cannot_be_added_or_changed(admin_client: Client, reports) -> None:
    assert admin_client.get(reverse("admin:sync_compliancereport_add")).status_code == 403
    change = reverse("admin:sync_compliancereport_change", args=[reports[0].pk])
    assert admin_client.post(change, {"title": "x"}).status_code == 403


def test_staff_without_the_view_permission_cannot_open_a_report(client: Client, reports) -> None:
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_user("staff", password="pw", is_staff=True))

    assert (
        client.get(reverse("admin:sync_compliancereport_csv", args=[reports[0].pk])).status_code
        == 403
    )


# --- schedules -----------------------------------------------------------------------------------


def schedule_form(**fields: object) -> dict:
    return {
        "name": "Principals",
        "kind": "district",
        "cron": "0 6 * * 1",
        "recipients": "principal@north.example.org",
        "active": "on",
        **fields,
    }


def test_a_superuser_adds_a_schedule_and_django_q_schedules_it(admin_client: Client) -> None:
    response = admin_client.post(reverse("admin:sync_reportschedule_add"), schedule_form())

    assert response.status_code == 302
    schedule = ReportSchedule.objects.get(name="Principals")
    assert Schedule.objects.get(pk=schedule.q_schedule_id).cron == "0 6 * * 1"
    listing = admin_client.get(reverse(SCHEDULES)).content.decode()
    assert "Mon " in listing and "06:00" in listing


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"cron": "0 6 * * 8"}, "is not a valid cron expression"),
        ({"cron": "mondays"}, "use five fields"),
        ({"recipients": "principal"}, "Not an e-mail address: principal"),
        ({"kind": "teacher"}, "leave recipients empty"),
        ({"kind": "school"}, "Choose the schools this school summary covers."),
        ({"schools": ["SCHOOL"]}, "A district summary covers the whole district"),
    ],
)
def test_the_schedule_form_explains_what_is_wrong(
    admin_client: Client, district, fields: dict, error: str
) -> None:
    if fields.get("schools") == ["SCHOOL"]:
        fields["schools"] = [Account.objects.get(canvas_id=10).pk]

    response = admin_client.post(reverse("admin:sync_reportschedule_add"), schedule_form(**fields))

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not ReportSchedule.objects.exists()


def test_district_admins_view_schedules_but_do_not_edit_them(district_admin_client: Client) -> None:
    schedule = ReportSchedule.objects.create(name="Weekly", kind="district", cron="0 6 * * 1")

    assert district_admin_client.get(reverse(SCHEDULES)).status_code == 200
    assert district_admin_client.get(reverse("admin:sync_reportschedule_add")).status_code == 403
    change = reverse("admin:sync_reportschedule_change", args=[schedule.pk])
    assert district_admin_client.post(change, schedule_form()).status_code == 403


def test_send_now_builds_and_sends_the_schedules_report(admin_client, district, mailoutbox):
    schedule = ReportSchedule.objects.create(
        name="Weekly", kind="district", cron="0 6 * * 1", recipients="board@district.example.org"
    )

    response = admin_client.post(
        reverse(SCHEDULES), {"action": "send_now", "_selected_action": [schedule.pk]}, follow=True
    )

    assert "Queued: Weekly." in response.content.decode()
    assert ComplianceReport.objects.filter(schedule=schedule).count() == 1
    assert [m.to for m in mailoutbox] == [["board@district.example.org"]]
    schedule.refresh_from_db()
    assert "1 sent" in schedule.last_result


# --- deliveries ----------------------------------------------------------------------------------


def test_failed_deliveries_are_listed_and_a_superuser_retries_them(
    admin_client, district, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    summary_send(recipients=["board@district.example.org"], now=NOW)
    delivery = ReportDelivery.objects.get()
    listing = admin_client.get(
        reverse("admin:sync_reportdelivery_changelist"), {"status": "retrying"}
    )
    assert "ConnectionRefusedError" in listing.content.decode()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = admin_client.post(
        reverse("admin:sync_reportdelivery_changelist"),
        {"action": "retry_now", "_selected_action": [delivery.pk]},
        follow=True,
    )

    assert "Retried: 1 sent." in response.content.decode()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)


def test_district_admins_may_not_retry_deliveries(district_admin_client, district) -> None:
    summary_send(recipients=["board@district.example.org"], now=NOW)

    page = district_admin_client.get(reverse("admin:sync_reportdelivery_changelist"))

    assert page.status_code == 200
    assert "retry_now" not in page.content.decode()
