"""The Canvas REST API of the simulated district, as a WSGI app (stdlib only).

Serves exactly the endpoints of ARCHITECTURE section 4, with Canvas's auth errors, Link
pagination, throttling headers and (optionally) injected faults; `/_sandbox/` holds the
control endpoints of `sandbox.control_api`.
"""

import json
import re
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from sandbox import canvas_writes, control_api
from sandbox.faults import DropConnection, FaultInjector
from sandbox.generator import District
from sandbox.layout import ROOT_ACCOUNT_ID
from sandbox.oauth import Caller, OAuthProvider
from sandbox.pagination import (
    FIRST_PAGE,
    BadPage,
    decode_cursor,
    encode_cursor,
    link_header,
    per_page,
    slice_after,
)
from sandbox.stats import ServerStats
from sandbox.throttle import LeakyBucket
from sandbox.timestamps import iso_ceil, parse_iso

JSON_TYPE = "application/json; charset=utf-8"
KNOWN_COURSE_STATES = {"unpublished", "available", "completed", "deleted"}
ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)
MALFORMED_BODY = b'[{"id": 1, "name": "Broken assignment", "points_possible": 1'

ROUTES = (
    (re.compile(r"/api/v1/accounts/(\d+)/sub_accounts"), "sub_accounts"),
    (re.compile(r"/api/v1/accounts/(\d+)/terms"), "terms"),
    (re.compile(r"/api/v1/accounts/(\d+)/courses"), "courses"),
    (re.compile(r"/api/v1/courses/(\d+)/sections"), "sections"),
    (re.compile(r"/api/v1/courses/(\d+)/assignment_groups"), "assignment_groups"),
    (re.compile(r"/api/v1/courses/(\d+)/assignments"), "assignments"),
    (re.compile(r"/api/v1/courses/(\d+)/enrollments"), "enrollments"),
    (re.compile(r"/api/v1/courses/(\d+)/students/submissions"), "submissions"),
    # Single objects (sandbox.oauth, sandbox.canvas_writes): not lists.
    (re.compile(r"/api/v1/users/self"), "users_self"),
    (re.compile(r"/api/v1/courses/(\d+)/assignments/(\d+)"), "assignment"),
    (re.compile(r"/api/v1/courses/(\d+)/assignments/(\d+)/overrides/(\d+)"), "override"),
)
WRITE_KINDS = ("assignment", "override")

Response = tuple[int, list[tuple[str, str]], bytes]
Params = list[tuple[str, str]]


class NotFound(Exception):
    pass


class BadRequest(Exception):
    pass


@dataclass(slots=True)
class Listing:
    """One page's worth of work: rows sorted by key, and how to wrap them."""

    rows: list[dict]
    keys: list[int]
    wrapper: str | None = None
    raw_body: bytes | None = None  # served instead of JSON (a corrupted course)


def canvas_error(status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    body = json.dumps({"errors": [{"message": message}]}).encode()
    return status, [("Content-Type", JSON_TYPE), *headers], body


def text(status: int, body: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return status, [("Content-Type", "text/plain; charset=utf-8"), *headers], body.encode()


class CanvasApp:
    """WSGI app: `app(environ, start_response)`."""

    def __init__(
        self,
        district: District,
        *,
        token: str = "sandbox-token",
        throttle: LeakyBucket | None = None,
        faults: FaultInjector | None = None,
        legacy_throttle: bool = False,
        request_cost: float = 0.05,
        stats: ServerStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
        oauth: OAuthProvider | None = None,
    ) -> None:
        self.district = district
        self.token = token
        self.oauth = oauth or OAuthProvider(district)
        self.throttle = throttle or LeakyBucket()
        self.faults = faults or FaultInjector()
        self.legacy_throttle = legacy_throttle
        self.request_cost = request_cost
        self.stats = stats or ServerStats()
        self._sleep = sleep

    def __call__(self, environ: dict, start_response: Callable) -> list[bytes]:
        status, headers, body = self.respond(environ)
        start_response(f"{status} {STATUS_TEXT.get(status, 'Unknown')}", headers)
        return [body]

    def respond(self, environ: dict) -> Response:
        path = environ.get("PATH_INFO", "")
        params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/_sandbox/"):
            status, payload = control_api.handle(self, method, path, params)
            self.stats.record("control", status)
            return status, [("Content-Type", JSON_TYPE)], json.dumps(payload).encode()
        if path.startswith("/login/oauth2/"):
            query, ctype = environ.get("QUERY_STRING", ""), environ.get("CONTENT_TYPE", "")
            answer = self.oauth.respond(method, path, query, _body(environ), ctype)
            self.stats.record("oauth", answer[0])
            return answer
        if not path.startswith("/api/"):
            return self._index() if path == "/" else canvas_error(404, "Page not found.")
        kind = next((name for pattern, name in ROUTES if pattern.fullmatch(path)), None)
        return self._api(environ, method, path, params, kind)

    def _index(self) -> Response:
        """What a person opening the sandbox in a browser needs to know."""
        about = {
            "sandbox": "simulated Canvas LMS",
            "size": self.district.size,
            "seed": self.district.seed,
            "api": "/api/v1 (Authorization: Bearer <token>)",
            "root_account_id": ROOT_ACCOUNT_ID,
            "control": "/_sandbox/stats, /_sandbox/totals, POST /_sandbox/change_grades, ...",
        }
        return 200, [("Content-Type", JSON_TYPE)], json.dumps(about, indent=2).encode()

    def _api(
        self, environ: dict, method: str, path: str, params: Params, kind: str | None
    ) -> Response:
        token = _bearer(environ.get("HTTP_AUTHORIZATION", ""))
        # The configured token is the district admin's; OAuth grants act as one user.
        caller = Caller(None) if token == self.token else self.oauth.caller(token)
        if caller is None:
            self.stats.record(kind or "unknown", 401)
            return canvas_error(
                401,
                "Invalid access token.",
                [
                    ("WWW-Authenticate", 'Bearer realm="canvas-lms"'),
                    ("X-Request-Cost", "0.0"),
                    ("X-Rate-Limit-Remaining", f"{self.throttle.capacity:.1f}"),
                ],
            )
        admission = self.throttle.admit(token)
        if not admission.allowed:
            self.stats.record_throttled()
            self.stats.record(kind or "unknown", 403 if self.legacy_throttle else 429)
            return self._throttled(admission.retry_after)
        cost, items = self.request_cost, 0
        try:
            fault = self.faults.draw()
            if fault is not None:
                self.stats.record_fault(fault)
                if fault == "drop":
                    self.stats.record(kind or "unknown", "dropped")
                    raise DropConnection
                if fault == "slow":
                    self._sleep(self.faults.slow_delay)
                else:
                    self.stats.record(kind or "unknown", int(fault))
                    return self._fault_response(fault, token)
            if kind == "users_self" and method == "GET":
                body = json.dumps(self.oauth.user_json(caller)).encode()
                status, headers = 200, [("Content-Type", JSON_TYPE)]
            elif kind in WRITE_KINDS and method == "PUT":
                ids = _route_ids(kind, path)
                ctype = environ.get("CONTENT_TYPE", "")
                answer = canvas_writes.respond(self.district, caller, ids, _body(environ), ctype)
                status, headers, body = answer
            elif kind is None or method != "GET" or kind in WRITE_KINDS:
                status, headers, body = canvas_error(404, "The specified resource does not exist.")
            else:
                status, headers, body, items = self._list(environ, kind, path, params)
            cost = self.request_cost * (1 + items / 100)
        finally:
            remaining = self.throttle.settle(token, cost)
        self.stats.record(kind or "unknown", status, items)
        headers += [
            ("X-Request-Cost", f"{cost:.4f}"),
            ("X-Rate-Limit-Remaining", f"{remaining:.2f}"),
        ]
        return status, headers, body

    def _throttled(self, retry_after: int) -> Response:
        headers = [
            ("Retry-After", str(retry_after)),
            ("X-Request-Cost", "0.0"),
            ("X-Rate-Limit-Remaining", "0.0"),
        ]
        if self.legacy_throttle:
            return text(403, "403 Forbidden (Rate Limit Exceeded)", headers)
        return text(429, "429 Too Many Requests (Rate Limit Exceeded)", headers)

    def _fault_response(self, fault: str, token: str) -> Response:
        headers = [
            ("X-Request-Cost", "0.0"),
            ("X-Rate-Limit-Remaining", f"{self.throttle.remaining(token):.2f}"),
        ]
        if fault == "429":
            headers.append(("Retry-After", str(self.faults.retry_after)))
            return text(429, "429 Too Many Requests (Rate Limit Exceeded)", headers)
        if fault == "503":
            return text(503, "503 Service Unavailable", headers)
        return canvas_error(500, "An error occurred.", headers)

    def _list(
        self, environ: dict, kind: str, path: str, params: Params
    ) -> tuple[int, list, bytes, int]:
        try:
            size = per_page(params)
            page = _value(params, "page")
            after = decode_cursor(page)
            if kind == "courses":
                listing = None
                rows, last, more = self._course_page(path, params, after, size)
            else:
                listing = self._listing(kind, path, params)
                rows, last, more = slice_after(listing.rows, listing.keys, after, size)
        except NotFound:
            return (*canvas_error(404, "The specified resource does not exist."), 0)
        except BadPage:
            return (*canvas_error(400, "Invalid page parameter."), 0)
        except BadRequest as error:
            return (*canvas_error(400, str(error)), 0)
        if listing is not None and listing.raw_body is not None:
            body = listing.raw_body
        elif listing is not None and listing.wrapper:
            body = ENCODER.encode({listing.wrapper: rows}).encode()
        else:
            body = ENCODER.encode(rows).encode()
        host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        next_page = encode_cursor(last) if more and last is not None else None
        query = environ.get("QUERY_STRING", "")
        link = link_header(f"http://{host}", path, query, page or FIRST_PAGE, next_page)
        return 200, [("Content-Type", JSON_TYPE), ("Link", link)], body, len(rows)

    def _course_page(
        self, path: str, params: Params, after: int | None, size: int
    ) -> tuple[list[dict], int | None, bool]:
        """Scans course summaries from the cursor on: they are computed, never all held."""
        if int(ROUTES[2][0].fullmatch(path).group(1)) != ROOT_ACCOUNT_ID:
            raise NotFound
        states = set(_values(params, "state[]"))
        with_term = "term" in _values(params, "include[]")
        ids = self.district.course_ids()
        start = 0 if after is None else bisect_right(ids, after)
        rows: list[dict] = []
        for course_id in ids[start:]:
            row = self.district.course_summary(course_id)
            state = row["workflow_state"]
            # A state this Canvas does not know is always listed: it is a test of bad input.
            if states and state not in states and state in KNOWN_COURSE_STATES:
                continue
            if len(rows) == size:
                return rows, rows[-1]["id"], True
            rows.append(row if with_term else {k: v for k, v in row.items() if k != "term"})
        return rows, rows[-1]["id"] if rows else None, False

    def _listing(self, kind: str, path: str, params: Params) -> Listing:
        match = next(pattern.fullmatch(path) for pattern, name in ROUTES if name == kind)
        owner = int(match.group(1))
        if kind in ("sub_accounts", "terms"):
            if owner != ROOT_ACCOUNT_ID:
                raise NotFound
            return self._account_listing(kind, params)
        if not self.district.has_course(owner):
            raise NotFound
        data = self.district.course(owner)
        if kind == "assignments":
            include = _values(params, "include[]")
            rows = data.rows("assignments", overrides="overrides" in include)
            raw = MALFORMED_BODY if data.malformed_assignments else None
            return Listing(rows, data.keys["assignments"], raw_body=raw)
        if kind == "enrollments":
            return _filter_enrollments(data.enrollments, data.keys["enrollments"], params)
        if kind == "submissions":
            return _filter_submissions(data.submissions, data.keys["submissions"], params)
        return Listing(data.rows(kind), data.keys[kind])

    def _account_listing(self, kind: str, params: Params) -> Listing:
        if kind == "terms":
            rows = self.district.terms()
            return Listing(rows, [row["id"] for row in rows], wrapper="enrollment_terms")
        if kind == "sub_accounts":
            rows = self.district.accounts()
            if _value(params, "recursive") != "true":
                rows = [row for row in rows if row["parent_account_id"] == ROOT_ACCOUNT_ID]
            return Listing(rows, [row["id"] for row in rows])
        raise NotFound


def _filter_enrollments(rows: list[dict], keys: list[int], params: Params) -> Listing:
    types = set(_values(params, "type[]"))
    states = set(_values(params, "state[]"))
    if states and "active" not in states:
        return Listing([], [])
    if not types:
        return Listing(rows, keys)
    kept = [(row, key) for row, key in zip(rows, keys, strict=True) if row["type"] in types]
    return Listing([row for row, _ in kept], [key for _, key in kept])


def _filter_submissions(rows: list[dict], keys: list[int], params: Params) -> Listing:
    students = _values(params, "student_ids[]")
    since = _value(params, "graded_since")
    assignment_ids = {int(v) for v in _values(params, "assignment_ids[]") if v.isdigit()}
    if not students:
        return Listing([], [])  # Canvas: without student_ids only the caller's own submissions
    wanted = None if "all" in students else {int(v) for v in students if v.isdigit()}
    if since is not None:
        try:
            since = iso_ceil(parse_iso(since))
        except ValueError as error:
            raise BadRequest("Invalid graded_since.") from error
    if wanted is None and since is None and not assignment_ids:
        return Listing(rows, keys)
    kept_rows, kept_keys = [], []
    for row, key in zip(rows, keys, strict=True):
        if since is not None and (row.get("graded_at") is None or row["graded_at"] < since):
            continue
        if wanted is not None and row["user_id"] not in wanted:
            continue
        if assignment_ids and row["assignment_id"] not in assignment_ids:
            continue
        kept_rows.append(row)
        kept_keys.append(key)
    return Listing(kept_rows, kept_keys)


def _route_ids(kind: str, path: str) -> tuple[int, ...]:
    match = next(pattern.fullmatch(path) for pattern, name in ROUTES if name == kind)
    return tuple(int(group) for group in match.groups())


def _body(environ: dict) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _bearer(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _value(params: Params, name: str) -> str | None:
    return next((v for k, v in params if k == name), None)


def _values(params: Params, name: str) -> list[str]:
    return [v for k, v in params if k == name]


STATUS_TEXT = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
