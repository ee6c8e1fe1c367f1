"""Canvas LMS REST client: authenticated, paginated, retried and throttle-aware GET/PUT calls."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from sync.http_transport import (
    backoff_delay,
    describe_transport_error,
    retry_after_seconds,
)

logger = logging.getLogger(__name__)

_USER_AGENT = "gpb-dashboard (Canvas grade passback monitor)"
# A slow connect means a wrong host or a firewall, not a busy server: fail over to a retry early.
_CONNECT_TIMEOUT_MAX = 10.0
# Longest pause taken when Canvas's rate-limit bucket is empty; Canvas refills it in seconds.
_LOW_REMAINING_MAX_PAUSE = 2.0
_MESSAGE_MAX_CHARS = 200
# Errors where the request may be retried; ChunkedEncodingError is a connection dropped mid-body.
_TRANSPORT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)

Params = list[tuple[str, str]]


class CanvasError(Exception):
    """The one error type callers see.

    ``kind`` is one of ``auth``, ``unreachable``, ``http``, ``bad_json``, ``throttled``;
    ``str(error)`` is a one-line message a district admin can act on.
    """

    def __init__(
        self,
        message: str = "",
        *,
        kind: str = "http",
        status: int | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message or f"Canvas request failed ({kind})")
        self.kind = kind
        self.status = status
        self.url = url

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only attributes are lost by default pickling; task queues pickle exceptions.
        return (_rebuild_canvas_error, (str(self), self.kind, self.status, self.url))


def _rebuild_canvas_error(
    message: str, kind: str, status: int | None, url: str | None
) -> CanvasError:
    return CanvasError(message, kind=kind, status=status, url=url)


class CanvasClient:
    """A Canvas REST client safe to share between threads (one keep-alive Session per thread)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 60.0,
        max_retries: int = 6,
        per_page: int = 100,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        low_remaining: float = 100.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # Tokens pasted from files or secret stores often carry a trailing newline.
        self._token = token.strip()
        self._timeouts = (min(_CONNECT_TIMEOUT_MAX, timeout), timeout)
        self.max_retries = max_retries
        self.per_page = per_page
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.low_remaining = low_remaining
        self._sleep = sleep
        self._origin = _origin(self.base_url)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._requests_made = 0
        self._rate_limit_remaining: float | None = None

    # -- public interface ------------------------------------------------------------------

    @property
    def requests_made(self) -> int:
        """HTTP requests sent so far, retries included (a refused connection sent nothing)."""
        with self._lock:
            return self._requests_made

    @property
    def requests_made_here(self) -> int:
        """HTTP requests sent so far by the calling thread (a course worker's own share)."""
        return getattr(self._local, "requests_made", 0)

    def get_pages(
        self, path: str, params: Params | None = None, *, key: str | None = None
    ) -> Iterator[list[dict]]:
        query = list(params or [])
        if not any(name == "per_page" for name, _ in query):
            query.append(("per_page", str(self.per_page)))
        url: str | None = self._url(path)
        fetched: set[str] = set()
        while url:
            response = self._request("GET", url, params=query)
            yield _page_items(response, key)
            fetched.update((url, response.url))
            url = _next_link(response)
            if url in fetched:
                # A next link back to a page already read would make us page forever.
                raise CanvasError(
                    f"Canvas sent a next-page link that repeats an earlier page at {url}",
                    kind="bad_json",
                    status=response.status_code,
                    url=url,
                )
            # The next link already carries every parameter (and an opaque cursor): send it as is.
            query = None

    def get_json(self, path: str, params: Params | None = None) -> Any:
        return _json_body(self._request("GET", self._url(path), params=params))

    def put_json(self, path: str, data: dict) -> Any:
        # A PUT that reached Canvas may have been applied; only retry what it certainly refused.
        response = self._request("PUT", self._url(path), json_body=data, idempotent=False)
        return _json_body(response)

    def sub_accounts(self, account_id: int) -> Iterator[list[dict]]:
        return self.get_pages(
            f"/api/v1/accounts/{account_id}/sub_accounts", [("recursive", "true")]
        )

    def terms(self, account_id: int) -> Iterator[list[dict]]:
        return self.get_pages(f"/api/v1/accounts/{account_id}/terms", key="enrollment_terms")

    def courses(self, account_id: int) -> Iterator[list[dict]]:
        params = [
            ("include[]", "term"),
            ("state[]", "unpublished"),
            ("state[]", "available"),
            ("state[]", "completed"),
        ]
        return self.get_pages(f"/api/v1/accounts/{account_id}/courses", params)

    def sections(self, course_id: int) -> Iterator[list[dict]]:
        return self.get_pages(f"/api/v1/courses/{course_id}/sections")

    def assignment_groups(self, course_id: int) -> Iterator[list[dict]]:
        return self.get_pages(f"/api/v1/courses/{course_id}/assignment_groups")

    def assignments(self, course_id: int) -> Iterator[list[dict]]:
        # Without override_assignment_dates=false Canvas computes due dates for the caller.
        params = [("include[]", "overrides"), ("override_assignment_dates", "false")]
        return self.get_pages(f"/api/v1/courses/{course_id}/assignments", params)

    def enrollments(self, course_id: int) -> Iterator[list[dict]]:
        params = [
            ("type[]", "StudentEnrollment"),
            ("type[]", "TeacherEnrollment"),
            ("state[]", "active"),
        ]
        return self.get_pages(f"/api/v1/courses/{course_id}/enrollments", params)

    def submissions(
        self, course_id: int, graded_since: datetime | None = None
    ) -> Iterator[list[dict]]:
        params = [("student_ids[]", "all")]
        if graded_since is not None:
            params.append(("graded_since", _canvas_timestamp(graded_since)))
        return self.get_pages(f"/api/v1/courses/{course_id}/students/submissions", params)

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
            self._local = threading.local()
        for session in sessions:
            session.close()

    # -- one request, retried ---------------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: Params | None = None,
        json_body: dict | None = None,
        idempotent: bool = True,
    ) -> requests.Response:
        headers = self._headers_for(url)
        attempts = self.max_retries + 1
        for attempt in range(1, attempts + 1):
            self._pace()
            try:
                response = self._send(method, url, params=params, json=json_body, headers=headers)
            except _TRANSPORT_ERRORS as exc:
                retryable = not isinstance(exc, requests.exceptions.SSLError) and (
                    idempotent or _sent_nothing(exc)
                )
                if not retryable or attempt == attempts:
                    raise self._unreachable(url, exc, attempt) from exc
                self._back_off(attempt, None, method, url, describe_transport_error(exc))
                continue
            except requests.exceptions.InvalidHeader as exc:
                raise CanvasError(
                    "The Canvas access token contains characters not allowed in an HTTP header: "
                    "check CANVAS_TOKEN",
                    kind="auth",
                    url=url,
                ) from exc
            except requests.RequestException as exc:
                # Malformed URL or similar: a configuration problem no retry will fix.
                raise self._unreachable(url, exc, attempt) from exc

            self._note_rate_limit(response)
            if response.status_code < 400:
                return response
            if response.status_code == 401:
                raise _auth_error(response)
            retry_kind = _retry_kind(response, idempotent=idempotent)
            if retry_kind is None:
                raise _refused_error(response)
            if attempt == attempts:
                raise _exhausted_error(response, retry_kind, attempts)
            reason = f"HTTP {response.status_code}"
            self._back_off(attempt, retry_after_seconds(response), method, url, reason)
        raise AssertionError("the retry loop always returns or raises")

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One HTTP exchange, counted in requests_made when it actually left this machine."""
        try:
            response = self._session().request(method, url, timeout=self._timeouts, **kwargs)
        except _TRANSPORT_ERRORS as exc:
            if not _sent_nothing(exc):
                self._count_request()
            raise
        self._count_request()
        return response

    def _count_request(self) -> None:
        self._local.requests_made = self.requests_made_here + 1
        with self._lock:
            self._requests_made += 1

    def _back_off(
        self, attempt: int, retry_after: float | None, method: str, url: str, reason: str
    ) -> None:
        if retry_after is None:
            delay = backoff_delay(attempt, self.backoff_base, self.backoff_max)
        else:
            delay = retry_after
        logger.warning(
            "Canvas %s %s failed (%s); retry %d of %d in %.1fs",
            method,
            url,
            reason,
            attempt,
            self.max_retries,
            delay,
        )
        self._sleep(delay)

    def _pace(self) -> None:
        # Canvas throttles a token that drains its request bucket; easing off as it nears empty
        # (in proportion to how close it is) avoids 429s without slowing a healthy run.
        remaining = self._rate_limit_remaining
        if remaining is None or self.low_remaining <= 0 or remaining >= self.low_remaining:
            return
        self._sleep(_LOW_REMAINING_MAX_PAUSE * (1 - max(remaining, 0.0) / self.low_remaining))

    def _note_rate_limit(self, response: requests.Response) -> None:
        value = response.headers.get("X-Rate-Limit-Remaining")
        if value is None:
            return
        with contextlib.suppress(ValueError):  # a garbled header must not fail the import
            self._rate_limit_remaining = float(value)

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update({"Accept": "application/json", "User-Agent": _USER_AGENT})
            # requests re-reads proxy and CA-bundle variables from the environment on every
            # call, which costs more than a loopback request; read them once instead.
            session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            session.verify = bundle or True
            session.trust_env = False
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _headers_for(self, url: str) -> dict[str, str]:
        # Next links are followed verbatim, so never hand the token to a host we were not given.
        if _origin(url) != self._origin:
            return {}
        return {"Authorization": f"Bearer {self._token}"}

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _unreachable(self, url: str, exc: requests.RequestException, attempts: int) -> CanvasError:
        reason = describe_transport_error(exc)
        if isinstance(exc, requests.Timeout) and not isinstance(exc, requests.ConnectTimeout):
            reason = f"no answer within {self._timeouts[1]:g}s"
        if attempts > 1:
            reason = f"{reason} after {attempts} attempts"
        return CanvasError(
            f"Cannot reach Canvas at {self.base_url} ({reason}): check CANVAS_BASE_URL",
            kind="unreachable",
            url=url,
        )


# -- response helpers ---------------------------------------------------------------------------


def _page_items(response: requests.Response, key: str | None) -> list[dict]:
    body = _json_body(response)
    items = body.get(key) if key is not None and isinstance(body, dict) else body
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        expected = f'an object with a "{key}" list' if key is not None else "a list of objects"
        raise CanvasError(
            f"Canvas sent an unexpected response at {response.url}: expected {expected}",
            kind="bad_json",
            status=response.status_code,
            url=response.url,
        )
    return items


def _json_body(response: requests.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise CanvasError(
            f"Canvas sent a response that is not valid JSON at {response.url}",
            kind="bad_json",
            status=response.status_code,
            url=response.url,
        ) from exc


def _next_link(response: requests.Response) -> str | None:
    link = response.links.get("next", {}).get("url")
    # urljoin leaves an absolute link untouched and resolves a relative one against this page.
    return urljoin(response.url, link) if link else None


def _retry_kind(response: requests.Response, *, idempotent: bool) -> str | None:
    """Return "throttled" or "http" when the response is worth retrying, else None."""
    status = response.status_code
    if status == 429 or (status == 403 and "rate limit exceeded" in response.text.lower()):
        # Canvas answered 403 before its 2025 change to 429; both mean "not processed, slow down".
        return "throttled"
    if status >= 500 and (idempotent or status == 503):
        return "http"
    return None


def _canvas_message(response: requests.Response) -> str | None:
    """Canvas's own explanation, from {"errors": [{"message": ...}]} and its variants."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    errors = body.get("errors")
    if isinstance(errors, dict):  # validation errors: {"errors": {"field": [{"message": ...}]}}
        errors = [error for value in errors.values() if isinstance(value, list) for error in value]
    messages = []
    if isinstance(errors, list):
        messages = [e["message"] for e in errors if isinstance(e, dict) and e.get("message")]
    for field in ("message", "error"):
        if not messages and isinstance(body.get(field), str):
            messages = [body[field]]
    if not messages:
        return None
    text = " ".join("; ".join(str(m) for m in messages).split())
    return text[:_MESSAGE_MAX_CHARS]


def _auth_error(response: requests.Response) -> CanvasError:
    url = response.url
    message = _canvas_message(response)
    # Canvas also answers 401 when a valid token lacks a permission; only a WWW-Authenticate
    # header (or no explanation at all) means the token itself is bad.
    if "WWW-Authenticate" in response.headers or not message:
        text = f"Canvas rejected the access token (HTTP 401) at {url}: check CANVAS_TOKEN"
    else:
        text = (
            f"Canvas refused access (HTTP 401) at {url}: {message}; check that CANVAS_TOKEN "
            "belongs to a root-account admin"
        )
    return CanvasError(text, kind="auth", status=401, url=url)


def _refused_error(response: requests.Response) -> CanvasError:
    url = response.url
    message = _canvas_message(response)
    text = f"Canvas refused the request (HTTP {response.status_code}) at {url}"
    return CanvasError(
        f"{text}: {message}" if message else text,
        kind="http",
        status=response.status_code,
        url=url,
    )


def _exhausted_error(response: requests.Response, retry_kind: str, attempts: int) -> CanvasError:
    url, status = response.url, response.status_code
    if retry_kind == "throttled":
        text = (
            f"Canvas kept rate-limiting requests (HTTP {status}) at {url} after {attempts} "
            "attempts: lower the import concurrency or run it later"
        )
    else:
        text = f"Canvas kept failing (HTTP {status}) at {url} after {attempts} attempts"
        message = _canvas_message(response)
        if message:
            text = f"{text}: {message}"
    return CanvasError(text, kind=retry_kind, status=status, url=url)


# -- transport helpers --------------------------------------------------------------------------


def _sent_nothing(exc: Exception) -> bool:
    """True when the request certainly never reached Canvas (so even a PUT may be retried)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)  # refused or DNS failure


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"https": 443, "http": 80}.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


def _canvas_timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("graded_since must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
