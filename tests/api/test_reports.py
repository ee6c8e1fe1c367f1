"""The reports API: kept reports listed, one in full as JSON, its violations as streamed CSV."""

import csv
import io

import pytest
from django.http import StreamingHttpResponse

from sync.models import ReportKind
from sync.reports import report_build, teacher_digests_build
from sync.violation_rows import COLUMNS
from tests.api import factories
from tests.sync.report_district import NOW, build_district, days_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def reports() -> dict:
    build_district()
    first = report_build(now=days_ago(7))
    latest = report_build(now=NOW)
    digests, _ = teacher_digests_build(now=NOW)
    return {"first": first, "latest": latest, "digests": digests}


def test_reports_are_listed_newest_first_with_their_headline_figures(staff_client, reports):
    response = staff_client.get("/api/v1/reports/", {"kind": "district"})

    assert response.status_code == 200
    items = response.json()["results"]
    assert [item["id"] for item in items] == [reports["latest"].pk, reports["first"].pk]
    latest = items[0]
    assert latest["kind"] == "district"
    assert (latest["synced"], latest["compliant"], latest["blocked"]) == (11, 6, 5)
    assert latest["compliance_rate"] == pytest.approx(6 / 11)
    assert latest["rate_change"] == pytest.approx(0)
    assert latest["previous"] == reports["first"].pk
    assert latest["scope"] == {"label": "District", "school_ids": []}
    assert latest["teacher"] is None
    assert latest["csv_url"].endswith(f"/api/v1/reports/{reports['latest'].pk}/csv/")
    assert "snapshot" not in latest and "violations" not in latest


def test_the_list_filters_teacher_digests_and_names_their_teacher(staff_client, reports):
    items = staff_client.get("/api/v1/reports/", {"kind": "teacher"}).json()["results"]

    assert sorted(item["teacher"]["name"] for item in items) == [
        "Ada Lovelace",
        "Ben Franklin",
        "Cy Young",
    ]


def test_an_unknown_kind_answers_400(staff_client, reports):
    response = staff_client.get("/api/v1/reports/", {"kind": "weekly"})

    assert response.status_code == 400
    assert "district" in response.json()["kind"]


def test_one_report_in_full_has_its_sections_and_violations(staff_client, reports):
    report = reports["latest"]

    body = staff_client.get(f"/api/v1/reports/{report.pk}/").json()

    assert body["snapshot"]["summary"]["open_blocking"] == 4
    assert [s["name"] for s in body["snapshot"]["schools"]] == ["North High", "South Middle"]
    assert body["snapshot"]["passback"]["grades"]["posted"] == 3
    assert len(body["violations"]) == 5
    first = body["violations"][0]
    assert set(COLUMNS) <= set(first) and {"first_seen", "canvas_url"} <= set(first)


def test_a_reports_csv_is_streamed_in_the_gpb_report_columns(staff_client, reports):
    digest = next(d for d in reports["digests"] if d.teacher_id == 9002)

    response = staff_client.get(f"/api/v1/reports/{digest.pk}/csv/", HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {r["course_canvas_id"] for r in rows} == {"200"}
    assert sorted(r["rule"] for r in rows) == ["missing_due_date", "section_not_in_sis"]


def test_a_missing_report_answers_404_in_json_and_csv(staff_client, reports):
    assert staff_client.get("/api/v1/reports/999999/").status_code == 404
    assert staff_client.get("/api/v1/reports/999999/csv/").status_code == 404


def test_reports_are_for_staff_only(reports):
    client = factories.client_for(factories.user("teacher", staff=False))

    assert client.get("/api/v1/reports/").status_code == 403
    assert client.get(f"/api/v1/reports/{reports['latest'].pk}/csv/").status_code == 403


def test_the_schema_documents_the_reports_endpoints(staff_client, root):
    schema = staff_client.get("/api/v1/schema/", {"format": "json"}).json()

    assert {
        "/api/v1/reports/",
        "/api/v1/reports/{id}/",
        "/api/v1/reports/{id}/csv/",
    } <= set(schema["paths"])
    kind = next(
        p for p in schema["paths"]["/api/v1/reports/"]["get"]["parameters"] if p["name"] == "kind"
    )
    assert kind["schema"]["enum"] == list(ReportKind.values)
