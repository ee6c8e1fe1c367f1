"""The Canvas client's writes, users/self, the token-rejected hook and the OAuth2 token exchanges:
what is sent, what is retried, and how failures read."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError

from sync.canvas import CanvasClient, CanvasError
from sync.canvas_oauth import CanvasOAuthClient

BASE = "https://canvas.example.edu"
TOKEN = "secret-token-1234"
ASSIGNMENT = f"{BASE}/api/v1/courses/7/assignments/9"
OVERRIDE = f"{BASE}/api/v1/courses/7/assignments/9/overrides/3"
TOKEN_URL = f"{BASE}/login/oauth2/token"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="canvas-lms"'}
INVALID_TOKEN = {"errors": [{"message": "Invalid access token."}]}


@pytest.fixture
def mocked():
    with responses.RequestsMock() as rsps:
        yield rsps


@pytest.fixture
def client():
    canvas = CanvasClient(BASE, TOKEN, sleep=lambda seconds: None, max_retries=2)
    yield canvas
    canvas.close()


@pytest.fixture
def oauth():
    return CanvasOAuthClient(BASE, "10000000000001", "key-secret", sleep=lambda seconds: None)


def sent_json(call) -> dict:
    return json.loads(call.request.body)


def sent_form(call) -> dict:
    return dict(parse_qsl(call.request.body))


def refused() -> requests.ConnectionError:
    reason = NewConnectionError(None, "Failed to establish a new connection: Connection refused")
    return requests.ConnectionError(MaxRetryError(None, "/", reason))


# -- assignment and override writes -------------------------------------------------------------


def test_update_assignment_puts_the_name_and_due_date_as_canvas_expects(client, mocked):
    mocked.put(ASSIGNMENT, json={"id": 9, "name": "Quiz 1", "due_at": "2026-12-01T23:30:00Z"})
    due = datetime(2026, 12, 1, 17, 30, tzinfo=UTC) + timedelta(hours=6)

    answer = client.update_assignment(7, 9, name="Quiz 1", due_at=due)

    call = mocked.calls[0]
    assert answer["name"] == "Quiz 1"
    assert call.request.method == "PUT"
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent_json(call) == {"assignment": {"name": "Quiz 1", "due_at": "2026-12-01T23:30:00Z"}}


def test_a_rename_alone_leaves_the_due_date_out(client, mocked):
    mocked.put(ASSIGNMENT, json={"id": 9})

    client.update_assignment(7, 9, name="Quiz 1")

    assert sent_json(mocked.calls[0]) == {"assignment": {"name": "Quiz 1"}}


def test_a_due_date_of_none_clears_it(client, mocked):
    mocked.put(ASSIGNMENT, json={"id": 9})

    client.update_assignment(7, 9, due_at=None)

    assert sent_json(mocked.calls[0]) == {"assignment": {"due_at": None}}


def test_an_update_with_nothing_to_change_is_a_programming_error(client):
    with pytest.raises(ValueError):
        client.update_assignment(7, 9)


def test_a_naive_due_date_is_refused_before_anything_is_sent(client, mocked):
    with pytest.raises(ValueError):
        client.update_assignment(7, 9, due_at=datetime(2026, 12, 1, 12, 0))

    assert not mocked.calls


def test_update_override_due_at_puts_the_override_date(client, mocked):
    mocked.put(OVERRIDE, json={"id": 3, "due_at": "2026-12-02T15:00:00Z"})

    answer = client.update_override_due_at(7, 9, 3, datetime(2026, 12, 2, 15, tzinfo=UTC))

    assert answer["id"] == 3
    assert sent_json(mocked.calls[0]) == {"assignment_override": {"due_at": "2026-12-02T15:00:00Z"}}


def test_an_override_due_date_of_none_sets_no_date(client, mocked):
    mocked.put(OVERRIDE, json={"id": 3, "due_at": None})

    client.update_override_due_at(7, 9, 3, None)

    assert sent_json(mocked.calls[0]) == {"assignment_override": {"due_at": None}}


@pytest.mark.parametrize(
    "first_answer",
    [{"status": 500}, {"body": requests.ReadTimeout("read timed out")}, {"body": refused()}],
    ids=["500", "read-timeout", "refused"],
)
def test_a_write_whose_answer_was_lost_is_sent_again_because_it_is_idempotent(
    client, mocked, first_answer
):
    mocked.put(ASSIGNMENT, **first_answer)
    mocked.put(ASSIGNMENT, json={"id": 9, "name": "Quiz 1"})

    assert client.update_assignment(7, 9, name="Quiz 1")["name"] == "Quiz 1"
    assert len(mocked.calls) == 2
    assert sent_json(mocked.calls[0]) == sent_json(mocked.calls[1])


def test_a_validation_error_is_final_and_carries_canvass_message(client, mocked):
    errors = {
        "errors": {
            "title": [
                {
                    "attribute": "title",
                    "type": "too_long",
                    "message": "The title cannot be longer than 255 characters",
                }
            ]
        }
    }
    mocked.put(ASSIGNMENT, status=400, json=errors)

    with pytest.raises(CanvasError) as caught:
        client.update_assignment(7, 9, name="x" * 300)

    assert len(mocked.calls) == 1
    assert caught.value.status == 400
    assert "The title cannot be longer than 255 characters" in str(caught.value)


def test_a_write_refused_for_lack_of_permission_says_so(client, mocked):
    body = {
        "status": "unauthorized",
        "errors": [{"message": "user not authorized to perform that action"}],
    }
    mocked.put(ASSIGNMENT, status=403, json=body)

    with pytest.raises(CanvasError) as caught:
        client.update_assignment(7, 9, name="Quiz")

    assert caught.value.status == 403 and len(mocked.calls) == 1
    assert "user not authorized to perform that action" in str(caught.value)


def test_a_write_answered_with_something_other_than_an_object_is_bad_json(client, mocked):
    mocked.put(ASSIGNMENT, json=[1, 2])

    with pytest.raises(CanvasError) as caught:
        client.update_assignment(7, 9, name="Quiz")

    assert caught.value.kind == "bad_json"


def test_user_self_reads_the_tokens_user(client, mocked):
    mocked.get(f"{BASE}/api/v1/users/self", json={"id": 5, "name": "Ana Ruiz"})

    assert client.user_self() == {"id": 5, "name": "Ana Ruiz"}
    assert mocked.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


# -- the token-rejected hook ---------------------------------------------------------------------


class RenewingClient(CanvasClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.renewals: list[bool] = []

    def token_rejected(self, error: CanvasError, *, renewed: bool) -> str:
        self.renewals.append(renewed)
        if renewed:
            raise RuntimeError("sign in again")
        return "fresh-token"


def test_a_rejected_token_is_renewed_through_the_hook_and_the_call_repeated(mocked):
    mocked.get(f"{BASE}/api/v1/users/self", status=401, json=INVALID_TOKEN, headers=CHALLENGE)
    mocked.get(f"{BASE}/api/v1/users/self", json={"id": 5})
    canvas = RenewingClient(BASE, TOKEN, max_retries=0)

    assert canvas.user_self() == {"id": 5}
    assert canvas.renewals == [False]
    assert mocked.calls[1].request.headers["Authorization"] == "Bearer fresh-token"


def test_a_renewed_token_rejected_again_goes_back_to_the_hook_once(mocked):
    mocked.get(f"{BASE}/api/v1/users/self", status=401, json=INVALID_TOKEN, headers=CHALLENGE)
    canvas = RenewingClient(BASE, TOKEN)

    with pytest.raises(RuntimeError):
        canvas.user_self()

    assert canvas.renewals == [False, True]
    assert len(mocked.calls) == 2


def test_a_401_for_a_missing_permission_does_not_renew_the_token(mocked):
    body = {"status": "unauthorized", "errors": [{"message": "user not authorized"}]}
    mocked.put(ASSIGNMENT, status=401, json=body)
    canvas = RenewingClient(BASE, TOKEN)

    with pytest.raises(CanvasError) as caught:
        canvas.update_assignment(7, 9, name="Quiz")

    assert canvas.renewals == [] and caught.value.kind == "auth"


def test_without_a_hook_a_rejected_token_is_an_auth_error_at_once(client, mocked):
    mocked.get(f"{BASE}/api/v1/users/self", status=401, json=INVALID_TOKEN, headers=CHALLENGE)

    with pytest.raises(CanvasError) as caught:
        client.user_self()

    assert caught.value.kind == "auth" and len(mocked.calls) == 1


# -- OAuth2 ------------------------------------------------------------------------------------


def test_the_authorize_url_asks_for_a_code_with_the_state(oauth):
    url = oauth.authorize_url(redirect_uri="https://gpb.example.org/cb", state="s1")

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BASE}/login/oauth2/auth"
    assert parse_qs(parts.query) == {
        "client_id": ["10000000000001"],
        "response_type": ["code"],
        "redirect_uri": ["https://gpb.example.org/cb"],
        "state": ["s1"],
    }


def test_a_code_is_exchanged_with_the_developer_key_and_the_redirect_uri(oauth, mocked):
    mocked.post(
        TOKEN_URL,
        json={
            "access_token": "1~abc",
            "token_type": "Bearer",
            "user": {"id": 42, "name": "Jo Park"},
            "refresh_token": "1~def",
            "expires_in": 3600,
        },
    )

    tokens = oauth.exchange_code(code="c0de", redirect_uri="https://gpb.example.org/cb", now=NOW)

    assert sent_form(mocked.calls[0]) == {
        "grant_type": "authorization_code",
        "client_id": "10000000000001",
        "client_secret": "key-secret",
        "redirect_uri": "https://gpb.example.org/cb",
        "code": "c0de",
    }
    assert "Authorization" not in mocked.calls[0].request.headers
    assert (tokens.access_token, tokens.refresh_token) == ("1~abc", "1~def")
    assert tokens.user_id == 42 and tokens.user_name == "Jo Park"
    assert tokens.expires_at == NOW + timedelta(hours=1)
    assert "1~abc" not in repr(tokens) and "1~def" not in repr(tokens)


def test_a_refresh_sends_the_refresh_token_and_keeps_no_new_one(oauth, mocked):
    mocked.post(TOKEN_URL, json={"access_token": "1~new", "expires_in": 3600})

    tokens = oauth.refresh(refresh_token="1~def", now=NOW)

    assert sent_form(mocked.calls[0]) == {
        "grant_type": "refresh_token",
        "client_id": "10000000000001",
        "client_secret": "key-secret",
        "refresh_token": "1~def",
    }
    assert tokens.access_token == "1~new" and tokens.refresh_token == ""


def test_a_token_without_expiry_never_expires(oauth, mocked):
    mocked.post(TOKEN_URL, json={"access_token": "1~new"})

    assert oauth.refresh(refresh_token="r", now=NOW).expires_at is None


def test_a_refused_grant_reads_plainly_and_is_not_retried(oauth, mocked):
    mocked.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "authorization_code not found"},
    )

    with pytest.raises(CanvasError) as caught:
        oauth.exchange_code(code="used", redirect_uri="https://x/cb", now=NOW)

    assert len(mocked.calls) == 1
    assert caught.value.kind == "auth" and caught.value.status == 400
    assert "no longer valid" in str(caught.value)
    assert "authorization_code not found" in str(caught.value)


def test_a_wrong_developer_key_names_the_settings(oauth, mocked):
    mocked.post(
        TOKEN_URL,
        status=401,
        json={"error": "invalid_client", "error_description": "invalid client"},
    )

    with pytest.raises(CanvasError) as caught:
        oauth.refresh(refresh_token="r", now=NOW)

    assert "CANVAS_OAUTH_CLIENT_ID" in str(caught.value)
    assert "key-secret" not in str(caught.value)


@pytest.mark.parametrize(
    "failure",
    [requests.ReadTimeout("read timed out"), requests.ConnectionError("connection reset")],
    ids=["read-timeout", "reset"],
)
def test_a_token_request_that_may_have_reached_canvas_is_not_sent_twice(oauth, mocked, failure):
    mocked.post(TOKEN_URL, body=failure)

    with pytest.raises(CanvasError) as caught:
        oauth.exchange_code(code="c0de", redirect_uri="https://x/cb", now=NOW)

    assert caught.value.kind == "unreachable"
    assert len(mocked.calls) == 1


def test_a_token_request_that_never_left_is_tried_again(oauth, mocked):
    mocked.post(TOKEN_URL, body=refused())
    mocked.post(TOKEN_URL, json={"access_token": "1~new", "expires_in": 60})

    assert oauth.refresh(refresh_token="r", now=NOW).access_token == "1~new"
    assert len(mocked.calls) == 2


def test_a_sign_in_answer_that_is_not_json_is_bad_json(oauth, mocked):
    mocked.post(TOKEN_URL, body="<html>maintenance</html>")

    with pytest.raises(CanvasError) as caught:
        oauth.refresh(refresh_token="r", now=NOW)

    assert caught.value.kind == "bad_json"


def test_a_code_exchange_without_a_refresh_token_is_refused(oauth, mocked):
    mocked.post(TOKEN_URL, json={"access_token": "1~abc", "expires_in": 3600})

    with pytest.raises(CanvasError, match="no refresh token"):
        oauth.exchange_code(code="c0de", redirect_uri="https://x/cb", now=NOW)


def test_a_client_used_as_a_context_manager_closes_its_connections(mocked):
    mocked.get(f"{BASE}/api/v1/users/self", json={"id": 5})

    with CanvasClient(BASE, TOKEN) as canvas:
        canvas.user_self()
        assert canvas._sessions

    assert not canvas._sessions
