"""The Canvas endpoints over real HTTP: shapes, filters, auth errors and pagination."""

from urllib.parse import parse_qsl, urlsplit

import requests

from sandbox.layout import COURSE_ID_BASE
from tests.sandbox.paging import read_all

COURSES_QUERY = [
    ("include[]", "term"),
    ("state[]", "unpublished"),
    ("state[]", "available"),
    ("state[]", "completed"),
]
ENROLLMENTS_QUERY = [
    ("type[]", "StudentEnrollment"),
    ("type[]", "TeacherEnrollment"),
    ("state[]", "active"),
]
ASSIGNMENTS_QUERY = [("include[]", "overrides"), ("override_assignment_dates", "false")]
ACCOUNT_KEYS = {"id", "name", "parent_account_id", "root_account_id", "sis_account_id"}
TERM_KEYS = {"id", "name", "start_at", "end_at", "sis_term_id", "workflow_state"}
COURSE_KEYS = {
    "id", "name", "course_code", "account_id", "root_account_id", "enrollment_term_id",
    "workflow_state", "start_at", "end_at", "sis_course_id", "term",
}  # fmt: skip
SECTION_KEYS = {
    "id", "course_id", "name", "sis_section_id", "sis_course_id", "start_at", "end_at",
    "nonxlist_course_id",
}  # fmt: skip
GROUP_KEYS = {"id", "name", "position", "group_weight"}
ASSIGNMENT_KEYS = {
    "id", "course_id", "name", "description", "assignment_group_id", "published",
    "workflow_state", "post_to_sis", "due_at", "unlock_at", "lock_at", "points_possible",
    "grading_type", "omit_from_final_grade", "only_visible_to_overrides", "submission_types",
    "html_url", "updated_at", "created_at", "has_overrides", "sis_assignment_id",
}  # fmt: skip
OVERRIDE_TARGETS = {"course_section_id", "student_ids", "group_id", "course_id"}
ENROLLMENT_KEYS = {
    "id", "user_id", "course_id", "course_section_id", "type", "role", "enrollment_state", "user",
}  # fmt: skip
USER_KEYS = {"id", "name", "sortable_name", "sis_user_id", "login_id", "email"}
SUBMISSION_KEYS = {
    "id", "user_id", "assignment_id", "score", "grade", "excused", "late", "missing",
    "workflow_state", "graded_at", "posted_at", "submitted_at", "late_policy_status",
}  # fmt: skip
FIRST_COURSE = COURSE_ID_BASE


def api(server, path: str) -> str:
    return f"{server.url}/api/v1{path}"


def test_sub_accounts_list_every_school_and_region(server, client, small_district):
    accounts, _ = read_all(client, api(server, "/accounts/1/sub_accounts"), {"recursive": "true"})
    assert accounts == small_district.accounts()
    assert all(ACCOUNT_KEYS | {"workflow_state"} == a.keys() for a in accounts)


def test_sub_accounts_without_recursive_list_only_the_root_children(server, client):
    accounts, _ = read_all(client, api(server, "/accounts/1/sub_accounts"))
    assert {a["parent_account_id"] for a in accounts} == {1}


def test_terms_are_wrapped_in_enrollment_terms_and_paginated(server, client):
    response = client.get(api(server, "/accounts/1/terms"), params={"per_page": 2})
    assert list(response.json()) == ["enrollment_terms"]
    assert len(response.json()["enrollment_terms"]) == 2
    terms, requests_made = read_all(client, api(server, "/accounts/1/terms"), {"per_page": 2})
    assert requests_made == 2
    assert [t["name"] for t in terms] == ["Spring 2026", "Fall 2026", "Spring 2027"]
    assert all(t.keys() == TERM_KEYS for t in terms)


def test_courses_include_their_term_and_have_the_canvas_shape(server, client):
    courses, _ = read_all(client, api(server, "/accounts/1/courses"), COURSES_QUERY)
    assert [c["id"] for c in courses] == list(range(FIRST_COURSE, FIRST_COURSE + 40))
    assert all(c.keys() == COURSE_KEYS for c in courses)
    assert all(c["term"].keys() == {"id", "name", "start_at", "end_at"} for c in courses)


def test_courses_honour_the_state_filter(server, client):
    url = api(server, "/accounts/1/courses")
    courses, _ = read_all(client, url, [("state[]", "completed"), ("per_page", "100")])
    assert courses and {c["workflow_state"] for c in courses} == {"completed"}
    assert all("term" not in c for c in courses)


def test_sections_have_the_canvas_shape(server, client):
    sections, _ = read_all(client, api(server, f"/courses/{FIRST_COURSE}/sections"))
    assert sections and all(s.keys() == SECTION_KEYS for s in sections)
    assert {s["course_id"] for s in sections} == {FIRST_COURSE}


def test_assignment_groups_have_the_canvas_shape(server, client):
    groups, _ = read_all(client, api(server, f"/courses/{FIRST_COURSE}/assignment_groups"))
    assert groups and all(g.keys() == GROUP_KEYS for g in groups)


def test_assignments_carry_overrides_only_when_asked(server, client):
    url = api(server, f"/courses/{FIRST_COURSE}/assignments")
    with_overrides, _ = read_all(client, url, ASSIGNMENTS_QUERY)
    without, _ = read_all(client, url, [("override_assignment_dates", "false")])
    assert all(a.keys() == ASSIGNMENT_KEYS | {"overrides"} for a in with_overrides)
    assert all(a.keys() == ASSIGNMENT_KEYS for a in without)
    assert [a["id"] for a in with_overrides] == [a["id"] for a in without]
    first = with_overrides[0]
    expected_url = f"{server.url}/courses/{FIRST_COURSE}/assignments/{first['id']}"
    assert first["html_url"] == expected_url


def test_every_override_has_one_target_and_due_at_only_when_it_sets_it(server, client):
    overrides = []
    for course_id in range(FIRST_COURSE, FIRST_COURSE + 10):
        url = api(server, f"/courses/{course_id}/assignments")
        assignments, _ = read_all(client, url, [*ASSIGNMENTS_QUERY, ("per_page", "100")])
        overrides += [o for a in assignments for o in a["overrides"]]
    for override in overrides:
        assert len(OVERRIDE_TARGETS & override.keys()) == 1
        assert {"id", "assignment_id", "title", "all_day", "all_day_date"} <= override.keys()
    assert any("due_at" not in o for o in overrides)
    assert any("due_at" in o and o["due_at"] is None for o in overrides)


def test_enrollments_embed_the_user_and_honour_the_type_filter(server, client):
    url = api(server, f"/courses/{FIRST_COURSE}/enrollments")
    everyone, _ = read_all(client, url, ENROLLMENTS_QUERY)
    assert all(e.keys() == ENROLLMENT_KEYS and e["user"].keys() == USER_KEYS for e in everyone)
    assert {e["type"] for e in everyone} == {"StudentEnrollment", "TeacherEnrollment"}
    teachers, _ = read_all(client, url, [("type[]", "TeacherEnrollment")])
    assert teachers and {e["type"] for e in teachers} == {"TeacherEnrollment"}
    assert {e["id"] for e in teachers} < {e["id"] for e in everyone}


def test_submissions_have_the_canvas_shape(server, client):
    url = api(server, f"/courses/{FIRST_COURSE}/students/submissions")
    rows, _ = read_all(client, url, {"student_ids[]": "all", "per_page": 100})
    assert rows and all(r.keys() == SUBMISSION_KEYS for r in rows)


def test_submissions_need_student_ids_as_in_canvas(server, client):
    response = client.get(api(server, f"/courses/{FIRST_COURSE}/students/submissions"))
    assert response.json() == []


def test_graded_since_returns_only_grades_entered_since_then(server, client, small_district):
    since = "2026-11-01T00:00:00Z"
    url = api(server, f"/courses/{FIRST_COURSE}/students/submissions")
    rows, _ = read_all(client, url, {"student_ids[]": "all", "graded_since": since})
    expected = [
        row
        for row in small_district.course(FIRST_COURSE).submissions
        if row["graded_at"] is not None and row["graded_at"] >= since
    ]
    assert rows == expected and rows


def test_graded_since_accepts_an_offset_and_rejects_garbage(server, client):
    url = api(server, f"/courses/{FIRST_COURSE}/students/submissions")
    plain, _ = read_all(client, url, {"student_ids[]": "all", "graded_since": "2026-11-01T00:00Z"})
    offset = {"student_ids[]": "all", "graded_since": "2026-10-31T19:00:00-05:00"}
    assert read_all(client, url, offset)[0] == plain
    bad = client.get(url, params={"student_ids[]": "all", "graded_since": "yesterday"})
    assert bad.status_code == 400


def test_a_missing_token_is_refused_with_401_and_www_authenticate(server):
    response = requests.get(api(server, "/accounts/1/terms"), timeout=5)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="canvas-lms"'
    assert response.json() == {"errors": [{"message": "Invalid access token."}]}


def test_a_wrong_token_is_refused(server):
    headers = {"Authorization": "Bearer not-the-token"}
    response = requests.get(api(server, "/accounts/1/terms"), headers=headers, timeout=5)
    assert response.status_code == 401


def test_the_accepted_token_is_configurable(serve):
    with serve(token="district-secret") as custom:
        url = api(custom, "/accounts/1/terms")
        ok = requests.get(url, headers={"Authorization": "Bearer district-secret"}, timeout=5)
        refused = requests.get(url, headers={"Authorization": "Bearer sandbox-token"}, timeout=5)
    assert (ok.status_code, refused.status_code) == (200, 401)


def test_an_unknown_course_is_404_with_the_canvas_error(server, client):
    response = client.get(api(server, "/courses/999999/sections"))
    assert response.status_code == 404
    assert response.json() == {"errors": [{"message": "The specified resource does not exist."}]}


def test_unknown_accounts_and_paths_are_404(server, client):
    assert client.get(api(server, "/accounts/2/courses")).status_code == 404
    assert client.get(api(server, "/courses/1001/quizzes")).status_code == 404
    assert client.get(api(server, "/users/self/favorites")).status_code == 404


def test_the_root_page_says_what_the_sandbox_is_without_a_token(server):
    about = requests.get(f"{server.url}/", timeout=5).json()
    assert about["size"] == "small" and about["root_account_id"] == 1
    assert requests.get(f"{server.url}/login", timeout=5).status_code == 404


def test_every_api_response_reports_its_cost_and_the_remaining_allowance(server, client):
    for url in (api(server, "/accounts/1/terms"), api(server, "/courses/9/sections")):
        response = client.get(url)
        assert float(response.headers["X-Request-Cost"]) >= 0
        assert float(response.headers["X-Rate-Limit-Remaining"]) > 0
    refused = requests.get(api(server, "/accounts/1/terms"), timeout=5)
    assert {"X-Request-Cost", "X-Rate-Limit-Remaining"} <= refused.headers.keys()


def test_pages_hold_10_items_by_default_and_at_most_100(server, client):
    url = api(server, f"/courses/{FIRST_COURSE}/students/submissions")
    assert len(client.get(url, params={"student_ids[]": "all"}).json()) == 10
    big = client.get(url, params={"student_ids[]": "all", "per_page": 500})
    assert len(big.json()) == 100


def test_following_next_visits_every_item_exactly_once(server, client, small_district):
    expected = [row["id"] for row in small_district.course(FIRST_COURSE).submissions]
    url = api(server, f"/courses/{FIRST_COURSE}/students/submissions")
    for size in (7, 100):
        rows, requests_made = read_all(client, url, {"student_ids[]": "all", "per_page": size})
        assert [row["id"] for row in rows] == expected
        assert requests_made == -(-len(expected) // size)


def test_the_next_link_is_opaque_and_keeps_every_original_parameter(server, client):
    url = api(server, f"/courses/{FIRST_COURSE}/enrollments")
    response = client.get(url, params=[*ENROLLMENTS_QUERY, ("per_page", "3")])
    links = response.links
    assert {"current", "next", "first"} <= links.keys()
    following = urlsplit(links["next"]["url"])
    assert f"http://{following.netloc}{following.path}" == url
    params = parse_qsl(following.query)
    assert params[:-1] == [*ENROLLMENTS_QUERY, ("per_page", "3")]
    assert params[-1][0] == "page" and params[-1][1].startswith("bookmark:")


def test_the_last_page_has_no_next_link(server, client):
    response = client.get(api(server, "/accounts/1/terms"), params={"per_page": 100})
    assert "next" not in response.links and "first" in response.links


def test_links_use_the_host_the_request_came_to(server, client):
    response = client.get(
        api(server, "/accounts/1/terms"),
        params={"per_page": 1},
        headers={"Host": "canvas.district.test:8443"},
    )
    assert response.links["next"]["url"].startswith("http://canvas.district.test:8443/api/v1/")


def test_a_forged_page_cursor_is_refused(server, client):
    url = api(server, "/accounts/1/terms")
    for page in ("bookmark:not-base64!", "bookmark:eyJhIjoxfQ", "7x"):
        assert client.get(url, params={"page": page}).status_code == 400
