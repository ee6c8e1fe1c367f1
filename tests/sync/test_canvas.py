"""Tests for the Canvas REST client: what it sends, how it pages, retries, throttles and fails."""

import logging
import pickle
import threading
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError

from sync.canvas import CanvasClient, CanvasError

BASE = "https://canvas.example.edu"
TOKEN = "secret-token-1234"
SECTIONS = f"{BASE}/api/v1/courses/7/sections"


class RecordingSleep:
    """Stands in for time.sleep: records each delay, never waits."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def client(sleep: RecordingSleep):
    canvas = CanvasClient(BASE, TOKEN, sleep=sleep, max_retries=3)
    yield canvas
    canvas.close()


@pytest.fixture
def mocked():
    with responses.RequestsMock() as rsps:
        yield rsps


def link_next(url: str) -> dict[str, str]:
    return {"Link": f'<{url}>; rel="current", <{url}>; rel="next", <{BASE}/x>; rel="first"'}


def query_of(url: str) -> list[tuple[str, str]]:
    return sorted(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def refused() -> requests.ConnectionError:
    """The error requests raises when nothing listens: the request was never sent."""
    reason = NewConnectionError(None, "Failed to establish a new connection: Connection refused")
    return requests.ConnectionError(MaxRetryError(None, "/", reason))


def all_items(pages) -> list[dict]:
    return [item for page in pages for item in page]


# -- what is sent ------------------------------------------------------------------------------


def test_every_request_carries_the_bearer_token(client, mocked):
    mocked.get(SECTIONS, json=[{"id": 1}])

    list(client.sections(7))

    assert mocked.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_list_calls_ask_for_one_hundred_items_per_page(client, mocked):
    mocked.get(SECTIONS, json=[])

    list(client.sections(7))

    assert query_of(mocked.calls[0].request.url) == [("per_page", "100")]


def test_requests_have_a_short_connect_timeout_and_the_configured_read_timeout(sleep, mocked):
    mocked.get(SECTIONS, json=[])
    canvas = CanvasClient(BASE, TOKEN, timeout=45.0, sleep=sleep)

    list(canvas.sections(7))

    assert mocked.calls[0].request.req_kwargs["timeout"] == (10.0, 45.0)


@pytest.mark.parametrize(
    ("method", "arg", "path", "params"),
    [
        ("sub_accounts", 1, "/api/v1/accounts/1/sub_accounts", [("recursive", "true")]),
        ("terms", 1, "/api/v1/accounts/1/terms", []),
        (
            "courses",
            1,
            "/api/v1/accounts/1/courses",
            [
                ("include[]", "term"),
                ("state[]", "unpublished"),
                ("state[]", "available"),
                ("state[]", "completed"),
            ],
        ),
        ("sections", 7, "/api/v1/courses/7/sections", []),
        ("assignment_groups", 7, "/api/v1/courses/7/assignment_groups", []),
        (
            "assignments",
            7,
            "/api/v1/courses/7/assignments",
            [("include[]", "overrides"), ("override_assignment_dates", "false")],
        ),
        (
            "enrollments",
            7,
            "/api/v1/courses/7/enrollments",
            [
                ("type[]", "StudentEnrollment"),
                ("type[]", "TeacherEnrollment"),
                ("state[]", "active"),
            ],
        ),
        ("submissions", 7, "/api/v1/courses/7/students/submissions", [("student_ids[]", "all")]),
    ],
)
def test_each_convenience_call_sends_exactly_the_documented_request(
    client, mocked, method, arg, path, params
):
    body = {"enrollment_terms": []} if method == "terms" else []
    mocked.get(f"{BASE}{path}", json=body)

    list(getattr(client, method)(arg))

    sent = mocked.calls[0].request
    assert urlsplit(sent.url).path == path
    assert query_of(sent.url) == sorted([*params, ("per_page", "100")])


def test_graded_since_is_sent_in_utc_with_a_z_suffix(client, mocked):
    url = f"{BASE}/api/v1/courses/7/students/submissions"
    mocked.get(url, json=[])
    eastern = timezone(timedelta(hours=-5))

    list(client.submissions(7, graded_since=datetime(2024, 10, 3, 22, 15, 9, 123, tzinfo=eastern)))

    assert ("graded_since", "2024-10-04T03:15:09Z") in query_of(mocked.calls[0].request.url)


def test_graded_since_must_be_timezone_aware(client):
    with pytest.raises(ValueError):
        list(client.submissions(7, graded_since=datetime(2024, 10, 3)))


def test_put_json_sends_the_body_as_json_with_the_token(client, mocked):
    url = f"{BASE}/api/v1/courses/7/assignments/9"
    mocked.put(url, json={"id": 9, "name": "Quiz 1"})

    answer = client.put_json("/api/v1/courses/7/assignments/9", {"assignment": {"name": "Quiz 1"}})

    sent = mocked.calls[0].request
    assert answer == {"id": 9, "name": "Quiz 1"}
    assert sent.body == b'{"assignment": {"name": "Quiz 1"}}'
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"


def test_get_json_returns_the_decoded_body_without_adding_per_page(client, mocked):
    mocked.get(f"{BASE}/api/v1/accounts/1", json={"id": 1, "name": "District"})

    assert client.get_json("/api/v1/accounts/1") == {"id": 1, "name": "District"}
    assert query_of(mocked.calls[0].request.url) == []


# -- pagination --------------------------------------------------------------------------------


def test_next_links_are_followed_verbatim_until_there_is_none(client, mocked):
    page2 = f"{BASE}/api/v1/courses/7/sections?page=bookmark:WzE2LCJhYmMiXQ&per_page=100"
    page3 = f"{BASE}/api/v1/courses/7/sections?include%5B%5D=term&page=cursor%3Dzz9&per_page=100"
    mocked.get(SECTIONS, json=[{"id": 1}], headers=link_next(page2))
    mocked.get(page2, json=[{"id": 2}], headers=link_next(page3))
    mocked.get(page3, json=[{"id": 3}], headers={"Link": f'<{BASE}/x>; rel="first"'})

    pages = list(client.sections(7))

    assert pages == [[{"id": 1}], [{"id": 2}], [{"id": 3}]]
    assert [call.request.url for call in mocked.calls[1:]] == [page2, page3]
    assert all(c.request.headers["Authorization"] == f"Bearer {TOKEN}" for c in mocked.calls)


def test_pages_are_fetched_lazily_one_at_a_time(client, mocked):
    page2 = f"{BASE}/api/v1/courses/7/sections?page=2"
    mocked.get(SECTIONS, json=[{"id": 1}], headers=link_next(page2))
    mocked.get(page2, json=[{"id": 2}])

    pages = client.sections(7)
    next(pages)

    assert len(mocked.calls) == 1
    assert next(pages) == [{"id": 2}]


def test_a_next_link_back_to_an_earlier_page_stops_with_an_error(client, mocked):
    page2 = f"{BASE}/api/v1/courses/7/sections?page=2"
    mocked.get(page2, json=[{"id": 2}], headers=link_next(f"{SECTIONS}?per_page=100"))
    mocked.get(SECTIONS, json=[{"id": 1}], headers=link_next(page2))

    with pytest.raises(CanvasError) as caught:
        list(client.sections(7))

    assert caught.value.kind == "bad_json"
    assert len(mocked.calls) == 2


def test_terms_are_read_from_the_enrollment_terms_key(client, mocked):
    url = f"{BASE}/api/v1/accounts/1/terms"
    mocked.get(url, json={"enrollment_terms": [{"id": 3, "name": "Fall"}]})

    assert all_items(client.terms(1)) == [{"id": 3, "name": "Fall"}]


def test_a_body_without_the_expected_key_is_a_bad_json_error(client, mocked):
    mocked.get(f"{BASE}/api/v1/accounts/1/terms", json={"terms": []})

    with pytest.raises(CanvasError) as caught:
        list(client.terms(1))

    assert caught.value.kind == "bad_json"


def test_a_page_that_is_not_json_is_a_bad_json_error(client, mocked):
    mocked.get(SECTIONS, body="<html>Maintenance</html>", status=200)

    with pytest.raises(CanvasError) as caught:
        list(client.sections(7))

    assert caught.value.kind == "bad_json"
    assert caught.value.url.startswith(SECTIONS)
    assert isinstance(caught.value.__cause__, ValueError)
    assert "not valid JSON" in str(caught.value)


def test_a_page_that_is_json_but_not_a_list_is_a_bad_json_error(client, mocked):
    mocked.get(SECTIONS, json={"id": 1})

    with pytest.raises(CanvasError) as caught:
        list(client.sections(7))

    assert caught.value.kind == "bad_json"


def test_a_page_whose_items_are_not_objects_is_a_bad_json_error(client, mocked):
    mocked.get(SECTIONS, json=[1, 2])

    with pytest.raises(CanvasError) as caught:
        list(client.sections(7))

    assert caught.value.kind == "bad_json"


def test_the_token_is_not_sent_to_a_next_link_on_another_host(client, mocked):
    elsewhere = "https://attacker.example.com/api/v1/courses/7/sections?page=2"
    mocked.get(SECTIONS, json=[{"id": 1}], headers=link_next(elsewhere))
    mocked.get(elsewhere, json=[{"id": 2}])

    list(client.sections(7))

    assert "Authorization" not in mocked.calls[1].request.headers


def test_the_token_is_not_sent_to_a_next_link_downgraded_to_http(client, mocked):
    downgraded = "http://canvas.example.edu/api/v1/courses/7/sections?page=2"
    mocked.get(SECTIONS, json=[{"id": 1}], headers=link_next(downgraded))
    mocked.get(downgraded, json=[])

    list(client.sections(7))

    assert "Authorization" not in mocked.calls[1].request.headers


def test_the_token_is_sent_to_a_next_link_naming_the_default_port(client, mocked):
    same = "https://canvas.example.edu:443/api/v1/courses/7/sections?page=2"
    mocked.get(SECTIONS, json=[{"id": 1}], headers=link_next(same))
    mocked.get(same, json=[])

    list(client.sections(7))

    assert mocked.calls[1].request.headers["Authorization"] == f"Bearer {TOKEN}"


# -- errors that are not retried ---------------------------------------------------------------


def test_a_401_is_an_auth_error_naming_canvas_token_and_is_not_retried(client, mocked):
    mocked.get(
        SECTIONS,
        status=401,
        json={"errors": [{"message": "Invalid access token."}]},
        headers={"WWW-Authenticate": 'Bearer realm="canvas-lms"'},
    )

    with pytest.raises(CanvasError) as caught:
        list(client.sections(7))

    error = caught.value
    assert (error.kind, error.status) == ("auth", 401)
    assert str(error).startswith("Canvas rejected the access token (HTTP 401) at https://")
    assert "CANVAS_TOKEN" in str(error)
    assert TOKEN not in str(error)
    assert len(mocked.calls) == 1


def test_a_401_for_a_missing_permission_says_so_and_still_names_canvas_token(client, mocked):
    message = "user not authorized to perform that action"
    mocked.get(
        SECTIONS, status=401, json={"status": "unauthorized", "errors": [{"message": message}]}
    )

    with pytest.raises(CanvasError) as caught:
        list(client.sections(7))

    assert caught.value.kind == "auth"
    assert message in str(caught.value)
    assert "CANVAS_TOKEN" in str(caught.value)


def test_a_404_is_an_http_error_with_canvas_message_and_is_not_retried(client, mocked):
    message = "The specified resource does not exist."
    mocked.get(SECTIONS, status=404, json={"errors": [{"message": message}]})

    with pytest.raises(CanvasError) as caught:
        list(client.sections(7))

    assert (caught.value.kind, caught.value.status) == ("http", 404)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert len(mocked.calls) == 1


def test_a_plain_403_without_rate_limit_text_is_not_retried(client, mocked, sleep):
    mocked.get(SECTIONS, status=403, json={"errors": [{"message": "forbidden"}]})

    with pytest.raises(CanvasError) as caught:
        list(client.sections(7))

    assert (caught.value.kind, caught.value.status) == ("http", 403)
    assert len(mocked.calls) == 1
    assert sleep.delays == []


def test_a_trailing_newline_on_the_token_is_ignored(sleep, mocked):
    mocked.get(SECTIONS, json=[])

    list(CanvasClient(BASE, f"{TOKEN}\n", sleep=sleep).sections(7))

    assert mocked.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_token_that_cannot_be_sent_is_an_auth_error_naming_canvas_token(sleep, mocked):
    canvas = CanvasClient(BASE, "abc\r\ndef", sleep=sleep)

    with pytest.raises(CanvasError) as caught:
        list(canvas.sections(7))

    assert caught.value.kind == "auth"
    assert "CANVAS_TOKEN" in str(caught.value)
    assert "abc" not in str(caught.value)


def test_a_malformed_base_url_is_an_unreachable_error_naming_canvas_base_url(sleep):
    canvas = CanvasClient("canvas.example.edu", TOKEN, sleep=sleep)

    with pytest.raises(CanvasError) as caught:
        list(canvas.sections(7))

    assert caught.value.kind == "unreachable"
    assert "CANVAS_BASE_URL" in str(caught.value)
    assert canvas.requests_made == 0


# -- retries -----------------------------------------------------------------------------------


def test_a_500_is_retried_and_the_next_answer_is_used(client, mocked, sleep):
    mocked.get(SECTIONS, status=500, body="oops")
    mocked.get(SECTIONS, json=[{"id": 1}])

    assert all_items(client.sections(7)) == [{"id": 1}]
    assert len(mocked.calls) == 2
    assert len(sleep.delays) == 1


def test_a_burst_of_503s_is_ridden_out(client, mocked):
    for _ in range(3):
        mocked.get(SECTIONS, status=503)
    mocked.get(SECTIONS, json=[{"id": 1}])

    assert all_items(client.sections(7)) == [{"id": 1}]
    assert client.requests_made == 4


def test_backoff_grows_exponentially_with_jitter_and_is_capped(sleep, mocked):
    mocked.get(SECTIONS, status=502)
    canvas = CanvasClient(BASE, TOKEN, sleep=sleep, max_retries=5, backoff_base=1, backoff_max=3)

    with pytest.raises(CanvasError):
        list(canvas.sections(7))

    assert len(sleep.delays) == 5
    for delay, ceiling in zip(sleep.delays, [1, 2, 3, 3, 3], strict=True):
        assert 0 <= delay <= ceiling


def test_5xx_after_all_retries_is_an_http_error_with_canvas_message(client, mocked):
    mocked.get(SECTIONS, status=500, json={"errors": [{"message": "An error occurred."}]})

    with pytest.raises(CanvasError) as caught:
        list(client.sections(7))

    assert (caught.value.kind, caught.value.status) == ("http", 500)
    assert "after 4 attempts" in str(caught.value)
    assert "An error occurred." in str(caught.value)
    assert len(mocked.calls) == 4


def test_a_429_waits_for_retry_after_seconds(client, mocked, sleep):
    mocked.get(SECTIONS, status=429, headers={"Retry-After": "7"})
    mocked.get(SECTIONS, json=[{"id": 1}])

    assert all_items(client.sections(7)) == [{"id": 1}]
    assert sleep.delays == [7.0]


def test_a_retry_after_http_date_is_honoured(client, mocked, sleep):
    when = datetime.now(UTC) + timedelta(seconds=30)
    mocked.get(SECTIONS, status=503, headers={"Retry-After": format_datetime(when, usegmt=True)})
    mocked.get(SECTIONS, json=[])

    list(client.sections(7))

    assert 27 <= sleep.delays[0] <= 30


def test_a_retry_after_in_the_past_means_retry_at_once(client, mocked, sleep):
    mocked.get(SECTIONS, status=429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    mocked.get(SECTIONS, json=[])

    list(client.sections(7))

    assert sleep.delays == [0.0]


def test_a_403_rate_limit_exceeded_is_retried(client, mocked):
    mocked.get(SECTIONS, status=403, body="403 Forbidden (Rate Limit Exceeded)")
    mocked.get(SECTIONS, json=[{"id": 1}])

    assert all_items(client.sections(7)) == [{"id": 1}]
    assert len(mocked.calls) == 2


def test_rate_limiting_that_never_ends_is_a_throttled_error(client, mocked):
    mocked.get(SECTIONS, status=429, headers={"Retry-After": "1"})

    with pytest.raises(CanvasError) as caught:
        list(client.sections(7))

    assert (caught.value.kind, caught.value.status) == ("throttled", 429)
    assert len(mocked.calls) == 4


def test_a_connection_error_is_retried_then_reported_as_unreachable(client, mocked, sleep):
    mocked.get(SECTIONS, body=refused())

    with pytest.raises(CanvasError) as caught:
        list(client.sections(7))

    error = caught.value
    assert error.kind == "unreachable"
    assert error.status is None
    assert str(error).startswith(f"Cannot reach Canvas at {BASE} (connection refused")
    assert str(error).endswith(": check CANVAS_BASE_URL")
    assert isinstance(error.__cause__, requests.ConnectionError)
    assert len(mocked.calls) == 4
    assert len(sleep.delays) == 3


def test_a_connection_error_followed_by_success_returns_the_data(client, mocked):
    mocked.get(SECTIONS, body=refused())
    mocked.get(SECTIONS, json=[{"id": 1}])

    assert all_items(client.sections(7)) == [{"id": 1}]


def test_a_timeout_is_retried(client, mocked):
    mocked.get(SECTIONS, body=requests.ReadTimeout("read timed out"))
    mocked.get(SECTIONS, json=[{"id": 1}])

    assert all_items(client.sections(7)) == [{"id": 1}]
    assert len(mocked.calls) == 2


def test_timeouts_on_every_attempt_are_unreachable_and_say_how_long_we_waited(client, mocked):
    mocked.get(SECTIONS, body=requests.ReadTimeout("read timed out"))

    with pytest.raises(CanvasError) as caught:
        list(client.sections(7))

    assert caught.value.kind == "unreachable"
    assert "no answer within 60s" in str(caught.value)
    assert isinstance(caught.value.__cause__, requests.ReadTimeout)


def test_a_failure_on_a_later_page_retries_that_page_only(client, mocked):
    page2 = f"{BASE}/api/v1/courses/7/sections?page=2"
    mocked.get(SECTIONS, json=[{"id": 1}], headers=link_next(page2))
    mocked.get(page2, status=502)
    mocked.get(page2, json=[{"id": 2}])

    assert all_items(client.sections(7)) == [{"id": 1}, {"id": 2}]
    assert [c.request.url for c in mocked.calls[1:]] == [page2, page2]


def test_requests_made_counts_every_attempt_including_retries(client, mocked):
    page2 = f"{BASE}/api/v1/courses/7/sections?page=2"
    mocked.get(SECTIONS, status=500)
    mocked.get(SECTIONS, json=[{"id": 1}], headers=link_next(page2))
    mocked.get(page2, body=requests.ReadTimeout("read timed out"))
    mocked.get(page2, json=[])

    list(client.sections(7))

    assert client.requests_made == 4


def test_requests_made_leaves_out_connections_that_were_refused(client, mocked):
    mocked.get(SECTIONS, body=refused())
    mocked.get(SECTIONS, json=[])

    list(client.sections(7))

    assert client.requests_made == 1


def test_retries_are_logged_as_warnings_without_the_token(client, mocked, caplog):
    mocked.get(SECTIONS, status=503)
    mocked.get(SECTIONS, json=[])

    with caplog.at_level(logging.WARNING, logger="sync.canvas"):
        list(client.sections(7))

    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "HTTP 503" in caplog.text
    assert TOKEN not in caplog.text


# -- PUT retries only what Canvas certainly did not apply ---------------------------------------


def test_a_put_that_got_a_500_is_not_retried(client, mocked):
    url = f"{BASE}/api/v1/courses/7/assignments/9"
    mocked.put(url, status=500)

    with pytest.raises(CanvasError) as caught:
        client.put_json("/api/v1/courses/7/assignments/9", {"assignment": {"name": "Q"}})

    assert caught.value.kind == "http"
    assert len(mocked.calls) == 1


def test_a_put_that_timed_out_waiting_for_the_answer_is_not_retried(client, mocked):
    url = f"{BASE}/api/v1/courses/7/assignments/9"
    mocked.put(url, body=requests.ReadTimeout("read timed out"))

    with pytest.raises(CanvasError) as caught:
        client.put_json("/api/v1/courses/7/assignments/9", {"assignment": {"name": "Q"}})

    assert caught.value.kind == "unreachable"
    assert len(mocked.calls) == 1


@pytest.mark.parametrize(
    "first_answer",
    [
        {"status": 503},
        {"status": 429, "headers": {"Retry-After": "2"}},
        {"body": refused()},
        {"body": requests.ConnectTimeout("connect timed out")},
    ],
    ids=["503", "429", "connection-refused", "connect-timeout"],
)
def test_a_put_that_never_reached_canvas_is_retried(client, mocked, first_answer):
    url = f"{BASE}/api/v1/courses/7/assignments/9"
    mocked.put(url, **first_answer)
    mocked.put(url, json={"id": 9})

    assert client.put_json("/api/v1/courses/7/assignments/9", {"assignment": {}}) == {"id": 9}
    assert len(mocked.calls) == 2


# -- slowing down ------------------------------------------------------------------------------


def test_a_low_rate_limit_remaining_pauses_before_the_next_request(client, mocked, sleep):
    page2 = f"{BASE}/api/v1/courses/7/sections?page=2"
    low = {**link_next(page2), "X-Rate-Limit-Remaining": "10.0"}
    mocked.get(SECTIONS, json=[{"id": 1}], headers=low)
    mocked.get(page2, json=[], headers={"X-Rate-Limit-Remaining": "650"})

    list(client.sections(7))

    assert len(sleep.delays) == 1
    assert 0 < sleep.delays[0] <= 2.0


def test_the_pause_grows_as_the_rate_limit_bucket_empties(sleep, mocked):
    pauses = []
    for course, remaining in enumerate(("90", "50", "0"), start=1):
        canvas = CanvasClient(BASE, TOKEN, sleep=sleep)
        url = f"{BASE}/api/v1/courses/{course}/sections"
        mocked.get(url, json=[], headers={"X-Rate-Limit-Remaining": remaining})
        list(canvas.sections(course))
        list(canvas.sections(course))
        pauses.append(sleep.delays.pop())

    assert pauses[0] < pauses[1] < pauses[2] <= 2.0


def test_a_healthy_rate_limit_remaining_never_pauses(client, mocked, sleep):
    mocked.get(SECTIONS, json=[], headers={"X-Rate-Limit-Remaining": "650.5"})

    for _ in range(3):
        list(client.sections(7))

    assert sleep.delays == []


# -- the error type ----------------------------------------------------------------------------


def test_canvas_error_survives_pickling_for_the_task_queue():
    error = CanvasError("Canvas said no", kind="http", status=404, url=SECTIONS)

    copy = pickle.loads(pickle.dumps(error))

    assert (str(copy), copy.kind, copy.status, copy.url) == (
        "Canvas said no",
        "http",
        404,
        SECTIONS,
    )


# -- threads -----------------------------------------------------------------------------------


def test_the_client_works_from_several_threads_at_once(client, mocked):
    courses = range(1, 9)
    for course in courses:
        first = f"{BASE}/api/v1/courses/{course}/sections"
        second = f"{first}?page=2"
        mocked.get(first, status=503)
        mocked.get(first, json=[{"id": course * 10}], headers=link_next(second))
        mocked.get(second, json=[{"id": course * 10 + 1}])
    results: dict[int, list[dict]] = {}
    sessions: set[int] = set()
    start = threading.Barrier(len(courses))

    def import_course(course: int) -> None:
        start.wait()
        results[course] = all_items(client.sections(course))
        sessions.add(id(client._session()))

    threads = [threading.Thread(target=import_course, args=(c,)) for c in courses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == {c: [{"id": c * 10}, {"id": c * 10 + 1}] for c in courses}
    assert client.requests_made == 3 * len(courses)
    assert len(sessions) == len(courses)
