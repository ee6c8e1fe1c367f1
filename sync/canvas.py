"""Canvas LMS REST client: authenticated, paginated, retried and throttle-aware GET/PUT calls."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from sync.canvas_errors import (
    CanvasError,
    auth_error,
    exhausted_error,
    refused_error,
    token_invalid,
)
from sync.http_transport import (
    DirectLane,
    back_off,
    describe_transport_error,
    keep_alive_session,
    retry_after_seconds,
)

logger = logging.getLogger(__name__)

_USER_AGENT = "gpb-dashboard (Canvas grade passback monitor)"
# A slow connect means a wrong host or a firewall, not a busy server: fail over to a retry early.
_CONNECT_TIMEOUT_MAX = 10.0
# Longest pause taken when Canvas's rate-limit bucket is empty; Canvas refills it in seconds.
_LOW_REMAINING_MAX_PAUSE = 2.0
# Errors where the request may be retried; ChunkedEncodingError is a connection dropped mid-body.
_TRANSPORT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)

Params = list[tuple[str, str]]


class Unset:
    """The type of UNSET: "leave this field as it is" where None means "clear it"."""


UNSET = Unset()


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
        direct: bool = False,
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
        # An import reads thousands of pages: GETs then take a DirectLane to the connection
        # pool. Off by default, so that clients mocked at requests' adapter see every call.
        self._direct = direct
        self._origin = _origin(self.base_url)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._sessions: list[requests.Session | DirectLane] = []
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

    def put_json(self, path: str, data: dict, *, idempotent: bool = False) -> Any:
        # A PUT that reached Canvas may have been applied; unless the caller knows that doing
        # it twice changes nothing, only retry what Canvas certainly refused.
        response = self._request("PUT", self._url(path), json_body=data, idempotent=idempotent)
        return _json_body(response)

    def token_rejected(self, error: CanvasError, *, renewed: bool) -> str:
        """Hook: Canvas rejected the access token itself (401 with WWW-Authenticate).

        Return a new token to send the request again with, or raise. ``renewed`` is True when
        the token this hook returned before was rejected too (the request is not sent again).
        The default raises ``error``: a configured token cannot be renewed.
        """
        raise error

    def user_self(self) -> dict:
        """The user the token acts as: {"id", "name", "sortable_name", "login_id", ...}."""
        return _object(self.get_json("/api/v1/users/self"), "/api/v1/users/self")

    def update_assignment(
        self,
        course_id: int,
        assignment_id: int,
        *,
        name: str | None = None,
        due_at: datetime | None | Unset = UNSET,
    ) -> dict:
        """Rename an assignment and/or set its base due date (None: no due date)."""
        fields: dict[str, str | None] = {}
        if name is not None:
            fields["name"] = name
        if not isinstance(due_at, Unset):
            fields["due_at"] = None if due_at is None else _canvas_timestamp(due_at)
        if not fields:
            raise ValueError("update_assignment needs a name or a due_at")
        path = f"/api/v1/courses/{course_id}/assignments/{assignment_id}"
        # Setting the same values twice changes nothing, so a lost answer may be retried.
        return _object(self.put_json(path, {"assignment": fields}, idempotent=True), path)

    def update_override_due_at(
        self, course_id: int, assignment_id: int, override_id: int, due_at: datetime | None
    ) -> dict:
        """Set one override's due date (None: overridden to no due date)."""
        path = f"/api/v1/courses/{course_id}/assignments/{assignment_id}/overrides/{override_id}"
        value = None if due_at is None else _canvas_timestamp(due_at)
        body = {"assignment_override": {"due_at": value}}
        return _object(self.put_json(path, body, idempotent=True), path)

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

    def __enter__(self) -> CanvasClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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
        attempt, attempts, renewed = 0, self.max_retries + 1, False
        while attempt < attempts:
            attempt += 1
            self._pace()
            try:
                response = self._send(method, url, params=params, json=json_body, headers=headers)
            except _TRANSPORT_ERRORS as exc:
                retryable = not isinstance(exc, requests.exceptions.SSLError) and (
                    idempotent or sent_nothing(exc)
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
                error = auth_error(response)
                if not headers or not token_invalid(response):
                    raise error
                token = self.token_rejected(error, renewed=renewed)
                if renewed:
                    raise error
                # One more try with the new token, not counted against the retry budget.
                self._token, renewed, attempts = token.strip(), True, attempts + 1
                headers = self._headers_for(url)
                continue
            retry_kind = _retry_kind(response, idempotent=idempotent)
            if retry_kind is None:
                raise refused_error(response)
            if attempt == attempts:
                raise exhausted_error(response, retry_kind, attempts)
            reason = f"HTTP {response.status_code}"
            self._back_off(attempt, retry_after_seconds(response), method, url, reason)
        raise AssertionError("the retry loop always returns or raises")

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One HTTP exchange, counted in requests_made when it actually left this machine."""
        try:
            response = self._exchange(method, url, **kwargs)
        except _TRANSPORT_ERRORS as exc:
            if not sent_nothing(exc):
                self._count_request()
            raise
        self._count_request()
        return response

    def _exchange(
        self,
        method: str,
        url: str,
        *,
        params: Params | None,
        json: dict | None,
        headers: dict[str, str],
    ) -> requests.Response:
        if self._direct and method == "GET":
            lane = getattr(self._local, "lane", None)
            if lane is None:
                lane = self._local.lane = DirectLane(self._session(), self.base_url, self._timeouts)
                with self._lock:
                    self._sessions.append(lane)  # closed with the sessions
            response = lane.send("GET", _with_query(url, params), headers, None)
            # A redirect (rare: a moved host) is followed by requests, as without the lane.
            if response is not None and not response.is_redirect:
                return response
        return self._session().request(
            method, url, timeout=self._timeouts, params=params, json=json, headers=headers
        )

    def _count_request(self) -> None:
        self._local.requests_made = self.requests_made_here + 1
        with self._lock:
            self._requests_made += 1

    def _back_off(
        self, attempt: int, retry_after: float | None, method: str, url: str, reason: str
    ) -> None:
        back_off(
            system="Canvas",
            attempt=attempt,
            max_retries=self.max_retries,
            retry_after=retry_after,
            backoff=(self.backoff_base, self.backoff_max),
            method=method,
            url=url,
            reason=reason,
            sleep=self._sleep,
            log=logger,
        )

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
            session = keep_alive_session(
                self.base_url, {"Accept": "application/json", "User-Agent": _USER_AGENT}
            )
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


def _with_query(url: str, params: Params | None) -> str:
    """``url`` with ``params`` encoded as requests would add them."""
    if not params:
        return url
    return f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"


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


def _object(body: Any, path: str) -> dict:
    if not isinstance(body, dict):
        raise CanvasError(
            f"Canvas sent an unexpected response at {path}: expected an object", kind="bad_json"
        )
    return body


# -- transport helpers --------------------------------------------------------------------------


def sent_nothing(exc: Exception) -> bool:
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
        raise ValueError(f"Canvas timestamps must be timezone-aware, not {moment!r}")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
