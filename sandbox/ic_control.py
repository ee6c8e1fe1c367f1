"""Control endpoints of the simulated IC under /_ic/ (no auth), for tests, benchmarks and demos.

GET  /_ic/stats                                  accepted/rejected writes by kind and status,
                                                 reads, tokens, faults, what is stored
POST /_ic/reset                                  forget every lineItem, result, log entry, count
GET  /_ic/config                                 the current settings
POST /_ic/config?name=value&...                  change settings (query or JSON object body):
     vendor_key, vendor_secret ("" = not required), locked_classes (comma list), token_ttl,
     client_id, client_secret, faults (rate), fault_kinds (comma list), slow_delay,
     max_in_flight (0 = unlimited)
GET  /_ic/lineItems[?class=C]                    stored lineItems, with their write counts
GET  /_ic/results[?lineItem=L][&limit=&offset=]  stored results (default limit 1000)
GET  /_ic/log[?since=N][&limit=M]                accepted writes after entry N, oldest first
GET  /_ic/classes?course_id=N                    the classes IC derives from a Canvas course
GET  /_ic/classes/{sourcedId}                    one class: school, students, categories
"""

import json
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from sandbox.ic_errors import JSON_TYPE, Response
from sandbox.ic_faults import IcFaultInjector

if TYPE_CHECKING:
    from sandbox.ic_api import IcApp

DEFAULT_RESULTS_LIMIT = 1000
DEFAULT_LOG_LIMIT = 10_000
MAX_LIMIT = 100_000


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def handle(app: "IcApp", environ: dict, path: str) -> Response:
    action = path.removeprefix("/_ic/").strip("/")
    method = environ.get("REQUEST_METHOD", "GET")
    query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    try:
        if action.startswith("classes/"):
            payload = _class(app, action.removeprefix("classes/"))
        else:
            function = ACTIONS.get((method, action))
            if function is None:
                methods = [m for m, name in ACTIONS if name == action]
                if not methods:
                    raise ControlError(404, f"unknown control endpoint {path}")
                raise ControlError(405, f"use {' or '.join(methods)} for {path}")
            if method == "POST":
                query |= _json_object(environ)
            payload = function(app, query)
        status = 200
    except ControlError as error:
        status, payload = error.status, {"error": str(error)}
    return status, [("Content-Type", JSON_TYPE)], json.dumps(payload).encode()


def _json_object(environ: dict) -> dict:
    length = environ.get("CONTENT_LENGTH") or "0"
    raw = environ["wsgi.input"].read() if length != "0" else b""
    if not raw.strip() or environ.get("CONTENT_TYPE", "").startswith("application/x-www"):
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        body = json.loads(raw)
    except ValueError:
        raise ControlError(400, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


def _number(query: dict, name: str, kind: type = int, default: object = None):
    if name not in query:
        if default is None:
            raise ControlError(400, f"missing parameter {name}")
        return default
    try:
        return kind(query[name])
    except (TypeError, ValueError):
        raise ControlError(400, f"parameter {name} must be a number") from None


def _names(value: object) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if str(v))
    return tuple(part.strip() for part in str(value).split(",") if part.strip())


def _stats(app: "IcApp", query: dict) -> dict:
    return {**app.stats.as_json(), "stored": app.store.counts(), "config": _config(app, {})}


def _reset(app: "IcApp", query: dict) -> dict:
    app.store.clear()
    app.stats.reset()
    return {"reset": True}


def _config(app: "IcApp", query: dict) -> dict:
    faults = app.faults
    return {
        "client_id": app.tokens.client_id,
        "client_secret": app.tokens.client_secret,
        "vendor_key": app.vendor_key,
        "vendor_secret": app.vendor_secret,
        "token_ttl": app.tokens.ttl,
        "locked_classes": sorted(app.locked_classes),
        "faults": faults.rate,
        "fault_kinds": list(faults.kinds),
        "slow_delay": faults.slow_delay,
        "max_in_flight": app.max_in_flight,
    }


def _configure(app: "IcApp", query: dict) -> dict:
    """Validates every change first, then applies them all."""
    tokens, faults = app.tokens, app.faults
    vendor = (
        query.get("vendor_key", app.vendor_key),
        query.get("vendor_secret", app.vendor_secret),
    )
    if bool(vendor[0]) != bool(vendor[1]):
        raise ControlError(400, "vendor_key and vendor_secret go together")
    ttl = _number(query, "token_ttl", float, tokens.ttl)
    max_in_flight = _number(query, "max_in_flight", int, app.max_in_flight)
    if ttl <= 0 or max_in_flight < 0:
        raise ControlError(400, "token_ttl must be positive and max_in_flight at least 0")
    locked = _names(query["locked_classes"]) if "locked_classes" in query else app.locked_classes
    new_faults = faults
    if {"faults", "fault_kinds", "slow_delay"} & query.keys():
        try:
            new_faults = IcFaultInjector(
                _number(query, "faults", float, faults.rate),
                seed=faults.seed,
                kinds=_names(query["fault_kinds"]) if "fault_kinds" in query else faults.kinds,
                slow_delay=_number(query, "slow_delay", float, faults.slow_delay),
                retry_after=faults.retry_after,
            )
        except ValueError as error:
            raise ControlError(400, str(error)) from None
    tokens.client_id = str(query.get("client_id", tokens.client_id))
    tokens.client_secret = str(query.get("client_secret", tokens.client_secret))
    tokens.ttl = ttl
    app.set_vendor(*vendor)
    app.locked_classes = frozenset(locked)
    app.max_in_flight = max_in_flight
    app.faults = new_faults
    return _config(app, {})


def _line_items(app: "IcApp", query: dict) -> dict:
    rows = []
    for sourced_id in app.store.line_item_ids(query.get("class") or None):
        record = app.store.line_items.get(sourced_id)
        item = app.store.line_item(sourced_id)
        if record is None or item is None:
            continue  # deleted meanwhile
        rows.append(
            {
                "sourcedId": sourced_id,
                "class": record.ref,
                "writes": record.writes,
                "lineItem": item,
            }
        )
    return {"count": len(rows), "lineItems": rows}


def _results(app: "IcApp", query: dict) -> dict:
    limit = min(MAX_LIMIT, max(1, _number(query, "limit", int, DEFAULT_RESULTS_LIMIT)))
    offset = max(0, _number(query, "offset", int, 0))
    line_item = query.get("lineItem")
    ids = app.store.results_of(line_item) if line_item else app.store.result_ids()
    rows = []
    for sourced_id in ids[offset : offset + limit]:
        record = app.store.results.get(sourced_id)
        result = app.store.result(sourced_id)
        if record is None or result is None:
            continue
        rows.append(
            {
                "sourcedId": sourced_id,
                "lineItem": record.ref,
                "writes": record.writes,
                "result": result,
            }
        )
    return {"count": len(ids), "offset": offset, "limit": limit, "results": rows}


def _log(app: "IcApp", query: dict) -> dict:
    since = max(0, _number(query, "since", int, 0))
    limit = min(MAX_LIMIT, max(1, _number(query, "limit", int, DEFAULT_LOG_LIMIT)))
    entries = [entry.as_json() for entry in app.store.log_entries(since, limit)]
    return {
        "total": app.store.counts()["log_entries"],
        "since": since,
        "next": entries[-1]["seq"] if entries else since,
        "entries": entries,
    }


def _classes(app: "IcApp", query: dict) -> dict:
    course_id = _number(query, "course_id")
    if not app.district.has_course(course_id):
        raise ControlError(404, f"no course {course_id}")
    classes = app.roster.classes_of_course(course_id)
    return {"classes": [klass.as_json() for klass in classes.values()]}


def _class(app: "IcApp", sourced_id: str) -> dict:
    klass = app.roster.get(sourced_id)
    if klass is None:
        raise ControlError(404, f"no class {sourced_id!r}")
    return klass.as_json()


ACTIONS = {
    ("GET", "stats"): _stats,
    ("POST", "reset"): _reset,
    ("GET", "config"): _config,
    ("POST", "config"): _configure,
    ("GET", "lineItems"): _line_items,
    ("GET", "results"): _results,
    ("GET", "log"): _log,
    ("GET", "classes"): _classes,
}
