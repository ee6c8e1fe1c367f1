"""Control endpoints under /_sandbox/ (no auth): stats, mutations and counts for tests and demos.

GET  /_sandbox/stats                       what the server did (requests per kind, faults, ...)
POST /_sandbox/stats/reset                 zero the counters
GET  /_sandbox/totals[?per_page=100]       district-wide item counts and the fewest requests
GET  /_sandbox/course_sizes?course_id=N    items each list endpoint of a course returns
POST /_sandbox/change_grades?fraction=F    re-grade that share of graded submissions
POST /_sandbox/change_assignments?count=N  edit N assignments
POST /_sandbox/corrupt?course_id=N&kind=K  break one course's data (see CORRUPTION_KINDS)
POST /_sandbox/delete_assignment?course_id=N&assignment_id=A
POST /_sandbox/delete_section?course_id=N&section_id=S
POST /_sandbox/rename_section_sis?course_id=N&section_id=S&sis_section_id=X (empty: none)
POST /_sandbox/reset                       drop every mutation
POST /_sandbox/expire_tokens               every teacher's OAuth access token expires now
POST /_sandbox/revoke_tokens               forget every teacher's OAuth grant (refresh fails)
"""

from typing import TYPE_CHECKING

from sandbox.overlay import CORRUPTION_KINDS

if TYPE_CHECKING:
    from sandbox.canvas_api import CanvasApp

Params = list[tuple[str, str]]


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def handle(app: "CanvasApp", method: str, path: str, params: Params) -> tuple[int, dict]:
    action = path.removeprefix("/_sandbox/").strip("/")
    handler = ACTIONS.get(action)
    if handler is None:
        return 404, {"error": f"unknown control endpoint {path}"}
    wanted_method, function = handler
    if method != wanted_method:
        return 405, {"error": f"use {wanted_method} for {path}"}
    query = dict(params)
    try:
        return 200, function(app, query)
    except ControlError as error:
        return error.status, {"error": str(error)}
    except KeyError as error:
        return 404, {"error": f"no such item: {error.args[0]}"}
    except ValueError as error:
        return 400, {"error": str(error)}


def _number(query: dict, name: str, kind: type = int):
    if name not in query:
        raise ControlError(400, f"missing parameter {name}")
    try:
        return kind(query[name])
    except ValueError:
        raise ControlError(400, f"parameter {name} must be a number") from None


def _stats(app: "CanvasApp", query: dict) -> dict:
    district = app.district
    return {
        **app.stats.as_json(),
        "size": district.size,
        "seed": district.seed,
        "overlay_version": district.overlay_version,
        "fault_rate": app.faults.rate,
    }


def _reset_stats(app: "CanvasApp", query: dict) -> dict:
    app.stats.reset()
    return {"reset": True}


def _totals(app: "CanvasApp", query: dict) -> dict:
    per_page = _number(query, "per_page") if "per_page" in query else 100
    return app.district.totals(per_page=per_page)


def _course_sizes(app: "CanvasApp", query: dict) -> dict:
    return app.district.course_list_sizes(_number(query, "course_id"))


def _change_grades(app: "CanvasApp", query: dict) -> dict:
    changed = app.district.change_grades(_number(query, "fraction", float))
    return {"changed": changed}


def _change_assignments(app: "CanvasApp", query: dict) -> dict:
    return {"changed": app.district.change_assignments(_number(query, "count"))}


def _corrupt(app: "CanvasApp", query: dict) -> dict:
    kind = query.get("kind", "")
    if kind not in CORRUPTION_KINDS:
        raise ControlError(400, f"kind must be one of {', '.join(CORRUPTION_KINDS)}")
    course_id = _number(query, "course_id")
    app.district.corrupt_course(course_id, kind)
    return {"course_id": course_id, "kind": kind}


def _delete_assignment(app: "CanvasApp", query: dict) -> dict:
    course_id, assignment_id = _number(query, "course_id"), _number(query, "assignment_id")
    app.district.delete_assignment(course_id, assignment_id)
    return {"deleted": assignment_id}


def _delete_section(app: "CanvasApp", query: dict) -> dict:
    course_id, section_id = _number(query, "course_id"), _number(query, "section_id")
    app.district.delete_section(course_id, section_id)
    return {"deleted": section_id}


def _rename_section_sis(app: "CanvasApp", query: dict) -> dict:
    course_id, section_id = _number(query, "course_id"), _number(query, "section_id")
    new_sis = query.get("sis_section_id") or None
    app.district.rename_section_sis(course_id, section_id, new_sis)
    return {"section_id": section_id, "sis_section_id": new_sis}


def _reset(app: "CanvasApp", query: dict) -> dict:
    app.district.reset()
    return {"reset": True, "overlay_version": app.district.overlay_version}


def _expire_tokens(app: "CanvasApp", query: dict) -> dict:
    return {"expired": app.oauth.expire_access_tokens()}


def _revoke_tokens(app: "CanvasApp", query: dict) -> dict:
    return {"revoked": app.oauth.revoke_all()}


ACTIONS = {
    "stats": ("GET", _stats),
    "stats/reset": ("POST", _reset_stats),
    "totals": ("GET", _totals),
    "course_sizes": ("GET", _course_sizes),
    "change_grades": ("POST", _change_grades),
    "change_assignments": ("POST", _change_assignments),
    "corrupt": ("POST", _corrupt),
    "delete_assignment": ("POST", _delete_assignment),
    "delete_section": ("POST", _delete_section),
    "rename_section_sis": ("POST", _rename_section_sis),
    "reset": ("POST", _reset),
    "expire_tokens": ("POST", _expire_tokens),
    "revoke_tokens": ("POST", _revoke_tokens),
}
