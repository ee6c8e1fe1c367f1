"""`manage.py gpb_report`: open violations as JSON or CSV, in the binding column set."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from sync.importer import district_import
from sync.violation_rows import COLUMNS
from tests.sync.fakes import small_district

pytestmark = pytest.mark.django_db


@pytest.fixture
def district():
    canvas = small_district()
    canvas.course_data[100]["assignments"][0]["name"] = "N" * 31  # name_too_long (blocking)
    canvas.course_data[100]["assignments"][1].update(due_at=None)  # missing_due_date per section
    canvas.course_data[200]["sections"][0]["sis_section_id"] = None  # section_not_in_sis
    canvas.course_data[200]["assignments"][0].update(  # due_date_outside_availability (warning)
        unlock_at="2026-10-05T00:00:00Z"
    )
    district_import(client=canvas, concurrency=1, full=True)
    return canvas


def report(*args: str) -> str:
    out = io.StringIO()
    call_command("gpb_report", *args, stdout=out)
    return out.getvalue()


def test_json_lists_each_open_violation_with_the_binding_keys(district):
    items = json.loads(report("--format", "json"))

    assert all(list(item) == COLUMNS for item in items)
    by_rule = {}
    for item in items:
        by_rule.setdefault(item["rule"], []).append(item)
    assert set(by_rule) == {
        "name_too_long",
        "missing_due_date",
        "section_not_in_sis",
        "due_date_outside_availability",
    }
    long_name = by_rule["name_too_long"][0]
    assert long_name["severity"] == "blocking"
    assert long_name["school_canvas_id"] == 10 and long_name["school_name"] == "School 10"
    assert long_name["course_canvas_id"] == 100 and long_name["course_sis_id"] == "SIS-C100"
    assert long_name["assignment_canvas_id"] == 1000 and long_name["assignment_name"] == "N" * 31
    assert long_name["section_canvas_id"] is None and long_name["section_sis_id"] is None
    assert long_name["teachers"] == ["Person 9100"]
    assert "30 characters or fewer" in long_name["message"]


def test_section_rules_of_an_assignment_carry_both_and_section_not_in_sis_only_the_section(
    district,
):
    items = json.loads(report())
    missing = [i for i in items if i["rule"] == "missing_due_date"]
    assert {(i["assignment_canvas_id"], i["section_canvas_id"]) for i in missing} == {
        (1001, 101),
        (1001, 102),
    }
    assert missing[0]["section_sis_id"] in {"SIS-S101", "SIS-S102"}
    (no_sis,) = [i for i in items if i["rule"] == "section_not_in_sis"]
    assert no_sis["section_canvas_id"] == 201 and no_sis["assignment_canvas_id"] is None


def test_info_findings_appear_only_with_all_severities(district):
    default = json.loads(report())
    everything = json.loads(report("--all-severities"))

    assert {i["severity"] for i in default} == {"blocking", "warning"}
    assert len(everything) >= len(default)


def test_filters_by_school_and_rule(district):
    items = json.loads(report("--school", "11"))
    assert {i["school_canvas_id"] for i in items} == {11}

    items = json.loads(report("--rule", "missing_due_date"))
    assert {i["rule"] for i in items} == {"missing_due_date"}


def test_csv_has_the_same_columns_and_joins_teachers(district, tmp_path):
    path = tmp_path / "report.csv"
    call_command("gpb_report", "--format", "csv", "--output", str(path), stderr=io.StringIO())

    rows = list(csv.DictReader(path.open()))
    assert list(rows[0]) == COLUMNS
    assert len(rows) == len(json.loads(report()))
    assert rows[0]["teachers"].startswith("Person ")


def test_an_unknown_rule_or_school_is_a_clear_error(district):
    with pytest.raises(CommandError, match="Unknown rule 'nope'"):
        report("--rule", "nope")
    with pytest.raises(CommandError, match="No school with Canvas id 999"):
        report("--school", "999")


def test_an_empty_district_reports_an_empty_list():
    assert json.loads(report()) == []
