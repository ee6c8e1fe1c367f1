"""Infinite Campus OneRoster gradebook client: OAuth 2 token, vendor header, retried calls.

Speaks OneRoster 1.2 (one root per service; pass the gradebook root, ``.../gradebook/v1p2``) or
1.1 (one root, ``.../v1p1``). The caller passes the root it copied from Infinite Campus; the
differences this client handles between the two versions (reference ``oneroster.md`` §1.2–1.5):

- PUT bodies use the same ``{"lineItem": {...}}`` / ``{"result": {...}}`` wrappers in both; the
  fields inside (e.g. 1.2-only ``late``/``missing``) are the caller's business and sent as given.
- PUT succeeds with 201 and no body in 1.2; 1.1 servers answer 200 or 201, sometimes with a body.
  Any 2xx that is not an HTML page counts as stored.
- 1.1 has no ``GET /classes/{id}/categories``: categories are global there (Infinite Campus 1.1
  returns a placeholder), so :meth:`OneRosterClient.categories` reads ``GET /categories`` and keeps
  the global ones plus those whose ``metadata.classId`` names the class, as Canvas does.
- Errors come as one ``imsx_StatusInfo`` object in 1.2 and as a ``statusInfoSet`` list in 1.1;
  both forms (and the ``{"imsx_StatusInfo": ...}`` wrapper) are parsed whatever the version.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from sync.http_transport import (
    DirectLane,
    back_off,
    describe_transport_error,
    keep_alive_session,
    retry_after_seconds,
)
from sync.oneroster_errors import (
    OneRosterError,
    bad_response_error,
    exhausted_error,
    explain,
    final_error,
    is_html,
    json_object,
    redirect_error,
    response_error,
    token_refused_error,
    unsendable_credential_error,
)

logger = logging.getLogger(__name__)

VERSIONS = ("1.1", "1.2")
_USER_AGENT = "gpb-dashboard (Canvas grade passback)"
# A slow connect means a wrong host or a firewall, not a busy server: give up on it early.
_CONNECT_TIMEOUT_MAX = 10.0
# A longer pause would stall a course worker for minutes; we report "throttled" instead.
# Refresh this long before the token expires so a call never leaves with a token about to lapse.
_TOKEN_REFRESH_MARGIN = 60.0
# expires_in is only RECOMMENDED by RFC 6749; if absent, a 401 refreshes the token anyway.
_DEFAULT_TOKEN_LIFETIME = 3600.0
_PAGE_SIZE = 100


class TokenSlot:
    """Where a client keeps its access token; the lock is held while one is fetched."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.token: str | None = None
        self.deadline = 0.0


_shared_slots: dict[tuple[str, ...], TokenSlot] = {}
_shared_slots_lock = threading.Lock()


class _KeptConnections(threading.local):
    """One thread's Session and DirectLane to one IC address, kept for the process's life."""


_kept: dict[str, _KeptConnections] = {}


def _kept_connections(base_url: str) -> _KeptConnections:
    with _shared_slots_lock:
        return _kept.setdefault(base_url, _KeptConnections())


def shared_slot(*credentials: str) -> TokenSlot:
    """The token slot of this process for these credentials (token URL, client id and secret,
    scope). A worker runs one task after another, each with a new client: they share the token
    instead of asking IC for a new one every task."""
    with _shared_slots_lock:
        return _shared_slots.setdefault(credentials, TokenSlot())


# ChunkedEncodingError is a connection dropped mid-body; every one of these may be retried.
_TRANSPORT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


@dataclass(frozen=True)
class Sent:
    """A confirmed write: the final HTTP status and how many attempts it took."""

    status: int
    attempts: int


class OneRosterClient:
    """A OneRoster gradebook client safe to share between threads (one Session per thread)."""

    def __init__(
        self,
        base_url: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        vendor_key: str = "",
        vendor_secret: str = "",
        version: str = "1.2",
        scope: str = "",
        timeout: float = 30.0,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        token_slot: TokenSlot | None = None,
        direct: bool = True,
        keep_connections: bool = False,
    ) -> None:
        if version not in VERSIONS:
            raise ValueError(f"OneRoster version must be one of {VERSIONS}, not {version!r}")
        self.base_url = base_url.strip().rstrip("/")
        self.token_url = token_url.strip()
        self.version = version
        self.scope = scope.strip()
        # Secrets pasted from files or secret stores often carry a trailing newline.
        self._client_auth = (client_id.strip(), client_secret.strip())
        vendor_key, vendor_secret = vendor_key.strip(), vendor_secret.strip()
        self._vendor_header = f"{vendor_key}:{vendor_secret}" if vendor_key else ""
        self._timeouts = (min(_CONNECT_TIMEOUT_MAX, timeout), timeout)
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()  # guards the counter and the session list
        # The access token; a slot may be shared by the clients of one process (shared_slot).
        self._slot = token_slot or TokenSlot()
        # Gradebook calls take a DirectLane (a kept connection); False sends them through requests'
        # adapter, where HTTP mocking libraries intercept them.
        self._direct = direct
        # Kept connections outlive the client: the next client of this thread (a worker's next
        # task) reuses them instead of connecting again; close() leaves them open.
        self._local = _kept_connections(self.base_url) if keep_connections else threading.local()
        self._sessions: list[requests.Session | DirectLane] = []
        self._requests_made = 0

    # -- public interface ----------------------------------------------------------------------

    @property
    def requests_made(self) -> int:
        """HTTP requests attempted so far: token requests, retries and refused connections too."""
        with self._lock:
            return self._requests_made

    def check_connection(self) -> str:
        """Prove the credentials and the vendor key work now; return a one-line OK message."""
        with self._slot.lock:
            self._slot.token = None  # a check must prove the client secret works now
        self._access_token()
        # Any gradebook read exercises the vendor header. A 404 still proves token and header
        # passed: authorization is checked (401) before anything is looked up.
        response, _ = self._gradebook(
            "GET", "categories", "the categories list", params={"limit": "1"}, gone_ok=True
        )
        vendor = "vendor key accepted" if self._vendor_header else "no vendor key configured"
        if response.status_code == 404:
            return (
                f"Connected to Infinite Campus at {self.base_url} (OneRoster {self.version}): "
                f"token accepted, {vendor}; GET /categories answered 404, so check SIS_BASE_URL "
                "if passback fails"
            )
        json_object(response, "the categories list")  # an HTML page here means a wrong root
        return (
            f"Connected to Infinite Campus at {self.base_url} (OneRoster {self.version}): "
            f"token accepted, {vendor}"
        )

    def categories(self, class_sourced_id: str) -> list[dict]:
        """The gradebook categories of one class (section), every page of them."""
        if self.version == "1.2":
            path = f"classes/{_quote(class_sourced_id)}/categories"
            return self._all_categories(path, f"class {class_sourced_id}")
        # 1.1 has only the global list; a provider scopes a category with metadata.classId.
        found = self._all_categories("categories", "the categories list")
        return [item for item in found if _category_class(item) in (None, class_sourced_id)]

    def put_line_item(self, sourced_id: str, line_item: dict) -> Sent:
        return self._write(
            "PUT",
            f"lineItems/{_quote(sourced_id)}",
            f"line item {sourced_id}",
            {"lineItem": line_item},
        )

    def put_result(self, sourced_id: str, result: dict) -> Sent:
        return self._write(
            "PUT", f"results/{_quote(sourced_id)}", f"result {sourced_id}", {"result": result}
        )

    def get_result(self, sourced_id: str) -> dict | None:
        """The result IC holds under this sourcedId, or None when it has none."""
        subject = f"result {sourced_id}"
        response, attempts = self._gradebook(
            "GET", f"results/{_quote(sourced_id)}", subject, gone_ok=True
        )
        if response.status_code == 404:
            return None
        result = json_object(response, subject, attempts).get("result")
        if not isinstance(result, dict):
            raise bad_response_error(response, subject, 'an object with a "result"', attempts)
        return result

    def delete_line_item(self, sourced_id: str) -> Sent:
        return self._write("DELETE", f"lineItems/{_quote(sourced_id)}", f"line item {sourced_id}")

    def delete_result(self, sourced_id: str) -> Sent:
        return self._write("DELETE", f"results/{_quote(sourced_id)}", f"result {sourced_id}")

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
            if not isinstance(self._local, _KeptConnections):
                self._local = threading.local()
        for session in sessions:
            session.close()

    def __enter__(self) -> OneRosterClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- gradebook calls -----------------------------------------------------------------------

    def _write(self, method: str, path: str, subject: str, body: dict | None = None) -> Sent:
        # A DELETE answered 404 means an earlier attempt (or someone in IC) already removed it.
        response, attempts = self._gradebook(
            method, path, subject, json=body, gone_ok=method == "DELETE"
        )
        if is_html(response):
            # A login or proxy page answered 2xx: nothing was stored, so never report success.
            raise bad_response_error(
                response, subject, "a OneRoster answer, not an HTML page", attempts
            )
        return Sent(status=response.status_code, attempts=attempts)

    def _all_categories(self, path: str, subject: str) -> list[dict]:
        found: list[dict] = []
        seen: set[Any] = set()
        offset = 0
        while True:
            params = {"limit": str(_PAGE_SIZE), "offset": str(offset)}
            response, attempts = self._gradebook("GET", path, subject, params=params)
            page = json_object(response, subject, attempts).get("categories")
            if not isinstance(page, list) or not all(isinstance(item, dict) for item in page):
                raise bad_response_error(
                    response, subject, 'an object with a "categories" list', attempts
                )
            ids = {item.get("sourcedId") for item in page}
            if page and ids <= seen:
                # The server ignored offset; paging on would never end.
                raise bad_response_error(response, subject, "a new page, not a repeat", attempts)
            seen |= ids
            found.extend(page)
            offset += len(page)
            total = _total_count(response)
            # With a total, keep going past short pages: a server may clamp limit below ours.
            if not page or (offset >= total if total is not None else len(page) < _PAGE_SIZE):
                return found

    def _gradebook(
        self, method: str, path: str, subject: str, *, gone_ok: bool = False, **kwargs: Any
    ) -> tuple[requests.Response, int]:
        """One gradebook call with retries and one token refresh; returns the 2xx answer."""
        url = f"{self.base_url}/{path}"
        token = self._access_token()
        response, attempts = self._send_retrying(method, url, subject, self._headers(token), kwargs)
        if response.status_code == 401:
            # The token may have been revoked or expired early: one fresh token, one more try.
            token = self._renew_token(stale=token)
            response, more = self._send_retrying(method, url, subject, self._headers(token), kwargs)
            attempts += more
        status = response.status_code
        if 200 <= status < 300 or (gone_ok and status == 404):
            return response, attempts
        if status in (401, 403):
            raise self._refused_error(response, subject, attempts)
        if 300 <= status < 400:
            raise redirect_error(response, subject, "SIS_BASE_URL", attempts)
        raise final_error(response, subject, attempts)

    def _headers(self, token: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token}"}
        if self._vendor_header:
            headers["x-vendor-authorization"] = self._vendor_header
        return headers

    def _refused_error(
        self, response: requests.Response, subject: str, attempts: int
    ) -> OneRosterError:
        said = explain(response)
        status = response.status_code
        if "vendor" in (said.description or "").lower() or not self._vendor_header:
            # IC answers 401 on gradebook endpoints when the vendor header is missing or wrong.
            text = (
                f"Infinite Campus refused the gradebook call for {subject} without a valid "
                f"vendor key (HTTP {status}): check SIS_VENDOR_KEY and SIS_VENDOR_SECRET"
            )
            if not self._vendor_header:
                text += " (none is configured)"
        elif status == 401:
            text = (
                f"Infinite Campus rejected a fresh access token for {subject} (HTTP 401): "
                f"{said.text}; check SIS_CLIENT_ID and SIS_CLIENT_SECRET"
            )
        else:
            text = (
                f"Infinite Campus forbade the gradebook call for {subject} (HTTP 403): "
                f"{said.text}; check that Grade Book Sync is enabled for this connection"
            )
        return response_error(text, "auth", response, said, attempts)

    # -- the access token ----------------------------------------------------------------------

    def _access_token(self) -> str:
        slot = self._slot
        with slot.lock:
            if slot.token is None or self._clock() >= slot.deadline:
                slot.token, slot.deadline = self._fetch_token()
            return slot.token

    def _renew_token(self, stale: str) -> str:
        slot = self._slot
        with slot.lock:
            # Threads that got a 401 together must not each fetch a token: the first one does.
            if slot.token is None or slot.token == stale:
                slot.token, slot.deadline = self._fetch_token()
            return slot.token

    def _fetch_token(self) -> tuple[str, float]:
        subject = "the token request"
        data = {"grant_type": "client_credentials"}
        if self.scope:
            data["scope"] = self.scope
        requested_at = self._clock()
        kwargs = {"data": data, "auth": self._client_auth}
        response, attempts = self._send_retrying("POST", self.token_url, subject, {}, kwargs)
        status = response.status_code
        if status in (400, 401, 403):
            raise token_refused_error(response, attempts)
        if 300 <= status < 400:
            raise redirect_error(response, subject, "SIS_TOKEN_URL", attempts)
        if not 200 <= status < 300:
            raise final_error(response, subject, attempts, hint="check SIS_TOKEN_URL")
        body = json_object(response, subject, attempts, hint="SIS_TOKEN_URL")
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise bad_response_error(
                response, subject, "an access_token", attempts, "SIS_TOKEN_URL"
            )
        try:
            lifetime = float(body.get("expires_in", _DEFAULT_TOKEN_LIFETIME))
        except (TypeError, ValueError):
            lifetime = _DEFAULT_TOKEN_LIFETIME
        # Short-lived tokens would otherwise be refetched before every call.
        usable_for = max(lifetime - _TOKEN_REFRESH_MARGIN, lifetime / 2)
        return token, requested_at + usable_for

    # -- one request, retried ------------------------------------------------------------------

    def _send_retrying(
        self, method: str, url: str, subject: str, headers: dict[str, str], kwargs: dict[str, Any]
    ) -> tuple[requests.Response, int]:
        """Send until an answer that is not 429/5xx; PUT and DELETE are idempotent by sourcedId."""
        is_token = url == self.token_url
        attempts = self.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                response = self._send(method, url, headers, kwargs)
            except (requests.exceptions.InvalidHeader, UnicodeEncodeError) as exc:
                raise unsendable_credential_error(url, is_token, attempt) from exc
            except requests.exceptions.SSLError as exc:
                # A certificate problem does not heal between retries.
                raise self._unreachable(exc, url, is_token, attempt) from exc
            except _TRANSPORT_ERRORS as exc:
                if attempt == attempts:
                    raise self._unreachable(exc, url, is_token, attempt) from exc
                self._back_off(attempt, None, method, url, describe_transport_error(exc))
                continue
            except requests.RequestException as exc:
                # A malformed URL or header: a configuration problem no retry will fix.
                raise self._unreachable(exc, url, is_token, attempt) from exc
            status = response.status_code
            if status != 429 and status < 500:
                return response, attempt
            if attempt == attempts:
                raise exhausted_error(response, subject, attempts)
            self._back_off(attempt, retry_after_seconds(response), method, url, f"HTTP {status}")
        raise AssertionError("the retry loop always returns or raises")

    def _send(
        self, method: str, url: str, headers: dict[str, str], kwargs: dict[str, Any]
    ) -> requests.Response:
        with self._lock:
            self._requests_made += 1
        # Redirects are not followed: requests would forward the vendor secret to any host, and
        # a redirected token POST turns into a GET. A redirect means a wrong URL setting.
        if set(kwargs) <= {"json"}:
            return self._send_json(method, url, headers, kwargs.get("json"))
        return self._session().request(
            method, url, headers=headers, timeout=self._timeouts, allow_redirects=False, **kwargs
        )

    def _send_json(
        self, method: str, url: str, headers: dict[str, str], payload: Any
    ) -> requests.Response:
        """A gradebook call: a passback sends one per grade, so it takes the DirectLane (or,
        without one, goes straight to requests' adapter, skipping Session.request's merging of
        cookies, hooks and settings)."""
        body = _json_body(payload)
        lane = self._lane()
        response = lane.send(method, url, headers, body) if lane else None
        if response is not None:
            return response
        session = self._session()
        prepared = requests.PreparedRequest()
        prepared.method = method
        prepared.prepare_url(url, None)
        prepared.prepare_headers({**session.headers, **headers})
        if body is not None:
            prepared.headers["Content-Type"] = "application/json"
        prepared.body = body
        prepared.prepare_content_length(body)
        prepared.hooks = {"response": []}
        response = session.get_adapter(url).send(
            prepared, timeout=self._timeouts, verify=session.verify, proxies=session.proxies
        )
        response.content  # noqa: B018 - read it whole: the connection goes back to the pool
        return response

    def _back_off(
        self, attempt: int, retry_after: float | None, method: str, url: str, reason: str
    ) -> None:
        back_off(
            system="Infinite Campus",
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

    def _lane(self) -> DirectLane | None:
        if not self._direct:
            return None
        lane = getattr(self._local, "lane", None)
        if lane is None:
            lane = self._local.lane = DirectLane(self._session(), self.base_url, self._timeouts)
            if not isinstance(self._local, _KeptConnections):
                with self._lock:
                    self._sessions.append(lane)  # closed with the sessions
        return lane

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            # One keep-alive Session per thread: Sessions are not safe to share between threads.
            session = keep_alive_session(
                self.base_url, {"Accept": "application/json", "User-Agent": _USER_AGENT}
            )
            self._local.session = session
            if not isinstance(self._local, _KeptConnections):
                with self._lock:
                    self._sessions.append(session)
        return session

    def _unreachable(
        self, exc: requests.RequestException, url: str, is_token: bool, attempts: int
    ) -> OneRosterError:
        reason = describe_transport_error(exc)
        if isinstance(exc, requests.ReadTimeout):
            reason = f"no answer within {self._timeouts[1]:g}s"
        if attempts > 1:
            reason = f"{reason} after {attempts} attempts"
        where, setting = (url, "SIS_TOKEN_URL") if is_token else (self.base_url, "SIS_BASE_URL")
        what = "the Infinite Campus token endpoint" if is_token else "Infinite Campus"
        if not where:
            text = f"No address is configured for {what}: set {setting}"
        else:
            text = f"Cannot reach {what} at {where} ({reason}): check {setting}"
        return OneRosterError(text, kind="unreachable", url=url, attempts=attempts)


def _json_body(payload: Any) -> bytes | None:
    if payload is None:
        return None
    try:
        return json.dumps(payload, allow_nan=False).encode()
    except ValueError as exc:
        raise requests.exceptions.InvalidJSONError(exc) from exc


def _total_count(response: requests.Response) -> int | None:
    try:
        return int(response.headers["X-Total-Count"])
    except (KeyError, ValueError):
        return None


def _category_class(category: dict) -> str | None:
    metadata = category.get("metadata")
    class_id = metadata.get("classId") if isinstance(metadata, dict) else None
    return str(class_id) if class_id not in (None, "") else None


def _quote(sourced_id: str) -> str:
    # A sourcedId is opaque: a "/" or "?" in it must not change the path.
    return quote(str(sourced_id), safe="")
