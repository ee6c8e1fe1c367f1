"""The sandbox's Canvas OAuth2 (sign-in page, codes, tokens, users/self) and its writes
(assignment names and due dates, override due dates), over real HTTP on 127.0.0.1."""

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from courses.models import Assignment, AssignmentOverride
from sandbox.generator import District
from sandbox.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, OAuthProvider
from sync.canvas import CanvasClient
from sync.importer import district_import
from sync.models import ImportRun

ADMIN = "sandbox-token"
REDIRECT = "http://127.0.0.1:8000/teacher/login/canvas/callback/"
COURSE = 1001


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def authorize_params(**changes: str) -> dict:
    params = {
        "client_id": SANDBOX_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "state": "s-123",
    }
    return {**params, **changes}


def teacher_of(district: District, course_id: int = COURSE) -> int:
    return district.layout.teachers_of(district.layout.course_index(course_id))[0]


def code_for(server, user_id: int, redirect_uri: str = REDIRECT) -> str:
    answer = requests.post(
        f"{server.url}/login/oauth2/accept",
        data={**authorize_params(redirect_uri=redirect_uri), "user_id": str(user_id)},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]


def token_request(server, **form: str) -> requests.Response:
    data = {"client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET, **form}
    return requests.post(f"{server.url}/login/oauth2/token", data=data, timeout=10)


def tokens_for(server, user_id: int) -> dict:
    code = code_for(server, user_id)
    answer = token_request(
        server, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def district() -> District:
    return District("small", seed=0)


@pytest.fixture
def live(serve, district):
    with serve(district) as server:
        yield server


# -- the sign-in page ---------------------------------------------------------------------------


def test_the_sign_in_page_lists_teachers_to_choose_from(live):
    page = requests.get(f"{live.url}/login/oauth2/auth", params=authorize_params(), timeout=10)

    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Sign in to the Canvas sandbox" in page.text
    assert page.text.count('name="user_id"') == min(25, len(live.app.oauth.teachers()))
    assert "Cancel" in page.text
    assert "<script" not in page.text and "<link" not in page.text and "src=" not in page.text


def test_the_search_box_finds_a_teacher_by_name(live, district):
    wanted = district.layout.user(teacher_of(district))
    params = {**authorize_params(), "search": wanted["name"].split()[-1].lower()}

    page = requests.get(f"{live.url}/login/oauth2/auth", params=params, timeout=10)

    shown = {int(v) for v in re.findall(r'name="user_id" value="(\d+)"', page.text)}
    assert wanted["id"] in shown
    assert all(
        wanted["name"].split()[-1] in district.layout.user(user_id)["name"] for user_id in shown
    )


def test_a_large_district_shows_a_short_list_and_finds_anyone_by_name():
    oauth = OAuthProvider(District("large", seed=0))
    everyone = oauth.teachers()
    wanted = everyone[len(everyone) // 2]

    _, _, full = oauth.respond("GET", "/login/oauth2/auth", urlencode(authorize_params()), b"", "")
    query = urlencode({**authorize_params(), "search": wanted["name"]})
    _, _, found = oauth.respond("GET", "/login/oauth2/auth", query, b"", "")

    assert len(everyone) > 1000
    assert full.count(b'name="user_id"') == 25
    assert f"Showing 25 of {len(everyone)} teachers".encode() in full
    assert f'value="{wanted["id"]}"'.encode() in found


def test_an_unknown_client_id_gets_an_error_page_not_a_redirect(live):
    page = requests.get(
        f"{live.url}/login/oauth2/auth",
        params=authorize_params(client_id="999"),
        allow_redirects=False,
        timeout=10,
    )

    assert page.status_code == 401
    assert "Location" not in page.headers
    assert "invalid_client" in page.text and "unknown client" in page.text


def test_a_redirect_uri_on_another_domain_gets_an_error_page(live):
    page = requests.get(
        f"{live.url}/login/oauth2/auth",
        params=authorize_params(redirect_uri="https://evil.example/cb"),
        allow_redirects=False,
        timeout=10,
    )

    assert page.status_code == 400
    assert "redirect_uri does not match client settings" in page.text


def test_choosing_a_teacher_redirects_with_a_code_and_the_state(live, district):
    answer = requests.post(
        f"{live.url}/login/oauth2/accept",
        data={**authorize_params(redirect_uri=REDIRECT + "?keep=1"), "user_id": "20000000"},
        allow_redirects=False,
        timeout=10,
    )

    location = urlsplit(answer.headers["Location"])
    query = parse_qs(location.query)
    assert answer.status_code == 302
    assert location.netloc == "127.0.0.1:8000"
    assert query["keep"] == ["1"] and query["state"] == ["s-123"]
    assert len(query["code"][0]) >= 64


def test_cancel_redirects_with_access_denied(live):
    answer = requests.post(
        f"{live.url}/login/oauth2/deny", data=authorize_params(), allow_redirects=False, timeout=10
    )

    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert answer.status_code == 302
    assert query == {"error": ["access_denied"], "state": ["s-123"]}


def test_an_unknown_user_cannot_be_chosen(live):
    answer = requests.post(
        f"{live.url}/login/oauth2/accept",
        data={**authorize_params(), "user_id": "12345"},
        allow_redirects=False,
        timeout=10,
    )

    assert answer.status_code == 400


# -- the token endpoint -------------------------------------------------------------------------


def test_a_code_is_traded_for_tokens_in_canvass_shape(live, district):
    user_id = teacher_of(district)

    body = tokens_for(live, user_id)

    assert set(body) >= {"access_token", "token_type", "user", "refresh_token", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["user"]["id"] == user_id
    assert body["user"]["name"] == district.layout.user(user_id)["name"]
    assert body["expires_in"] == 3600


def test_a_code_works_only_once(live, district):
    code = code_for(live, teacher_of(district))
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    assert token_request(live, **form).status_code == 200

    again = token_request(live, **form)

    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "authorization_code not found",
    }


def test_a_code_expires_after_ten_minutes(district):
    clock = Clock()
    oauth = OAuthProvider(district, clock=clock)
    form = {**authorize_params(), "user_id": str(teacher_of(district))}
    location = oauth.respond("POST", "/login/oauth2/accept", "", _encode(form), "")[1][0][1]
    code = parse_qs(urlsplit(location).query)["code"][0]
    clock.now += 601

    status, _, body = oauth.respond(
        "POST",
        "/login/oauth2/token",
        "",
        _encode(
            {
                "grant_type": "authorization_code",
                "client_id": SANDBOX_CLIENT_ID,
                "client_secret": SANDBOX_CLIENT_SECRET,
                "code": code,
            }
        ),
        "application/x-www-form-urlencoded",
    )

    assert status == 400 and b"invalid_grant" in body


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "42"}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"code": ""}, 400, "invalid_request"),
        ({"redirect_uri": "http://127.0.0.1:8000/elsewhere/"}, 400, "invalid_request"),
    ],
    ids=["wrong-secret", "unknown-client", "grant-type", "no-code", "other-redirect"],
)
def test_bad_token_requests_get_canvass_errors(live, district, form, status, error):
    code = code_for(live, teacher_of(district))
    base = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}

    answer = token_request(live, **{**base, **form})

    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert answer.json()["error_description"]


def test_the_token_endpoint_also_takes_json(live, district):
    code = code_for(live, teacher_of(district))
    body = {
        "grant_type": "authorization_code",
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SANDBOX_CLIENT_SECRET,
        "code": code,
        "redirect_uri": REDIRECT,
    }

    answer = requests.post(f"{live.url}/login/oauth2/token", json=body, timeout=10)

    assert answer.status_code == 200


def test_a_refresh_gives_a_new_access_token_and_ends_the_old_one(live, district):
    first = tokens_for(live, teacher_of(district))

    answer = token_request(live, grant_type="refresh_token", refresh_token=first["refresh_token"])

    body = answer.json()
    assert answer.status_code == 200
    assert "refresh_token" not in body
    assert body["access_token"] != first["access_token"] and body["expires_in"] == 3600
    old = requests.get(f"{live.url}/api/v1/users/self", headers=bearer(first["access_token"]))
    new = requests.get(f"{live.url}/api/v1/users/self", headers=bearer(body["access_token"]))
    assert old.status_code == 401 and new.status_code == 200


def test_an_unknown_refresh_token_is_refused(live):
    answer = token_request(live, grant_type="refresh_token", refresh_token="1~nope")

    assert answer.status_code == 400
    assert answer.json()["error_description"] == "refresh_token not found"


# -- tokens at the API --------------------------------------------------------------------------


def test_users_self_answers_the_tokens_user(live, district):
    user_id = teacher_of(district)
    token = tokens_for(live, user_id)["access_token"]

    me = requests.get(f"{live.url}/api/v1/users/self", headers=bearer(token), timeout=10).json()

    person = district.layout.user(user_id)
    assert me["id"] == user_id
    assert me["name"] == person["name"] and me["sortable_name"] == person["sortable_name"]
    assert me["login_id"] == person["login_id"]
    assert {"short_name", "first_name", "last_name", "avatar_url"} <= set(me)


def test_users_self_with_the_district_token_is_the_admin(live):
    me = requests.get(f"{live.url}/api/v1/users/self", headers=bearer(ADMIN), timeout=10)

    assert me.status_code == 200 and me.json()["id"] == 1


def test_teacher_tokens_can_read_the_course_lists(live, district):
    token = tokens_for(live, teacher_of(district))["access_token"]

    answer = requests.get(
        f"{live.url}/api/v1/courses/{COURSE}/sections", headers=bearer(token), timeout=10
    )

    assert answer.status_code == 200 and answer.json()


def test_an_expired_token_gets_canvass_401(live, district):
    token = tokens_for(live, teacher_of(district))["access_token"]
    expired = requests.post(f"{live.url}/_sandbox/expire_tokens", timeout=10).json()

    answer = requests.get(f"{live.url}/api/v1/users/self", headers=bearer(token), timeout=10)

    assert expired == {"expired": 1}
    assert answer.status_code == 401
    assert answer.json() == {"errors": [{"message": "Invalid access token."}]}
    assert "WWW-Authenticate" in answer.headers


def test_revoked_grants_can_no_longer_be_refreshed(live, district):
    first = tokens_for(live, teacher_of(district))
    requests.post(f"{live.url}/_sandbox/revoke_tokens", timeout=10)

    answer = token_request(live, grant_type="refresh_token", refresh_token=first["refresh_token"])

    assert answer.status_code == 400


# -- writes -------------------------------------------------------------------------------------


def first_assignment(district: District, course_id: int = COURSE) -> dict:
    return district.course(course_id).assignments[0]


def with_override(district: District) -> tuple[int, int, dict]:
    for course_id in district.course_ids():
        for row in district.course(course_id).assignments:
            sections = [o for o in row.get("overrides", ()) if "course_section_id" in o]
            if sections:
                return course_id, row["id"], sections[0]
    raise AssertionError("the sandbox has no section override")


def test_a_form_encoded_rename_and_due_date_are_answered_and_kept(live, district):
    assignment = first_assignment(district)
    url = f"{live.url}/api/v1/courses/{COURSE}/assignments/{assignment['id']}"

    answer = requests.put(
        url,
        data={"assignment[name]": "Unit 1 quiz", "assignment[due_at]": "2026-12-01T17:30:00-06:00"},
        headers=bearer(ADMIN),
        timeout=10,
    )

    body = answer.json()
    assert answer.status_code == 200
    assert body["id"] == assignment["id"] and body["name"] == "Unit 1 quiz"
    assert body["due_at"] == "2026-12-01T23:30:00Z"
    assert "overrides" not in body
    listed = requests.get(
        f"{live.url}/api/v1/courses/{COURSE}/assignments",
        params={"include[]": "overrides", "per_page": 100},
        headers=bearer(ADMIN),
        timeout=10,
    ).json()
    again = next(row for row in listed if row["id"] == assignment["id"])
    assert again["name"] == "Unit 1 quiz" and again["due_at"] == "2026-12-01T23:30:00Z"


def test_a_json_body_with_an_empty_due_date_clears_it(live, district):
    assignment = first_assignment(district)
    url = f"{live.url}/api/v1/courses/{COURSE}/assignments/{assignment['id']}"

    answer = requests.put(
        url, json={"assignment": {"due_at": ""}}, headers=bearer(ADMIN), timeout=10
    )

    assert answer.status_code == 200
    assert answer.json()["due_at"] is None
    assert answer.json()["name"] == assignment["name"]
    assert district.assignment(COURSE, assignment["id"])["due_at"] is None


def test_a_name_over_canvass_255_limit_is_refused_with_canvas_errors(live, district):
    assignment = first_assignment(district)
    url = f"{live.url}/api/v1/courses/{COURSE}/assignments/{assignment['id']}"

    answer = requests.put(
        url, data={"assignment[name]": "x" * 256}, headers=bearer(ADMIN), timeout=10
    )

    assert answer.status_code == 400
    errors = answer.json()["errors"]["title"]
    assert errors[0]["type"] == "too_long"
    assert "255" in errors[0]["message"]
    assert district.assignment(COURSE, assignment["id"])["name"] == assignment["name"]


def test_a_due_date_that_is_not_a_date_is_refused(live, district):
    assignment = first_assignment(district)
    url = f"{live.url}/api/v1/courses/{COURSE}/assignments/{assignment['id']}"

    answer = requests.put(
        url, data={"assignment[due_at]": "next tuesday"}, headers=bearer(ADMIN), timeout=10
    )

    assert answer.status_code == 400
    assert "due_at" in answer.json()["errors"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/courses/1001/assignments/1",
        "/api/v1/courses/999999/assignments/1000000",
        "/api/v1/courses/1001/assignments/1000000/overrides/1",
    ],
    ids=["assignment", "course", "override"],
)
def test_unknown_ids_are_404(live, path):
    answer = requests.put(
        f"{live.url}{path}", data={"assignment[name]": "x"}, headers=bearer(ADMIN), timeout=10
    )

    assert answer.status_code == 404
    assert answer.json() == {"errors": [{"message": "The specified resource does not exist."}]}


def test_an_override_due_date_is_answered_and_kept(live, district):
    course_id, assignment_id, override = with_override(district)
    url = (
        f"{live.url}/api/v1/courses/{course_id}/assignments/{assignment_id}"
        f"/overrides/{override['id']}"
    )

    answer = requests.put(
        url,
        data={"assignment_override[due_at]": "2026-12-02T15:00:00Z"},
        headers=bearer(ADMIN),
        timeout=10,
    )

    assert answer.status_code == 200
    assert answer.json()["id"] == override["id"]
    assert answer.json()["due_at"] == "2026-12-02T15:00:00Z"
    assert answer.json()["course_section_id"] == override["course_section_id"]
    kept = district.assignment(course_id, assignment_id)["overrides"]
    assert next(o for o in kept if o["id"] == override["id"])["due_at"] == "2026-12-02T15:00:00Z"


def test_a_teacher_writes_to_their_own_course(live, district):
    token = tokens_for(live, teacher_of(district))["access_token"]
    assignment = first_assignment(district)

    answer = requests.put(
        f"{live.url}/api/v1/courses/{COURSE}/assignments/{assignment['id']}",
        data={"assignment[name]": "Mine"},
        headers=bearer(token),
        timeout=10,
    )

    assert answer.status_code == 200 and answer.json()["name"] == "Mine"


def test_a_teacher_token_cannot_write_to_another_teachers_course(live, district):
    user_id = teacher_of(district)
    layout = district.layout
    other = next(
        cid
        for cid in district.course_ids()
        if user_id not in layout.teachers_of(layout.course_index(cid))
    )
    token = tokens_for(live, user_id)["access_token"]
    assignment = first_assignment(district, other)

    answer = requests.put(
        f"{live.url}/api/v1/courses/{other}/assignments/{assignment['id']}",
        data={"assignment[name]": "Not mine"},
        headers=bearer(token),
        timeout=10,
    )

    assert answer.status_code == 403
    assert answer.json() == {
        "status": "unauthorized",
        "errors": [{"message": "user not authorized to perform that action"}],
    }
    assert district.assignment(other, assignment["id"])["name"] == assignment["name"]


def test_a_reset_drops_the_edits(live, district):
    assignment = first_assignment(district)
    district.update_assignment(COURSE, assignment["id"], {"name": "Changed"})

    requests.post(f"{live.url}/_sandbox/reset", timeout=10)

    assert district.assignment(COURSE, assignment["id"])["name"] == assignment["name"]


@pytest.mark.django_db(transaction=True)
def test_writes_are_seen_by_the_next_single_course_import(live, district):
    course_id, assignment_id, override = with_override(district)
    client = CanvasClient(live.url, ADMIN, timeout=10, backoff_base=0.01)
    due = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
    try:
        district_import(client=client, course_ids=[course_id], concurrency=1)
        client.update_assignment(course_id, assignment_id, name="Lab 3", due_at=due)
        client.update_override_due_at(course_id, assignment_id, override["id"], None)
        run = district_import(client=client, course_ids=[course_id], concurrency=1)
    finally:
        client.close()

    assert run.status == ImportRun.Status.SUCCEEDED, run.message
    row = Assignment.objects.get(canvas_id=assignment_id)
    assert row.name == "Lab 3" and row.due_at == due
    imported = AssignmentOverride.objects.get(canvas_id=override["id"])
    assert imported.due_at is None and imported.due_at_overridden


def _encode(form: dict) -> bytes:
    return urlencode(form).encode()
