"""Mutations between imports (in process and through /_sandbox/ control endpoints)."""

import copy
import json
from datetime import UTC, datetime

import pytest
import requests

from sandbox.generator import District
from sandbox.overlay import CORRUPTION_KINDS
from tests.sandbox.paging import read_all

COURSE = 1001
FIXED_NOW = datetime(2027, 1, 2, 3, 4, 5, 250_000, tzinfo=UTC)


def fresh(**options) -> District:
    return District("small", seed=0, **options)


def graded_rows(district: District) -> list[dict]:
    return [
        row
        for course_id in district.course_ids()
        for row in district.course(course_id).submissions
        if row["graded_at"] is not None
    ]


def test_change_grades_regrades_about_that_share_and_counts_exactly():
    district = fresh(clock=lambda: FIXED_NOW)
    before = {row["id"]: row["score"] for row in graded_rows(district)}
    changed = district.change_grades(0.05)
    stamped = [row for row in graded_rows(district) if row["graded_at"] == "2027-01-02T03:04:06Z"]
    assert changed == len(stamped)
    assert 0.03 * len(before) < changed < 0.07 * len(before)
    assert all(row["score"] != before[row["id"]] for row in stamped)


def test_changed_grades_are_stamped_with_the_wall_clock_rounded_up():
    district = fresh()
    started = datetime.now(UTC).replace(microsecond=0)
    district.change_grades(0.01)
    stamps = {row["graded_at"] for row in graded_rows(district)}
    assert max(stamps) >= started.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_change_grades_is_deterministic():
    first, second = fresh(clock=lambda: FIXED_NOW), fresh(clock=lambda: FIXED_NOW)
    assert first.change_grades(0.1) == second.change_grades(0.1)
    assert graded_rows(first) == graded_rows(second)


def test_changed_grades_show_up_with_graded_since_over_http(serve, client):
    with serve() as server:
        since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        response = requests.post(f"{server.url}/_sandbox/change_grades?fraction=0.02", timeout=30)
        changed = response.json()["changed"]
        seen = 0
        for course_id in server.district.course_ids():
            url = f"{server.url}/api/v1/courses/{course_id}/students/submissions"
            params = {"student_ids[]": "all", "graded_since": since, "per_page": 100}
            seen += len(read_all(client, url, params)[0])
    assert response.status_code == 200
    assert changed > 0 and seen == changed


def test_change_assignments_edits_them_and_bumps_updated_at():
    district = fresh(clock=lambda: FIXED_NOW)
    before = copy.deepcopy(
        {a["id"]: a for c in district.course_ids() for a in district.course(c).assignments}
    )
    changed = district.change_assignments(8)
    assert len(changed) == len(set(changed)) == 8
    after = {a["id"]: a for c in district.course_ids() for a in district.course(c).assignments}
    for assignment_id in changed:
        old, new = before[assignment_id], after[assignment_id]
        assert new["updated_at"] == "2027-01-02T03:04:06Z"
        edited = {k for k in old if old[k] != new[k]} - {"updated_at"}
        assert edited & {"name", "post_to_sis", "due_at", "published"}
    assert any(len(after[a]["name"]) > 30 for a in changed)


def test_a_deleted_assignment_vanishes_with_its_submissions():
    district = fresh()
    assignment_id = district.course(COURSE).assignments[0]["id"]
    district.delete_assignment(COURSE, assignment_id)
    data = district.course(COURSE)
    assert assignment_id not in [a["id"] for a in data.assignments]
    assert assignment_id not in {row["assignment_id"] for row in data.submissions}
    with pytest.raises(KeyError):
        district.delete_assignment(COURSE, assignment_id)


def test_a_deleted_section_vanishes_with_its_enrollments_and_overrides():
    district = fresh()
    section_id = district.course(COURSE).sections[0]["id"]
    district.delete_section(COURSE, section_id)
    data = district.course(COURSE)
    assert section_id not in [s["id"] for s in data.sections]
    assert section_id not in {e["course_section_id"] for e in data.enrollments}
    targets = {o.get("course_section_id") for a in data.assignments for o in a["overrides"]}
    assert section_id not in targets
    enrolled = {e["user_id"] for e in data.enrollments}
    assert {row["user_id"] for row in data.submissions} <= enrolled


def test_a_section_sis_id_can_be_renamed_or_cleared():
    district = fresh()
    section_id = district.course(COURSE).sections[0]["id"]
    district.rename_section_sis(COURSE, section_id, "NEW-SIS-1")
    assert district.course(COURSE).sections[0]["sis_section_id"] == "NEW-SIS-1"
    district.rename_section_sis(COURSE, section_id, None)
    assert district.course(COURSE).sections[0]["sis_section_id"] is None


def test_reset_restores_the_generated_district():
    district, pristine = fresh(), fresh()
    district.change_grades(0.1)
    district.change_assignments(3)
    district.delete_section(COURSE, district.course(COURSE).sections[0]["id"])
    district.corrupt_course(COURSE, "null_dates")
    district.reset()
    for course_id in district.course_ids()[:5]:
        assert district.course(course_id).submissions == pristine.course(course_id).submissions
        assert district.course(course_id).sections == pristine.course(course_id).sections
    assert district.course_summary(COURSE) == pristine.course_summary(COURSE)


def test_mutations_leave_other_courses_alone():
    district, pristine = fresh(), fresh()
    district.corrupt_course(COURSE, "unicode")
    district.delete_section(COURSE, district.course(COURSE).sections[0]["id"])
    assert district.course(COURSE + 1).assignments == pristine.course(COURSE + 1).assignments


def api_get(server, client, path: str, **params) -> requests.Response:
    return client.get(f"{server.url}/api/v1{path}", params={"per_page": 100, **params})


def test_malformed_json_corrupts_only_that_course_assignments(serve, client):
    with serve() as server:
        server.district.corrupt_course(COURSE, "malformed_json")
        broken = api_get(server, client, f"/courses/{COURSE}/assignments")
        fine = api_get(server, client, f"/courses/{COURSE + 1}/assignments")
        sections = api_get(server, client, f"/courses/{COURSE}/sections")
    assert broken.status_code == 200
    with pytest.raises(ValueError):
        json.loads(broken.text)
    assert fine.json() and sections.json()


def test_missing_id_removes_the_id_of_one_assignment(serve, client):
    with serve() as server:
        server.district.corrupt_course(COURSE, "missing_id")
        assignments, _ = read_all(
            client, f"{server.url}/api/v1/courses/{COURSE}/assignments", {"per_page": 5}
        )
    assert sum("id" not in a for a in assignments) == 1
    assert len(assignments) == len(server.district.course(COURSE).assignments)


def test_an_unknown_workflow_state_is_listed_despite_the_state_filter(serve, client):
    with serve() as server:
        server.district.corrupt_course(COURSE, "unknown_workflow_state")
        courses, _ = read_all(
            client,
            f"{server.url}/api/v1/accounts/1/courses",
            [("state[]", "available"), ("per_page", "100")],
        )
    weird = [c for c in courses if c["id"] == COURSE]
    assert weird and weird[0]["workflow_state"] == "archived_weird"


def test_long_name_and_unicode_corruptions():
    district = fresh()
    district.corrupt_course(COURSE, "long_name")
    district.corrupt_course(COURSE + 1, "unicode")
    assert len(district.course(COURSE).assignments[0]["name"]) == 10_000
    names = [a["name"] for a in district.course(COURSE + 1).assignments]
    assert any(any(ord(ch) > 0x1F000 for ch in name) for name in names)
    assert any(any("\u0590" <= ch <= "\u06ff" for ch in name) for name in names)


def test_null_dates_empties_every_date_of_the_course():
    district = fresh()
    district.corrupt_course(COURSE, "null_dates")
    data = district.course(COURSE)
    assert data.course["start_at"] is None and data.course["term"]["start_at"] is None
    assert all(a["due_at"] is None and a["updated_at"] is None for a in data.assignments)
    assert all(row["graded_at"] is None for row in data.submissions)
    assert all(o.get("due_at") is None for a in data.assignments for o in a["overrides"])


def test_old_canvas_drops_fields_that_older_versions_lack(serve, client):
    with serve() as server:
        server.district.corrupt_course(COURSE, "old_canvas")
        assignments = api_get(
            server, client, f"/courses/{COURSE}/assignments", **{"include[]": "overrides"}
        ).json()
        rows = api_get(
            server, client, f"/courses/{COURSE}/students/submissions", **{"student_ids[]": "all"}
        ).json()
    gone = {"post_to_sis", "omit_from_final_grade", "only_visible_to_overrides", "overrides"}
    assert all(not gone & a.keys() for a in assignments)
    assert all(not {"posted_at", "late", "missing"} & row.keys() for row in rows)


def test_every_corruption_kind_is_accepted_and_unknown_ones_are_refused():
    district = fresh()
    for kind in CORRUPTION_KINDS:
        district.corrupt_course(COURSE, kind)
    with pytest.raises(ValueError):
        district.corrupt_course(COURSE, "on_fire")
    with pytest.raises(KeyError):
        district.corrupt_course(5, "unicode")


def control(server, method: str, action: str, **params) -> requests.Response:
    return requests.request(method, f"{server.url}/_sandbox/{action}", params=params, timeout=30)


def test_control_endpoints_mutate_and_report(server, client):
    assert control(server, "POST", "change_assignments", count=2).json()["changed"]
    corrupt = control(server, "POST", "corrupt", course_id=COURSE, kind="long_name")
    assert corrupt.json() == {"course_id": COURSE, "kind": "long_name"}
    section = server.district.course(COURSE).sections[0]["id"]
    renamed = control(
        server, "POST", "rename_section_sis", course_id=COURSE, section_id=section,
        sis_section_id="X-1",
    )  # fmt: skip
    assert renamed.status_code == 200
    sizes = control(server, "GET", "course_sizes", course_id=COURSE).json()
    assert sizes == server.district.course_list_sizes(COURSE)
    assert control(server, "POST", "reset").json()["reset"] is True
    assert server.district.course(COURSE).sections[0]["sis_section_id"] != "X-1"


def test_control_endpoints_explain_bad_calls(server):
    assert control(server, "POST", "corrupt", course_id=COURSE, kind="nope").status_code == 400
    assert control(server, "POST", "corrupt", course_id=5, kind="unicode").status_code == 404
    assert control(server, "GET", "change_grades", fraction=0.1).status_code == 405
    assert control(server, "POST", "change_grades", fraction="lots").status_code == 400
    assert control(server, "POST", "change_grades").status_code == 400
    assert control(server, "GET", "teleport").status_code == 404


def test_stats_count_requests_by_kind(server, client):
    client.get(f"{server.url}/api/v1/accounts/1/terms")
    client.get(f"{server.url}/api/v1/courses/{COURSE}/sections")
    client.get(f"{server.url}/api/v1/courses/{COURSE}/sections")
    stats = control(server, "GET", "stats").json()
    assert stats["requests"]["terms"] == 1 and stats["requests"]["sections"] == 2
    assert stats["size"] == "small" and stats["seed"] == 0
    control(server, "POST", "stats/reset")
    assert control(server, "GET", "stats").json()["requests"] == {"control": 1}


def test_totals_are_served_for_benchmarks_in_another_process(server):
    totals = control(server, "GET", "totals").json()
    assert totals == server.district.totals()
