"""Canvas writes the sandbox accepts: a teacher's fixes of an assignment's name and due dates.

PUT /api/v1/courses/:course_id/assignments/:id
    assignment[name], assignment[due_at] (ISO 8601; empty: no due date)
PUT /api/v1/courses/:course_id/assignments/:assignment_id/overrides/:id
    assignment_override[due_at] (ISO 8601; empty: overridden to no due date)

Bodies are form-encoded or JSON (nested ``{"assignment": {...}}`` or flat ``assignment[name]``
keys), as Canvas accepts. Answers are the updated object in Canvas's shape; validation errors
are Canvas's ``{"errors": {attribute: [{"attribute", "type", "message"}]}}`` with 400; a user
token may write only to courses its user teaches (403). Edits go into the district's overlay, so
every later read of the course shows them, for the server's lifetime.
"""

import json
from urllib.parse import parse_qsl

from sandbox.generator import District
from sandbox.oauth import Caller
from sandbox.timestamps import iso, parse_iso

JSON_TYPE = "application/json; charset=utf-8"
# Canvas's maximum_string_length for an assignment title (without an account SIS limit).
NAME_MAX_LENGTH = 255
NOT_FOUND = {"errors": [{"message": "The specified resource does not exist."}]}
UNAUTHORIZED = {
    "status": "unauthorized",
    "errors": [{"message": "user not authorized to perform that action"}],
}

Response = tuple[int, list[tuple[str, str]], bytes]


class _Invalid(Exception):
    def __init__(self, attribute: str, kind: str, message: str) -> None:
        super().__init__(message)
        self.errors = {
            "errors": {attribute: [{"attribute": attribute, "type": kind, "message": message}]}
        }


def respond(
    district: District, caller: Caller, ids: tuple[int, ...], body: bytes, ctype: str
) -> Response:
    """PUT of an assignment (ids = course, assignment) or an override (+ override id)."""
    course_id = ids[0]
    if not district.has_course(course_id):
        return _json(404, NOT_FOUND)
    if not caller.is_admin and not _teaches(district, caller.user_id, course_id):
        return _json(403, UNAUTHORIZED)
    try:
        if len(ids) == 2:
            fields = _assignment_fields(_params(body, ctype, "assignment"))
            if not fields:
                row = district.assignment(course_id, ids[1])
            else:
                row = district.update_assignment(course_id, ids[1], fields)
            return _json(200, {k: v for k, v in row.items() if k != "overrides"})
        fields = _override_fields(_params(body, ctype, "assignment_override"))
        if fields:
            row = district.update_override(course_id, ids[1], ids[2], fields)
        else:
            overrides = district.assignment(course_id, ids[1])["overrides"]
            row = next(r for r in overrides if r["id"] == ids[2])
        return _json(200, row)
    except _Invalid as error:
        return _json(400, error.errors)
    except (KeyError, StopIteration):
        return _json(404, NOT_FOUND)


def _teaches(district: District, user_id: int | None, course_id: int) -> bool:
    return any(
        row["type"] == "TeacherEnrollment" and row["user_id"] == user_id
        for row in district.course(course_id).enrollments
    )


def _assignment_fields(params: dict) -> dict:
    fields: dict = {}
    if "name" in params:
        name = params["name"]
        if not isinstance(name, str) or not name.strip():
            raise _Invalid("title", "blank", "blank")
        if len(name) > NAME_MAX_LENGTH:
            raise _Invalid(
                "title",
                "too_long",
                f"The title cannot be longer than {NAME_MAX_LENGTH} characters",
            )
        fields["name"] = name
    if "due_at" in params:
        fields["due_at"] = _due_at(params["due_at"])
    return fields


def _override_fields(params: dict) -> dict:
    if "due_at" not in params:
        return {}
    due_at = _due_at(params["due_at"])
    # Setting the date by hand ends an "all day" date; the key's presence marks it overridden.
    return {"due_at": due_at, "all_day": False, "all_day_date": None}


def _due_at(value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise _Invalid("due_at", "invalid", "Invalid datetime for due_at")
    try:
        moment = parse_iso(value)
    except ValueError:
        raise _Invalid("due_at", "invalid", "Invalid datetime for due_at") from None
    return iso(int(moment.timestamp()))


def _params(body: bytes, ctype: str, root: str) -> dict:
    """The ``root[...]`` parameters of a form or JSON body, as a flat dict."""
    if not body:
        return {}
    if ctype.split(";")[0].strip().lower() == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            raise _Invalid(root, "invalid", "Invalid JSON body") from None
        if not isinstance(data, dict):
            return {}
        nested = data.get(root)
        if isinstance(nested, dict):
            return nested
        pairs = list(data.items())
    else:
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    prefix = f"{root}["
    return {
        key[len(prefix) : -1]: value
        for key, value in pairs
        if key.startswith(prefix) and key.endswith("]")
    }


def _json(status: int, payload: dict) -> Response:
    return status, [("Content-Type", JSON_TYPE)], json.dumps(payload).encode()
