"""Tests for the OneRoster gradebook client: what it sends, how it authenticates and retries."""

import base64
import json
import logging
import pickle
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses

from sync.oneroster import OneRosterClient, OneRosterError, Sent

BASE = "https://district.infinitecampus.org/campus/api/ims/oneroster/gradebook/v1p2"
TOKEN_URL = "https://district.infinitecampus.org/campus/oauth2/token?appName=district"
CLIENT_ID = "gpb-client"
CLIENT_SECRET = "client-secret-5678"
VENDOR_KEY = "vendor-key"
VENDOR_SECRET = "vendor-secret-9012"
LINE_ITEM = f"{BASE}/lineItems/gpb-a11-s22"
RESULT = f"{BASE}/results/gpb-a11-s22-u33"
CATEGORIES = f"{BASE}/classes/1234/categories"

UNKNOWN_CLASS = {
    "imsx_codeMajor": "failure",
    "imsx_severity": "error",
    "imsx_description": "Unknown Object: class 1234",
    "imsx_CodeMinor": {
        "imsx_codeMinorField": [
            {
                "imsx_codeMinorFieldName": "TargetEndSystem",
                "imsx_codeMinorFieldValue": "unknownobject",
            }
        ]
    },
}


class RecordingSleep:
    """Stands in for time.sleep: records each delay, never waits."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class FakeClock:
    """Stands in for time.monotonic: time moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(sleep, clock):
    made: list[OneRosterClient] = []

    def make(**options) -> OneRosterClient:
        settings = {
            "vendor_key": VENDOR_KEY,
            "vendor_secret": VENDOR_SECRET,
            "max_retries": 3,
            "sleep": sleep,
            "clock": clock,
            "direct": False,  # responses intercepts requests' adapter, which the lane skips
            **options,
        }
        client = OneRosterClient(BASE, TOKEN_URL, CLIENT_ID, CLIENT_SECRET, **settings)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client) -> OneRosterClient:
    return make_client()


@pytest.fixture
def mocked():
    with responses.RequestsMock() as rsps:
        yield rsps


def token_answer(mocked, token: str = "token-1", expires_in: int = 3600) -> None:
    mocked.post(
        TOKEN_URL, json={"access_token": token, "token_type": "bearer", "expires_in": expires_in}
    )


def token_calls(mocked) -> list:
    return [call for call in mocked.calls if call.request.method == "POST"]


def gradebook_calls(mocked) -> list:
    return [call for call in mocked.calls if call.request.method != "POST"]


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def category(number: int, **extra) -> dict:
    return {
        "sourcedId": f"cat-{number}",
        "status": "active",
        "title": f"Category {number}",
        **extra,
    }


# -- the token request --------------------------------------------------------------------------


def test_the_token_request_uses_basic_auth_and_a_client_credentials_form_body(client, mocked):
    token_answer(mocked)
    mocked.put(RESULT, status=201)

    client.put_result("gpb-a11-s22-u33", {"score": 9})

    sent = token_calls(mocked)[0].request
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert sent.url == TOKEN_URL
    assert sent.headers["Authorization"] == f"Basic {expected}"
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(sent.body)) == {"grant_type": "client_credentials"}
    assert "x-vendor-authorization" not in sent.headers


def test_a_scope_is_sent_only_when_one_is_configured(make_client, mocked):
    token_answer(mocked)
    mocked.put(RESULT, status=201)
    scope = "https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.createput"

    make_client(scope=scope).put_result("gpb-a11-s22-u33", {})

    assert dict(parse_qsl(token_calls(mocked)[0].request.body)) == {
        "grant_type": "client_credentials",
        "scope": scope,
    }


def test_the_token_is_cached_across_calls(client, mocked):
    token_answer(mocked)
    mocked.put(RESULT, status=201)

    for _ in range(3):
        client.put_result("gpb-a11-s22-u33", {})

    assert len(token_calls(mocked)) == 1
    assert all(
        c.request.headers["Authorization"] == "Bearer token-1" for c in gradebook_calls(mocked)
    )


def test_the_token_is_refreshed_a_minute_before_it_expires(client, mocked, clock):
    token_answer(mocked, "token-1", expires_in=3600)
    token_answer(mocked, "token-2", expires_in=3600)
    mocked.put(RESULT, status=201)

    client.put_result("gpb-a11-s22-u33", {})
    clock.now += 3539
    client.put_result("gpb-a11-s22-u33", {})
    clock.now += 1
    client.put_result("gpb-a11-s22-u33", {})

    sent = [c.request.headers["Authorization"] for c in gradebook_calls(mocked)]
    assert sent == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]
    assert len(token_calls(mocked)) == 2


def test_a_short_lived_token_is_still_reused_for_half_its_life(client, mocked, clock):
    token_answer(mocked, "token-1", expires_in=30)
    mocked.put(RESULT, status=201)

    client.put_result("gpb-a11-s22-u33", {})
    clock.now += 14
    client.put_result("gpb-a11-s22-u33", {})

    assert len(token_calls(mocked)) == 1


def test_a_rejected_client_secret_is_an_auth_error_naming_sis_client_secret(client, mocked):
    mocked.post(
        TOKEN_URL,
        status=401,
        json={"error": "invalid_client", "error_description": "Client authentication failed"},
    )

    with pytest.raises(OneRosterError) as caught:
        client.put_result("gpb-a11-s22-u33", {})

    error = caught.value
    assert error.kind == "auth"
    assert error.status == 401
    assert error.attempts == 1
    assert not error.retryable
    assert str(error) == (
        f"Infinite Campus rejected the client secret (HTTP 401 at {TOKEN_URL}): "
        "check SIS_CLIENT_ID and SIS_CLIENT_SECRET"
    )
    assert CLIENT_SECRET not in str(error)
    assert gradebook_calls(mocked) == []


def test_a_400_invalid_client_from_the_token_endpoint_is_also_an_auth_error(client, mocked):
    mocked.post(TOKEN_URL, status=400, json={"error": "invalid_client"})

    with pytest.raises(OneRosterError) as caught:
        client.put_result("gpb-a11-s22-u33", {})

    assert caught.value.kind == "auth"
    assert "SIS_CLIENT_SECRET" in str(caught.value)


def test_a_token_answer_without_an_access_token_is_a_bad_response(client, mocked):
    mocked.post(TOKEN_URL, json={"token_type": "bearer"})

    with pytest.raises(OneRosterError) as caught:
        client.put_result("gpb-a11-s22-u33", {})

    assert caught.value.kind == "bad_response"
    assert "SIS_TOKEN_URL" in str(caught.value)


def test_a_malformed_token_answer_is_not_echoed_into_the_error(client, mocked):
    mocked.post(TOKEN_URL, json={"access_token": {"value": "leaked-token"}})

    with pytest.raises(OneRosterError) as caught:
        client.put_result("gpb-a11-s22-u33", {})

    assert caught.value.kind == "bad_response"
    assert caught.value.description is None
    assert "leaked-token" not in str(caught.value)


def test_an_unreachable_token_endpoint_is_retried_then_names_sis_token_url(client, mocked, sleep):
    mocked.post(TOKEN_URL, body=requests.ConnectionError("[Errno 111] Connection refused"))

    with pytest.raises(OneRosterError) as caught:
        client.put_result("gpb-a11-s22-u33", {})

    error = caught.value
    assert error.kind == "unreachable"
    assert error.retryable
    assert error.attempts == 4
    assert str(error) == (
        f"Cannot reach the Infinite Campus token endpoint at {TOKEN_URL} "
        "(connection refused after 4 attempts): check SIS_TOKEN_URL"
    )
    assert len(sleep.delays) == 3


# -- what gradebook calls send ------------------------------------------------------------------


def test_put_line_item_wraps_the_body_and_sends_token_vendor_key_and_accept(client, mocked):
    token_answer(mocked)
    mocked.put(LINE_ITEM, status=201)

    sent = client.put_line_item("gpb-a11-s22", {"sourcedId": "gpb-a11-s22", "title": "Quiz 1"})

    request = gradebook_calls(mocked)[0].request
    assert sent == Sent(status=201, attempts=1)
    assert json.loads(request.body) == {"lineItem": {"sourcedId": "gpb-a11-s22", "title": "Quiz 1"}}
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Authorization"] == "Bearer token-1"
    assert request.headers["x-vendor-authorization"] == f"{VENDOR_KEY}:{VENDOR_SECRET}"


def test_put_result_wraps_the_body_in_result(client, mocked):
    token_answer(mocked)
    mocked.put(RESULT, status=200)

    sent = client.put_result("gpb-a11-s22-u33", {"score": 18, "scoreStatus": "fully graded"})

    assert sent == Sent(status=200, attempts=1)
    body = json.loads(gradebook_calls(mocked)[0].request.body)
    assert body == {"result": {"score": 18, "scoreStatus": "fully graded"}}


def test_the_vendor_header_is_absent_without_a_vendor_key(make_client, mocked):
    token_answer(mocked)
    mocked.put(RESULT, status=201)

    make_client(vendor_key="", vendor_secret="").put_result("gpb-a11-s22-u33", {})

    assert "x-vendor-authorization" not in gradebook_calls(mocked)[0].request.headers


def test_a_trailing_newline_on_secrets_is_ignored(make_client, mocked):
    token_answer(mocked)
    mocked.put(RESULT, status=201)

    make_client(vendor_secret=f"{VENDOR_SECRET}\n").put_result("gpb-a11-s22-u33", {})

    sent = gradebook_calls(mocked)[0].request.headers["x-vendor-authorization"]
    assert sent == f"{VENDOR_KEY}:{VENDOR_SECRET}"


def test_sourced_ids_are_quoted_so_they_cannot_change_the_path(client, mocked):
    token_answer(mocked)
    mocked.delete(f"{BASE}/results/a%2Fb%3Fc", status=204)

    assert client.delete_result("a/b?c") == Sent(status=204, attempts=1)


def test_every_call_has_a_short_connect_timeout_and_the_configured_read_timeout(
    make_client, mocked
):
    token_answer(mocked)
    mocked.put(RESULT, status=201)

    make_client(timeout=45.0).put_result("gpb-a11-s22-u33", {})

    for call in mocked.calls:
        assert call.request.req_kwargs["timeout"] == (10.0, 45.0)


def test_a_redirect_is_not_followed_and_names_sis_base_url(client, mocked):
    token_answer(mocked)
    mocked.put(RESULT, status=301, headers={"Location": "https://elsewhere.example/results/x"})

    with pytest.raises(OneRosterError) as caught:
        client.put_result("gpb-a11-s22-u33", {})

    assert caught.value.kind == "http"
    assert str(caught.value) == (
        "Infinite Campus redirected result gpb-a11-s22-u33 to "
        "https://elsewhere.example/results/x (HTTP 301): check SIS_BASE_URL"
    )
    assert len(mocked.calls) == 2


# -- 401 and 403 --------------------------------------------------------------------------------


def test_a_401_on_a_call_fetches_a_new_token_once_and_retries(client, mocked):
    token_answer(mocked, "token-1")
    token_answer(mocked, "token-2")
    mocked.put(RESULT, status=401, json={"imsx_codeMajor": "failure", "imsx_severity": "error"})
    mocked.put(RESULT, status=201)

    sent = client.put_result("gpb-a11-s22-u33", {})

    assert sent == Sent(status=201, attempts=2)
    auths = [c.request.headers["Authorization"] for c in gradebook_calls(mocked)]
    assert auths == ["Bearer token-1", "Bearer token-2"]
    assert len(token_calls(mocked)) == 2


def test_a_persistent_401_is_an_auth_error_after_one_refresh(client, mocked, sleep):
    token_answer(mocked, "token-1")
    token_answer(mocked, "token-2")
    refusal = {"imsx_codeMajor": "failure", "imsx_description": "Token is not valid"}
    mocked.put(RESULT, status=401, json=refusal)

    with pytest.raises(OneRosterError) as caught:
        client.put_result("gpb-a11-s22-u33", {})

    error = caught.value
    assert error.kind == "auth"
    assert error.status == 401
    assert error.attempts == 2
    assert error.description == "Token is not valid"
    assert not error.retryable
    assert str(error) == (
        "Infinite Campus rejected a fresh access token for result gpb-a11-s22-u33 (HTTP 401): "
        "Token is not valid; check SIS_CLIENT_ID and SIS_CLIENT_SECRET"
    )
    assert len(token_calls(mocked)) == 2
    assert sleep.delays == []


def test_a_401_mentioning_the_vendor_header_without_a_vendor_key_names_sis_vendor_key(
    make_client, mocked
):
    token_answer(mocked)
    refusal = {
        "imsx_codeMajor": "failure",
        "imsx_description": "Missing x-vendor-authorization header",
    }
    mocked.put(RESULT, status=401, json=refusal)

    with pytest.raises(OneRosterError) as caught:
        make_client(vendor_key="", vendor_secret="").put_result("gpb-a11-s22-u33", {})

    assert caught.value.kind == "auth"
    assert str(caught.value) == (
        "Infinite Campus refused the gradebook call for result gpb-a11-s22-u33 without a valid "
        "vendor key (HTTP 401): check SIS_VENDOR_KEY and SIS_VENDOR_SECRET (none is configured)"
    )


def test_a_401_mentioning_a_wrong_vendor_key_names_sis_vendor_key(client, mocked):
    token_answer(mocked)
    mocked.put(RESULT, status=401, json={"imsx_description": "Invalid vendor credentials"})

    with pytest.raises(OneRosterError) as caught:
        client.put_result("gpb-a11-s22-u33", {})

    message = str(caught.value)
    assert "check SIS_VENDOR_KEY and SIS_VENDOR_SECRET" in message
    assert "none is configured" not in message
    assert VENDOR_SECRET not in message


def test_a_403_is_a_final_auth_error_with_the_server_description(client, mocked, sleep):
    token_answer(mocked)
    forbidden = {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": "Grade Book Sync is not enabled",
    }
    mocked.put(LINE_ITEM, status=403, json=forbidden)

    with pytest.raises(OneRosterError) as caught:
        client.put_line_item("gpb-a11-s22", {})

    error = caught.value
    assert (error.kind, error.status, error.attempts) == ("auth", 403, 1)
    assert error.code_major == "failure"
    assert str(error) == (
        "Infinite Campus forbade the gradebook call for line item gpb-a11-s22 (HTTP 403): "
        "Grade Book Sync is not enabled; check that Grade Book Sync is enabled for this connection"
    )
    assert len(token_calls(mocked)) == 1
    assert sleep.delays == []


# -- final 4xx errors ---------------------------------------------------------------------------


def test_an_unknown_class_answers_404_with_its_imsx_description(client, mocked):
    token_answer(mocked)
    mocked.get(CATEGORIES, status=404, json=UNKNOWN_CLASS)

    with pytest.raises(OneRosterError) as caught:
        client.categories("1234")

    error = caught.value
    assert (error.kind, error.status, error.attempts) == ("http", 404, 1)
    assert error.code_major == "failure"
    assert error.description == "Unknown Object: class 1234"
    assert error.url.startswith(CATEGORIES)
    assert str(error) == "Infinite Campus answered 404 for class 1234: Unknown Object: class 1234"


def test_a_422_invalid_data_is_final_after_one_attempt_with_its_description(client, mocked, sleep):
    token_answer(mocked)
    invalid = {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": "scoreDate is not a valid date",
        "imsx_CodeMinor": {"imsx_codeMinorField": [{"imsx_codeMinorFieldValue": "invaliddata"}]},
    }
    mocked.put(RESULT, status=422, json=invalid)

    with pytest.raises(OneRosterError) as caught:
        client.put_result("gpb-a11-s22-u33", {"scoreDate": "yesterday"})

    error = caught.value
    assert (error.kind, error.status, error.attempts) == ("http", 422, 1)
    assert not error.retryable
    assert error.description == "scoreDate is not a valid date"
    assert "scoreDate is not a valid date" in str(error)
    assert len(gradebook_calls(mocked)) == 1
    assert sleep.delays == []


def test_an_error_without_a_description_falls_back_to_its_code_minor(client, mocked):
    token_answer(mocked)
    body = {**UNKNOWN_CLASS, "imsx_description": ""}
    mocked.put(RESULT, status=404, json=body)

    with pytest.raises(OneRosterError) as caught:
        client.put_result("gpb-a11-s22-u33", {})

    assert caught.value.description is None
    assert str(caught.value).endswith(": unknownobject")


def test_1_1_status_info_set_errors_are_parsed_and_joined(make_client, mocked):
    token_answer(mocked)
    body = {
        "statusInfoSet": [
            {
                "imsx_codeMajor": "failure",
                "imsx_severity": "error",
                "imsx_codeMinor": {
                    "imsx_codeMinorField": [{"imsx_codeMinorFieldValue": "invalid data"}]
                },
                "imsx_description": "lineItem does not exist",
            },
            {"imsx_codeMajor": "failure", "imsx_description": "student is not enrolled"},
        ]
    }
    mocked.put(f"{BASE}/results/r1", status=400, json=body)

    with pytest.raises(OneRosterError) as caught:
        make_client(version="1.1").put_result("r1", {})

    error = caught.value
    assert error.code_major == "failure"
    assert error.description == "lineItem does not exist; student is not enrolled"
    assert str(error) == (
        "Infinite Campus answered 400 for result r1: "
        "lineItem does not exist; student is not enrolled"
    )


def test_an_imsx_status_info_wrapper_is_tolerated(client, mocked):
    token_answer(mocked)
    mocked.delete(LINE_ITEM, status=409, json={"imsx_StatusInfo": {**UNKNOWN_CLASS}})

    with pytest.raises(OneRosterError) as caught:
        client.delete_line_item("gpb-a11-s22")

    assert caught.value.description == "Unknown Object: class 1234"


# -- deletes ------------------------------------------------------------------------------------


def test_deleting_a_line_item_sends_delete_and_reports_204(client, mocked):
    token_answer(mocked)
    mocked.delete(LINE_ITEM, status=204)

    assert client.delete_line_item("gpb-a11-s22") == Sent(status=204, attempts=1)
    assert gradebook_calls(mocked)[0].request.body is None


def test_deleting_a_line_item_that_is_already_gone_counts_as_done(client, mocked):
    token_answer(mocked)
    mocked.delete(LINE_ITEM, status=404, json=UNKNOWN_CLASS)

    assert client.delete_line_item("gpb-a11-s22") == Sent(status=404, attempts=1)


def test_deleting_a_result_that_is_already_gone_counts_as_done(client, mocked):
    token_answer(mocked)
    mocked.delete(RESULT, status=404)

    assert client.delete_result("gpb-a11-s22-u33") == Sent(status=404, attempts=1)


# -- retries ------------------------------------------------------------------------------------


def test_a_429_with_retry_after_is_honoured_then_succeeds(client, mocked, sleep):
    token_answer(mocked)
    mocked.put(RESULT, status=429, headers={"Retry-After": "7"})
    mocked.put(RESULT, status=201)

    sent = client.put_result("gpb-a11-s22-u33", {})

    assert sent == Sent(status=201, attempts=2)
    assert sleep.delays == [7.0]


def test_retry_after_as_an_http_date_is_honoured(client, mocked, sleep):
    token_answer(mocked)
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    mocked.put(RESULT, status=429, headers={"Retry-After": when})
    mocked.put(RESULT, status=201)

    client.put_result("gpb-a11-s22-u33", {})

    assert 25 < sleep.delays[0] <= 30


def test_a_very_long_retry_after_is_capped_at_two_minutes(client, mocked, sleep):
    token_answer(mocked)
    mocked.put(RESULT, status=429, headers={"Retry-After": "3600"})
    mocked.put(RESULT, status=201)

    client.put_result("gpb-a11-s22-u33", {})

    assert sleep.delays == [120.0]


def test_a_persistent_429_is_a_retryable_throttled_error(client, mocked):
    token_answer(mocked)
    mocked.put(RESULT, status=429, json={"imsx_codeMajor": "failure", "imsx_description": "busy"})

    with pytest.raises(OneRosterError) as caught:
        client.put_result("gpb-a11-s22-u33", {})

    error = caught.value
    assert (error.kind, error.status, error.attempts) == ("throttled", 429, 4)
    assert error.retryable
    assert "SIS_MAX_CONCURRENCY" in str(error)


def test_a_burst_of_500_and_503_is_ridden_out_with_capped_jittered_backoff(
    make_client, mocked, sleep
):
    token_answer(mocked)
    for status in (500, 503, 503, 500):
        mocked.put(RESULT, status=status)
    mocked.put(RESULT, status=201)

    sent = make_client(max_retries=5, backoff_base=1.0, backoff_max=3.0).put_result(
        "gpb-a11-s22-u33", {}
    )

    assert sent == Sent(status=201, attempts=5)
    caps = [1.0, 2.0, 3.0, 3.0]
    assert len(sleep.delays) == 4
    assert all(0 <= delay <= cap for delay, cap in zip(sleep.delays, caps, strict=True))


def test_a_persistent_503_is_retryable_after_max_retries_plus_one_attempts(client, mocked):
    token_answer(mocked)
    mocked.put(RESULT, status=503, json={"imsx_codeMajor": "failure", "imsx_description": "down"})

    with pytest.raises(OneRosterError) as caught:
        client.put_result("gpb-a11-s22-u33", {})

    error = caught.value
    assert (error.kind, error.status, error.attempts) == ("http", 503, 4)
    assert error.retryable
    assert str(error) == (
        "Infinite Campus kept failing (HTTP 503) for result gpb-a11-s22-u33 after 4 attempts: down"
    )
    assert len(gradebook_calls(mocked)) == 4


def test_timeouts_are_retried_until_an_answer_comes(client, mocked, sleep):
    token_answer(mocked)
    mocked.put(RESULT, body=requests.ReadTimeout("read timed out"))
    mocked.put(RESULT, body=requests.ConnectTimeout("connect timed out"))
    mocked.put(RESULT, status=201)

    assert client.put_result("gpb-a11-s22-u33", {}) == Sent(status=201, attempts=3)
    assert len(sleep.delays) == 2


def test_connection_errors_are_retried_then_unreachable_naming_sis_base_url(client, mocked):
    token_answer(mocked)
    mocked.put(RESULT, body=requests.ConnectionError("[Errno 111] Connection refused"))

    with pytest.raises(OneRosterError) as caught:
        client.put_result("gpb-a11-s22-u33", {})

    error = caught.value
    assert (error.kind, error.status, error.attempts) == ("unreachable", None, 4)
    assert error.retryable
    assert isinstance(error.__cause__, requests.ConnectionError)
    assert str(error) == (
        f"Cannot reach Infinite Campus at {BASE} (connection refused after 4 attempts): "
        "check SIS_BASE_URL"
    )


def test_persistent_read_timeouts_say_how_long_was_waited(make_client, mocked):
    token_answer(mocked)
    mocked.put(RESULT, body=requests.ReadTimeout("read timed out"))

    with pytest.raises(OneRosterError) as caught:
        make_client(timeout=20.0, max_retries=0).put_result("gpb-a11-s22-u33", {})

    assert str(caught.value) == (
        f"Cannot reach Infinite Campus at {BASE} (no answer within 20s): check SIS_BASE_URL"
    )


def test_an_html_502_error_page_is_retryable_with_an_excerpt(client, mocked):
    token_answer(mocked)
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>nginx</h1></body></html>"
    mocked.put(RESULT, status=502, body=page, content_type="text/html")

    with pytest.raises(OneRosterError) as caught:
        client.put_result("gpb-a11-s22-u33", {})

    error = caught.value
    assert (error.kind, error.status, error.attempts) == ("http", 502, 4)
    assert error.retryable
    assert error.description == "502 Bad Gateway"
    assert str(error).endswith("after 4 attempts: 502 Bad Gateway")


def test_a_plain_text_error_is_described_by_its_first_characters(client, mocked):
    token_answer(mocked)
    mocked.put(RESULT, status=400, body="Bad request:   " + "x" * 500, content_type="text/plain")

    with pytest.raises(OneRosterError) as caught:
        client.put_result("gpb-a11-s22-u33", {})

    assert caught.value.description == ("Bad request: " + "x" * 500)[:200]


def test_an_html_page_answering_a_put_with_200_is_not_taken_as_stored(client, mocked):
    token_answer(mocked)
    mocked.put(
        RESULT, status=200, body="<html><title>Sign in</title></html>", content_type="text/html"
    )

    with pytest.raises(OneRosterError) as caught:
        client.put_result("gpb-a11-s22-u33", {})

    assert caught.value.kind == "bad_response"
    assert caught.value.description == "Sign in"
    assert not caught.value.retryable


def test_retries_are_logged_at_warning_without_secrets(client, mocked, caplog):
    token_answer(mocked, "token-abcdef")
    mocked.put(RESULT, status=503)
    mocked.put(RESULT, status=201)

    with caplog.at_level(logging.WARNING, logger="sync.oneroster"):
        client.put_result("gpb-a11-s22-u33", {})

    assert [record.levelno for record in caplog.records] == [logging.WARNING]
    assert "HTTP 503" in caplog.text
    for secret in (CLIENT_SECRET, VENDOR_SECRET, "token-abcdef"):
        assert secret not in caplog.text


# -- categories ---------------------------------------------------------------------------------


def test_categories_are_paged_with_limit_and_offset_up_to_x_total_count(client, mocked):
    token_answer(mocked)
    pages = [[category(n) for n in range(start, min(start + 100, 250))] for start in (0, 100, 200)]
    for page in pages:
        mocked.get(CATEGORIES, json={"categories": page}, headers={"X-Total-Count": "250"})

    found = client.categories("1234")

    assert [item["sourcedId"] for item in found] == [f"cat-{n}" for n in range(250)]
    queries = [query_of(call.request.url) for call in gradebook_calls(mocked)]
    assert queries == [
        {"limit": "100", "offset": "0"},
        {"limit": "100", "offset": "100"},
        {"limit": "100", "offset": "200"},
    ]


def test_categories_stop_at_a_short_page_when_there_is_no_total(client, mocked):
    token_answer(mocked)
    mocked.get(CATEGORIES, json={"categories": [category(1), category(2)]})

    assert len(client.categories("1234")) == 2
    assert len(gradebook_calls(mocked)) == 1


def test_categories_keep_paging_when_the_server_clamps_the_page_below_the_total(client, mocked):
    token_answer(mocked)
    mocked.get(CATEGORIES, json={"categories": [category(1)]}, headers={"X-Total-Count": "2"})
    mocked.get(CATEGORIES, json={"categories": [category(2)]}, headers={"X-Total-Count": "2"})

    assert [item["sourcedId"] for item in client.categories("1234")] == ["cat-1", "cat-2"]


def test_a_server_that_ignores_offset_stops_paging_with_an_error(client, mocked):
    token_answer(mocked)
    page = [category(n) for n in range(100)]
    mocked.get(CATEGORIES, json={"categories": page}, headers={"X-Total-Count": "1000"})

    with pytest.raises(OneRosterError) as caught:
        client.categories("1234")

    assert caught.value.kind == "bad_response"
    assert len(gradebook_calls(mocked)) == 2


def test_a_category_page_that_is_not_json_is_a_bad_response(client, mocked):
    token_answer(mocked)
    mocked.get(
        CATEGORIES, status=200, body="<html><title>Portal</title></html>", content_type="text/html"
    )

    with pytest.raises(OneRosterError) as caught:
        client.categories("1234")

    error = caught.value
    assert (error.kind, error.status) == ("bad_response", 200)
    assert not error.retryable
    assert "expected JSON" in str(error)
    assert "SIS_BASE_URL" in str(error)


def test_a_category_page_without_the_categories_list_is_a_bad_response(client, mocked):
    token_answer(mocked)
    mocked.get(CATEGORIES, json={"lineItems": []})

    with pytest.raises(OneRosterError) as caught:
        client.categories("1234")

    assert caught.value.kind == "bad_response"


def test_1_1_categories_come_from_the_global_list_scoped_by_metadata_class_id(make_client, mocked):
    token_answer(mocked)
    listing = [
        category(1),
        category(2, metadata={"classId": "1234"}),
        category(3, metadata={"classId": "9999"}),
    ]
    mocked.get(f"{BASE}/categories", json={"categories": listing})

    found = make_client(version="1.1").categories("1234")

    assert [item["sourcedId"] for item in found] == ["cat-1", "cat-2"]
    assert urlsplit(gradebook_calls(mocked)[0].request.url).path.endswith("/categories")


def test_an_unknown_version_is_refused_up_front():
    with pytest.raises(ValueError):
        OneRosterClient(BASE, TOKEN_URL, CLIENT_ID, CLIENT_SECRET, version="2.0")


# -- check_connection ---------------------------------------------------------------------------


def test_check_connection_fetches_a_fresh_token_and_reads_one_category(client, mocked):
    token_answer(mocked, "token-1")
    token_answer(mocked, "token-2")
    mocked.put(RESULT, status=201)
    mocked.get(f"{BASE}/categories", json={"categories": [category(1)]})

    client.put_result("gpb-a11-s22-u33", {})
    message = client.check_connection()

    assert message == (
        f"Connected to Infinite Campus at {BASE} (OneRoster 1.2): "
        "token accepted, vendor key accepted"
    )
    check = gradebook_calls(mocked)[-1].request
    assert query_of(check.url) == {"limit": "1"}
    assert check.headers["Authorization"] == "Bearer token-2"
    assert check.headers["x-vendor-authorization"] == f"{VENDOR_KEY}:{VENDOR_SECRET}"


def test_check_connection_accepts_a_404_from_the_categories_list(client, mocked):
    token_answer(mocked)
    mocked.get(f"{BASE}/categories", status=404)

    assert "answered 404" in client.check_connection()


def test_check_connection_reports_a_refused_vendor_key(client, mocked):
    token_answer(mocked)
    mocked.get(f"{BASE}/categories", status=401, json={"imsx_description": "vendor key invalid"})

    with pytest.raises(OneRosterError) as caught:
        client.check_connection()

    assert caught.value.kind == "auth"
    assert "SIS_VENDOR_KEY" in str(caught.value)


def test_check_connection_without_a_base_url_says_to_set_it(sleep, clock, mocked):
    token_answer(mocked)
    client = OneRosterClient("", TOKEN_URL, CLIENT_ID, CLIENT_SECRET, sleep=sleep, clock=clock)

    with pytest.raises(OneRosterError) as caught:
        client.check_connection()

    assert str(caught.value) == "No address is configured for Infinite Campus: set SIS_BASE_URL"


# -- counting, threads, pickling ----------------------------------------------------------------


def test_requests_made_counts_token_requests_retries_and_refreshes(client, mocked):
    token_answer(mocked, "token-1")
    token_answer(mocked, "token-2")
    mocked.put(RESULT, status=503)
    mocked.put(RESULT, body=requests.ConnectionError("Connection reset by peer"))
    mocked.put(RESULT, status=401)
    mocked.put(RESULT, status=201)

    sent = client.put_result("gpb-a11-s22-u33", {})

    assert sent.attempts == 4
    assert client.requests_made == 6


def test_the_client_is_shared_by_threads_with_one_token_fetch(client, mocked):
    token_answer(mocked)
    mocked.put(RESULT, status=201)
    start = threading.Barrier(8)
    outcomes: list[Sent] = []

    def worker() -> None:
        start.wait()
        outcomes.append(client.put_result("gpb-a11-s22-u33", {}))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == [Sent(status=201, attempts=1)] * 8
    assert len(token_calls(mocked)) == 1
    assert client.requests_made == 9


def test_the_client_closes_as_a_context_manager(sleep, clock, mocked):
    token_answer(mocked)
    mocked.put(RESULT, status=201)

    with OneRosterClient(
        BASE, TOKEN_URL, CLIENT_ID, CLIENT_SECRET, sleep=sleep, clock=clock, direct=False
    ) as client:
        client.put_result("gpb-a11-s22-u33", {})
        client.close()
        client.put_result("gpb-a11-s22-u33", {})

    assert client.requests_made == 3


def test_errors_survive_pickling_with_their_attributes():
    error = OneRosterError(
        "Infinite Campus answered 404 for class 1234: Unknown Object",
        kind="http",
        status=404,
        code_major="failure",
        description="Unknown Object",
        url=CATEGORIES,
        attempts=2,
    )

    copy = pickle.loads(pickle.dumps(error))

    assert str(copy) == str(error)
    assert (copy.kind, copy.status, copy.code_major, copy.description, copy.url, copy.attempts) == (
        "http",
        404,
        "failure",
        "Unknown Object",
        CATEGORIES,
        2,
    )
    assert copy.retryable is False


def test_get_result_returns_what_ic_holds_or_none_when_it_has_none(client, mocked):
    token_answer(mocked)
    mocked.get(f"{BASE}/results/r-1", json={"result": {"sourcedId": "r-1", "score": 8.0}})
    mocked.get(f"{BASE}/results/r-2", status=404, json={"imsx_codeMajor": "failure"})

    assert client.get_result("r-1") == {"sourcedId": "r-1", "score": 8.0}
    assert client.get_result("r-2") is None
