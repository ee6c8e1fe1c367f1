"""Checks gradebook payloads against the official OneRoster 1.2 schema, compiled to plain Python.

The vendored 1EdTech OpenAPI document (`sandbox/schema/`) is compiled once into nested closures
that know their field path, so a result is checked in microseconds and every error names the
field it is about (`result.scoreStatus: ...`). The compiler covers the JSON Schema subset the
document uses: `$ref`, `type`, `properties`, `required`, `additionalProperties`, `enum`,
`pattern`, `format` (date-time, date, uri), `anyOf`, `items` and `minItems`.
"""

import json
import math
import re
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = "onerosterv1p2gradebookservice_openapi3_v1p0.json"
SCHEMA_PATH = Path(__file__).with_name("schema") / SCHEMA_FILE
REF_PREFIX = "#/components/schemas/"

# OneRoster 1.1 has no machine-readable schema (reference §3.1). Its payloads are checked with the
# 1.2 types but 1.1's required lists, GUIDRefs that need only a sourcedId (what 1.1 clients
# send), unknown fields ignored (1.1 clients often send 1.2 fields such as `school`), and a
# scoreDate that may also be a date-time (IC's own 1.1 test harness sends one).
V11_REQUIRED = {
    "LineItemDType": ("title", "assignDate", "dueDate", "class"),
    "ResultDType": ("lineItem", "student", "scoreStatus", "scoreDate"),
}
# Clients commonly serialise "no score" as null, and an exempt result has no score; the schema
# says number. Null is accepted there and nowhere else.
NULLABLE = frozenset({"result.score"})

Check = Callable[[Any], None]

_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")


class SchemaError(ValueError):
    """A payload does not match the schema; `path` is the dotted field path."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem


@cache
def load_schema() -> dict:
    with SCHEMA_PATH.open(encoding="utf-8") as handle:
        return json.load(handle)


def is_date_time(value: str) -> bool:
    if _DATE_TIME.fullmatch(value) is None:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_date(value: str) -> bool:
    if _DATE.fullmatch(value) is None:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_date_or_date_time(value: str) -> bool:
    return is_date(value) or is_date_time(value)


def _is_uri(value: str) -> bool:
    return _URI.fullmatch(value) is not None


FORMATS: dict[str, tuple[Callable[[str], bool], str]] = {
    "date-time": (is_date_time, "an ISO 8601 date-time with a time zone (YYYY-MM-DDThh:mm:ssZ)"),
    "date": (is_date, "an ISO 8601 date (YYYY-MM-DD)"),
    "uri": (_is_uri, "an absolute URI"),
}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class _Compiler:
    def __init__(self, schemas: dict, *, relaxed: bool) -> None:
        self.schemas = schemas
        self.relaxed = relaxed

    def named(self, name: str, path: str, depth: int = 0) -> Check:
        if depth > 32:
            raise ValueError(f"schema {name} nests too deeply (a cycle?)")
        return self.compile(self.schemas[name], path, name, depth + 1)

    def compile(self, node: dict, path: str, name: str = "", depth: int = 0) -> Check:
        if "$ref" in node:
            return self.named(node["$ref"].removeprefix(REF_PREFIX), path, depth)
        if "anyOf" in node:
            return self._any_of(node, path, depth)
        kind = node.get("type")
        if kind == "object":
            return self._object(node, path, name, depth)
        if kind == "array":
            return self._array(node, path, depth)
        if kind == "string":
            return self._string(node, path)
        if kind in ("number", "integer"):
            return self._number(path, integer=kind == "integer")
        if kind == "boolean":
            return self._boolean(path)
        return lambda value: None  # no constraint

    def _object(self, node: dict, path: str, name: str, depth: int) -> Check:
        properties = node.get("properties", {})
        required = tuple(node.get("required", ()))
        if self.relaxed:
            required = V11_REQUIRED.get(name, required)
            if name.endswith("GUIDRefDType"):
                required = ("sourcedId",)
        closed = node.get("additionalProperties", True) is False and not self.relaxed
        allowed = frozenset(properties)
        children: dict[str, Check] = {}
        for key, sub in properties.items():
            child_path = _child(path, key)
            check = self.compile(sub, child_path, depth=depth)
            children[key] = _nullable(check) if child_path in NULLABLE else check

        def check_object(value: Any) -> None:
            if type(value) is not dict:
                raise SchemaError(path, f"must be an object, not {json_type(value)}")
            for key in required:
                if key not in value:
                    raise SchemaError(_child(path, key), "required field is missing")
            if closed and not value.keys() <= allowed:
                extra = sorted(value.keys() - allowed)[0]
                raise SchemaError(_child(path, extra), "unknown field (not in the schema)")
            for key, item in value.items():
                check = children.get(key)
                if check is not None:
                    check(item)

        return check_object

    def _array(self, node: dict, path: str, depth: int) -> Check:
        items = self.compile(node.get("items", {}), f"{path}[]", depth=depth)
        min_items = node.get("minItems", 0)

        def check_array(value: Any) -> None:
            if type(value) is not list:
                raise SchemaError(path, f"must be an array, not {json_type(value)}")
            if len(value) < min_items:
                raise SchemaError(path, f"must hold at least {min_items} item(s)")
            for index, item in enumerate(value):
                try:
                    items(item)
                except SchemaError as error:
                    where = error.path.replace(f"{path}[]", f"{path}[{index}]", 1)
                    raise SchemaError(where, error.problem) from None

        return check_array

    def _string(self, node: dict, path: str) -> Check:
        enum = frozenset(node["enum"]) if "enum" in node else None
        listing = ", ".join(repr(v) for v in node.get("enum", ()))
        pattern = re.compile(node["pattern"]) if "pattern" in node else None
        test, described = FORMATS.get(node.get("format", ""), (None, ""))
        if self.relaxed and node.get("format") == "date":
            test, described = _is_date_or_date_time, "an ISO 8601 date or date-time"

        def check_string(value: Any) -> None:
            if type(value) is not str:
                raise SchemaError(path, f"must be a string, not {json_type(value)}")
            if enum is not None and value not in enum:
                raise SchemaError(path, f"{value!r} is not one of {listing}")
            # JSON Schema patterns are unanchored (ECMA-262 search), as in the official schema.
            if pattern is not None and pattern.search(value) is None:
                raise SchemaError(path, f"{value!r} does not match {pattern.pattern}")
            if test is not None and not test(value):
                raise SchemaError(path, f"{value!r} is not {described}")

        return check_string

    def _number(self, path: str, *, integer: bool) -> Check:
        def check_number(value: Any) -> None:
            kind = type(value)
            if kind is int:
                return
            if kind is not float or integer:
                wanted = "an integer" if integer else "a number"
                raise SchemaError(path, f"must be {wanted}, not {json_type(value)}")
            if not math.isfinite(value):
                raise SchemaError(path, "must be a finite number")

        return check_number

    def _boolean(self, path: str) -> Check:
        def check_boolean(value: Any) -> None:
            if type(value) is not bool:
                raise SchemaError(path, f"must be true or false, not {json_type(value)}")

        return check_boolean

    def _any_of(self, node: dict, path: str, depth: int) -> Check:
        # Alternatives with an enum first: the common values then pass on the first try.
        alternatives = sorted(node["anyOf"], key=lambda sub: "enum" not in sub)
        options = [self.compile(sub, path, depth=depth) for sub in alternatives]
        wanted = " or ".join(_describe(sub) for sub in alternatives)

        def check_any(value: Any) -> None:
            for option in options:
                try:
                    option(value)
                except SchemaError:
                    continue
                return
            raise SchemaError(path, f"{value!r} must be {wanted}")

        return check_any


def _nullable(check: Check) -> Check:
    def check_or_null(value: Any) -> None:
        if value is not None:
            check(value)

    return check_or_null


def _describe(node: dict) -> str:
    if "enum" in node:
        return "one of " + ", ".join(repr(v) for v in node["enum"])
    if "pattern" in node:
        return f"a string matching {node['pattern']}"
    return f"a {node.get('type', 'value')}"


class PayloadValidator:
    """Schema checks for one OneRoster version: `validator.line_item(body)` returns the lineItem
    of a `{"lineItem": {...}}` body, or raises SchemaError naming the offending field."""

    def __init__(self, version: str = "1.2", schema: dict | None = None) -> None:
        if version not in ("1.1", "1.2"):
            raise ValueError(f"unknown OneRoster version {version!r}")
        self.version = version
        self._compiler = _Compiler(
            (schema or load_schema())["components"]["schemas"], relaxed=version == "1.1"
        )
        self._line_item = self._compiler.named("SingleLineItemDType", "")
        self._result = self._compiler.named("SingleResultDType", "")

    def line_item(self, body: Any) -> dict:
        self._line_item(body)
        return body["lineItem"]

    def result(self, body: Any) -> dict:
        self._result(body)
        return body["result"]

    def check(self, schema_name: str, value: Any, path: str = "") -> None:
        """Any schema of the document by name, e.g. "CategoriesSetDType" (compiled each call)."""
        self._compiler.named(schema_name, path)(value)
