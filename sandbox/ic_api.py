"""The simulated Infinite Campus: a OneRoster gradebook (1.2, and 1.1) as a WSGI app (stdlib only).

Under `/ims/oneroster/gradebook/v1p2` and `/ims/oneroster/v1p1` (one store behind both):
`GET /classes/{id}/categories`, `PUT|GET|DELETE /lineItems/{id}` and `/results/{id}`, and
`GET /categories`: the district-wide list 1.1 clients read (1.1 categories are not per class);
a 1.2 lineItem still needs one of its class's own categories. The token endpoint is
`POST /oauth/token`; `/_ic/` holds the control endpoints (`sandbox.ic_control`).

Status codes, after the official 1.2 OpenAPI and Google's conformance notebook (reference §1.2,
§1.5): PUT answers 201 when it creates and 200 when it updates (no body either way); DELETE 204;
GET 200. Errors are imsx failures (1.1: wrapped in `statusInfoSet`): 400 for a body that is not
JSON or a bad limit/offset; 401 for a missing, unknown or expired token or a missing or wrong
vendor authorization; 403 for a class these credentials may not write to; 404 when the object
the URL names is unknown; 422 for a well-formed body that is invalid, by the schema or because
what it refers to (class, school, category, lineItem, student) does not fit; 429 with
Retry-After when busy.
"""

import json
import threading
import time
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl

from sandbox import ic_control
from sandbox.faults import DropConnection
from sandbox.generator import District
from sandbox.ic_auth import TokenIssuer
from sandbox.ic_errors import (
    JSON_TYPE,
    STATUS_TEXT,
    GradebookError,
    Response,
    error_response,
)
from sandbox.ic_faults import APPLIED_DROP, IcFaultInjector
from sandbox.ic_gradebook import Gradebook
from sandbox.ic_roster import Roster
from sandbox.ic_store import GradebookStore, IcStats

V12_ROOT = "/ims/oneroster/gradebook/v1p2"
V11_ROOT = "/ims/oneroster/v1p1"
ROOTS = ((V12_ROOT + "/", "1.2"), (V11_ROOT + "/", "1.1"))
TOKEN_PATH = "/oauth/token"
CONTROL_PREFIX = "/_ic/"
DEFAULT_LIMIT = 100
COLLECTIONS = {"lineItems": "lineItem", "results": "result"}
WRITES = ("PUT", "DELETE")


def is_ic_path(path: str) -> bool:
    """Whether a request belongs to the simulated IC (the rest of the server is Canvas)."""
    return path.startswith(("/ims/oneroster/", CONTROL_PREFIX)) or path == TOKEN_PATH


class IcApp:
    """WSGI app: `app(environ, start_response)`. `app.store` holds what it accepted."""

    def __init__(
        self,
        district: District,
        *,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",
        vendor_key: str | None = None,
        vendor_secret: str | None = None,
        token_ttl: float = 3600.0,
        locked_classes: Iterable[str] = (),
        faults: IcFaultInjector | None = None,
        max_in_flight: int = 0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.district = district
        self.roster = Roster(district)
        self.store = GradebookStore()
        self.stats = IcStats()
        self.tokens = TokenIssuer(client_id, client_secret, token_ttl)
        self.vendor_key: str | None = None
        self.vendor_secret: str | None = None
        self.set_vendor(vendor_key, vendor_secret)
        self.gradebook = Gradebook(self.roster, self.store, locked_classes)
        self.faults = faults or IcFaultInjector()
        self.max_in_flight = max_in_flight
        self._in_flight = 0
        self._flight_lock = threading.Lock()
        self._sleep = sleep

    @property
    def locked_classes(self) -> frozenset[str]:
        """Classes these credentials may not write to (403)."""
        return self.gradebook.locked_classes

    @locked_classes.setter
    def locked_classes(self, class_ids: Iterable[str]) -> None:
        self.gradebook.locked_classes = frozenset(class_ids)

    def set_vendor(self, key: str | None, secret: str | None) -> None:
        """Require `x-vendor-authorization: key:secret` on gradebook calls (None: do not)."""
        if bool(key) != bool(secret):
            raise ValueError("a vendor key needs a vendor secret, and the other way round")
        self.vendor_key, self.vendor_secret = key or None, secret or None

    def __call__(self, environ: dict, start_response: Callable) -> list[bytes]:
        status, headers, body = self.respond(environ)
        start_response(f"{status} {STATUS_TEXT.get(status, 'Unknown')}", headers)
        return [body]

    def respond(self, environ: dict) -> Response:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return ic_control.handle(self, environ, path)
        self.stats.request()
        body = environ["wsgi.input"].read() if environ.get("CONTENT_LENGTH", "0") != "0" else b""
        if path == TOKEN_PATH:
            fault = self._draw_fault()
            if fault is not None and fault not in ("slow", APPLIED_DROP):
                return self._fault_response(fault, "1.2")
            outcome, response = self.tokens.token_response(environ, body)
            self.stats.token(outcome)
            if fault == APPLIED_DROP:
                raise DropConnection
            return response
        for root, version in ROOTS:
            if path.startswith(root):
                return self._gradebook(environ, version, path[len(root) - 1 :], body)
        error = GradebookError(404, "unknownobject", f"No such endpoint: {path}")
        return error_response(error, "1.1" if path.startswith(V11_ROOT) else "1.2")

    # --- the gradebook -------------------------------------------------------------------------

    def _gradebook(self, environ: dict, version: str, rest: str, body: bytes) -> Response:
        method = environ.get("REQUEST_METHOD", "GET")
        kind, sourced_id = _route(rest)
        write = method in WRITES
        try:
            if kind is None:
                raise GradebookError(404, "unknownobject", f"No such endpoint: {rest}")
            self._authorize(environ)
        except GradebookError as error:
            return self._count(kind or "unknown", write, error_response(error, version))
        with self._flight_lock:
            busy = self.max_in_flight and self._in_flight >= self.max_in_flight
            if not busy:
                self._in_flight += 1
        if busy:
            self.stats.throttle()
            return error_response(
                GradebookError(
                    429,
                    "server_busy",
                    f"Too many concurrent requests (at most {self.max_in_flight}); retry later",
                    [("Retry-After", "1")],
                ),
                version,
            )
        try:
            fault = self._draw_fault()
            if fault is not None and fault not in ("slow", APPLIED_DROP):
                return self._fault_response(fault, version)
            try:
                response = self._handle(environ, method, version, kind, sourced_id, body)
            except GradebookError as error:
                response = error_response(error, version)
            self._count(kind, write, response)
            if fault == APPLIED_DROP:
                raise DropConnection  # applied, but the client never hears of it
            return response
        finally:
            with self._flight_lock:
                self._in_flight -= 1

    def _authorize(self, environ: dict) -> None:
        problem = self.tokens.problem(environ.get("HTTP_AUTHORIZATION", ""))
        if problem is not None:
            raise GradebookError(
                401,
                "unauthorisedrequest",
                problem,
                [("WWW-Authenticate", 'Bearer error="invalid_token"')],
            )
        if self.vendor_key is None:
            return
        sent = environ.get("HTTP_X_VENDOR_AUTHORIZATION")
        if sent is None:
            raise GradebookError(
                401,
                "unauthorisedrequest",
                "Vendor authorization missing: send x-vendor-authorization: {key}:{secret}",
            )
        if sent != f"{self.vendor_key}:{self.vendor_secret}":
            raise GradebookError(401, "unauthorisedrequest", "Vendor authorization is wrong")

    def _handle(
        self, environ: dict, method: str, version: str, kind: str, sourced_id: str, body: bytes
    ) -> Response:
        gradebook = self.gradebook
        if kind == "categories":
            if method != "GET":
                raise _method_not_allowed(method, "categories", "GET")
            return _categories(environ, gradebook.categories(sourced_id))
        if method == "GET":
            item = gradebook.get(kind, sourced_id)
            return 200, [("Content-Type", JSON_TYPE)], json.dumps({kind: item}).encode()
        if method == "PUT":
            if kind == "lineItem":
                created = gradebook.put_line_item(version, sourced_id, body)
            else:
                created = gradebook.put_result(version, sourced_id, body)
            return (201 if created else 200), [], b""
        if method == "DELETE":
            gradebook.delete(kind, sourced_id)
            return 204, [], b""
        raise _method_not_allowed(method, kind, "GET, PUT or DELETE")

    # --- faults and stats ----------------------------------------------------------------------

    def _draw_fault(self) -> str | None:
        fault = self.faults.draw()
        if fault is None:
            return None
        self.stats.fault(fault)
        if fault == "drop":
            raise DropConnection
        if fault == "slow":
            self._sleep(self.faults.slow_delay)
        return fault

    def _fault_response(self, fault: str, version: str) -> Response:
        if fault == "503":
            return 503, [("Content-Type", "text/plain; charset=utf-8")], b"Service Unavailable"
        if fault == "429":
            retry = [("Retry-After", str(self.faults.retry_after))]
            busy = GradebookError(429, "server_busy", "Server busy; retry at a later time", retry)
            return error_response(busy, version)
        failure = GradebookError(500, "internal_server_error", "Internal server error")
        return error_response(failure, version)

    def _count(self, kind: str, write: bool, response: Response) -> Response:
        if write:
            self.stats.write(kind, response[0])
        else:
            self.stats.read(kind, response[0])
        return response


def _route(rest: str) -> tuple[str | None, str]:
    """(kind, sourcedId) of a path below a root: lineItem, result or categories."""
    parts = rest.split("/")
    if len(parts) == 3 and parts[1] in COLLECTIONS and parts[2]:
        return COLLECTIONS[parts[1]], parts[2]
    if len(parts) == 4 and parts[1] == "classes" and parts[3] == "categories" and parts[2]:
        return "categories", parts[2]
    if len(parts) == 2 and parts[1] == "categories":
        return "categories", ""  # 1.1's global list
    return None, ""


def _method_not_allowed(method: str, kind: str, allowed: str) -> GradebookError:
    return GradebookError(
        405, "invalid_selection_field", f"{method} is not supported on {kind}; use {allowed}"
    )


def _categories(environ: dict, categories: tuple[dict, ...]) -> Response:
    params = dict(parse_qsl(environ.get("QUERY_STRING", "")))
    limit = _whole(params, "limit", DEFAULT_LIMIT, minimum=1)
    offset = _whole(params, "offset", 0, minimum=0)
    headers = [
        ("Content-Type", JSON_TYPE),
        ("X-Total-Count", str(len(categories))),
        ("Link", _links(environ, limit, offset, len(categories))),
    ]
    body = {"categories": list(categories[offset : offset + limit])}
    return 200, headers, json.dumps(body).encode()


def _whole(params: dict, name: str, default: int, *, minimum: int) -> int:
    if name not in params:
        return default
    try:
        value = int(params[name])
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise GradebookError(
            400, "invalid_selection_field", f"{name} must be a whole number >= {minimum}"
        )
    return value


def _links(environ: dict, limit: int, offset: int, total: int) -> str:
    """RFC 5988 next/last links, as OneRoster servers send beside X-Total-Count."""
    host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
    base = f"http://{host}{environ.get('PATH_INFO', '')}"
    links = []
    if offset + limit < total:
        links.append(f'<{base}?limit={limit}&offset={offset + limit}>; rel="next"')
    last = max(0, (total - 1) // limit * limit)
    links.append(f'<{base}?limit={limit}&offset={last}>; rel="last"')
    return ",".join(links)
