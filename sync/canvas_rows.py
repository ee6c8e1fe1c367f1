"""Canvas JSON items -> row tuples for the ``courses`` tables, with validation.

Every function takes one item as Canvas sends it and returns a tuple ordered like the matching
``*_COLUMNS``. Anything we cannot store faithfully raises ``BadCanvasData`` with a message a
district admin can act on; the importer records it against the course and moves on.
"""

from datetime import UTC, datetime
from typing import Any

ACCOUNT_COLUMNS = ("canvas_id", "parent_id", "name", "sis_account_id", "deleted")
TERM_COLUMNS = ("canvas_id", "name", "start_at", "end_at", "sis_term_id", "deleted")
COURSE_COLUMNS = (
    "canvas_id",
    "account_id",
    "term_id",
    "name",
    "course_code",
    "sis_course_id",
    "workflow_state",
    "start_at",
    "end_at",
    "deleted",
)
SECTION_COLUMNS = (
    "canvas_id",
    "course_id",
    "name",
    "sis_section_id",
    "start_at",
    "end_at",
    "deleted",
)
PERSON_COLUMNS = (
    "canvas_id",
    "name",
    "sortable_name",
    "sis_user_id",
    "login_id",
    "email",
    "deleted",
)
ENROLLMENT_COLUMNS = (
    "canvas_id",
    "person_id",
    "course_id",
    "section_id",
    "type",
    "state",
    "deleted",
)
GROUP_COLUMNS = ("canvas_id", "course_id", "name", "position", "group_weight", "deleted")
ASSIGNMENT_COLUMNS = (
    "canvas_id",
    "course_id",
    "group_id",
    "name",
    "sis_assignment_id",
    "description",
    "published",
    "post_to_sis",
    "due_at",
    "unlock_at",
    "lock_at",
    "points_possible",
    "grading_type",
    "omit_from_final_grade",
    "only_visible_to_overrides",
    "submission_types",
    "html_url",
    "canvas_updated_at",
    "deleted",
)
OVERRIDE_COLUMNS = (
    "canvas_id",
    "assignment_id",
    "target",
    "section_id",
    "student_canvas_ids",
    "group_canvas_id",
    "title",
    "due_at",
    "due_at_overridden",
    "unlock_at",
    "lock_at",
    "deleted",
)
SUBMISSION_COLUMNS = (
    "canvas_id",
    "course_id",
    "assignment_id",
    "student_id",
    "score",
    "grade",
    "excused",
    "late",
    "missing",
    "workflow_state",
    "graded_at",
    "posted_at",
    "deleted",
)

COURSE_STATES = {"unpublished", "available", "completed", "deleted"}
ENROLLMENT_TYPES = {
    "StudentEnrollment": "student",
    "TeacherEnrollment": "teacher",
    "TaEnrollment": "ta",
    "DesignerEnrollment": "designer",
    "ObserverEnrollment": "observer",
}
GRADING_TYPES = {"pass_fail", "percent", "letter_grade", "gpa_scale", "points", "not_graded"}
# Widths of the CharFields we write; longer values would be cut, so they are refused instead.
SHORT_TEXT = 255


class BadCanvasData(ValueError):
    """Canvas sent an item we cannot store faithfully."""


def _id(item: Any, what: str) -> int:
    if type(item) is dict:  # the common case first: a million grades go through here
        value = item.get("id")
        if type(value) is int and value >= 0:
            return value
    article = "an" if what[0] in "aeiou" else "a"
    if not isinstance(item, dict):
        raise BadCanvasData(
            f"Canvas sent {article} {what} that is not a JSON object: {str(item)[:60]!r}"
        )
    value = item.get("id")
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise BadCanvasData(f"Canvas sent {article} {what} without a valid id: {_preview(item)}")
    return int(value)


def _ref(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if type(value) is int and value >= 0:
        return value
    if isinstance(value, bool) or not str(value).isdigit():
        raise BadCanvasData(f"Canvas sent an invalid {what}: {value!r}")
    return int(value)


def _preview(item: dict) -> str:
    return ", ".join(f"{k}={str(v)[:30]!r}" for k, v in list(item.items())[:4]) or "{}"


def _date(value: Any, what: str, of: object = "") -> datetime | None:
    """``what`` (and ``of``, the item's id, kept apart so that no message is built unless it
    is needed) names the field in the error."""
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise BadCanvasData(
            f"Canvas sent {what}{f' {of}' if of != '' else ''} = {str(value)[:40]!r}, "
            "which is not a date"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _short(value: Any, what: str, *, blank: str | None = None) -> str | None:
    if value in (None, ""):
        return blank
    text = str(value)
    if len(text) > SHORT_TEXT:
        raise BadCanvasData(
            f"Canvas sent a {what} of {len(text)} characters; at most {SHORT_TEXT} can be stored"
        )
    return text


def _float(value: Any, what: str, of: object = "") -> float | None:
    if value is None or value == "":
        return None
    kind = type(value)
    if kind is float or kind is int:
        return float(value)
    named = f"{what} {of}" if of != "" else what
    if isinstance(value, bool):
        raise BadCanvasData(f"Canvas sent {named} = {value!r}, which is not a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise BadCanvasData(
            f"Canvas sent {named} = {str(value)[:40]!r}, which is not a number"
        ) from None


def account_row(item: dict) -> tuple:
    cid = _id(item, "sub-account")
    return (
        cid,
        _ref(item.get("parent_account_id"), "parent_account_id"),
        _text(item.get("name")) or f"Account {cid}",
        _short(item.get("sis_account_id"), "sis_account_id"),
        item.get("workflow_state") == "deleted",
    )


def term_row(item: dict) -> tuple:
    cid = _id(item, "term")
    return (
        cid,
        _text(item.get("name")) or f"Term {cid}",
        _date(item.get("start_at"), "term start_at"),
        _date(item.get("end_at"), "term end_at"),
        _short(item.get("sis_term_id"), "sis_term_id"),
        item.get("workflow_state") == "deleted",
    )


def course_row(item: dict) -> tuple:
    cid = _id(item, "course")
    state = item.get("workflow_state")
    if state not in COURSE_STATES:
        raise BadCanvasData(
            f"Canvas sent workflow_state {str(state)[:40]!r} for course {cid}; "
            f"expected one of {', '.join(sorted(COURSE_STATES))}"
        )
    account = _ref(item.get("account_id"), "account_id")
    if account is None:
        raise BadCanvasData(f"Canvas sent course {cid} without an account_id")
    return (
        cid,
        account,
        _ref(item.get("enrollment_term_id"), "enrollment_term_id"),
        _text(item.get("name")) or f"Course {cid}",
        _short(item.get("course_code"), "course_code", blank="") or "",
        _short(item.get("sis_course_id"), "sis_course_id"),
        state,
        _date(item.get("start_at"), "course start_at"),
        _date(item.get("end_at"), "course end_at"),
        state == "deleted",
    )


def section_row(item: dict, course_id: int) -> tuple:
    cid = _id(item, "section")
    return (
        cid,
        course_id,
        _text(item.get("name")) or f"Section {cid}",
        _short(item.get("sis_section_id"), "sis_section_id"),
        _date(item.get("start_at"), "section start_at"),
        _date(item.get("end_at"), "section end_at"),
        False,
    )


def person_row(user: dict) -> tuple:
    cid = _id(user, "user")
    return (
        cid,
        _text(user.get("name")) or f"User {cid}",
        _text(user.get("sortable_name")),
        _short(user.get("sis_user_id"), "sis_user_id"),
        _short(user.get("login_id"), "login_id"),
        _short(user.get("email"), "email"),
        False,
    )


def enrollment_row(item: dict, course_id: int) -> tuple | None:
    """None for enrollment types we do not track."""
    cid = _id(item, "enrollment")
    kind = ENROLLMENT_TYPES.get(item.get("type") or item.get("role"))
    if kind is None:
        return None
    user = _ref(item.get("user_id") or (item.get("user") or {}).get("id"), "enrollment user_id")
    section = _ref(item.get("course_section_id"), "course_section_id")
    if user is None or section is None:
        raise BadCanvasData(f"Canvas sent enrollment {cid} without a user or a section")
    return (
        cid,
        user,
        course_id,
        section,
        kind,
        _text(item.get("enrollment_state")) or "active",
        False,
    )


def group_row(item: dict, course_id: int) -> tuple:
    cid = _id(item, "assignment group")
    position = item.get("position")
    return (
        cid,
        course_id,
        _text(item.get("name")),
        position if isinstance(position, int) and not isinstance(position, bool) else None,
        _float(item.get("group_weight"), "group_weight"),
        False,
    )


def assignment_row(item: dict, course_id: int) -> tuple:
    cid = _id(item, "assignment")
    grading_type = item.get("grading_type") or "points"
    if grading_type not in GRADING_TYPES:
        raise BadCanvasData(
            f"Canvas sent grading_type {str(grading_type)[:40]!r} for assignment {cid}"
        )
    published = item.get("published")
    if published is None:  # older Canvas: only workflow_state
        published = item.get("workflow_state") == "published"
    types = item.get("submission_types") or []
    return (
        cid,
        course_id,
        _ref(item.get("assignment_group_id"), "assignment_group_id"),
        _text(item.get("name")),
        _short(item.get("sis_assignment_id"), "sis_assignment_id"),
        _text(item.get("description")),
        bool(published),
        # Absent on Canvas versions without SIS sync: then nothing is set to sync.
        bool(item.get("post_to_sis", False)),
        _date(item.get("due_at"), f"due_at of assignment {cid}"),
        _date(item.get("unlock_at"), f"unlock_at of assignment {cid}"),
        _date(item.get("lock_at"), f"lock_at of assignment {cid}"),
        _float(item.get("points_possible"), f"points_possible of assignment {cid}"),
        grading_type,
        bool(item.get("omit_from_final_grade", False)),
        bool(item.get("only_visible_to_overrides", False)),
        [str(t) for t in types] if isinstance(types, list) else [str(types)],
        _short(item.get("html_url"), "html_url", blank="") or "",
        _date(item.get("updated_at"), f"updated_at of assignment {cid}"),
        item.get("workflow_state") == "deleted",
    )


def override_row(item: dict, assignment_id: int) -> tuple | None:
    """None for overrides that assign nothing (MasteryPaths placeholders, unassignments)."""
    cid = _id(item, "assignment override")
    if item.get("unassign_item") or item.get("noop_id") is not None:
        return None
    section = None
    students: list[int] = []
    group = None
    if item.get("student_ids") is not None:
        target = "students"
        students = [_ref(s, "override student id") for s in item["student_ids"]]
    elif item.get("group_id") is not None:
        target, group = "group", _ref(item["group_id"], "override group_id")
    elif item.get("course_section_id") is not None:
        target, section = "section", _ref(item["course_section_id"], "override course_section_id")
    elif item.get("course_id") is not None:
        target = "course"
    else:
        raise BadCanvasData(
            f"Canvas sent override {cid} of assignment {assignment_id} with no target"
        )
    return (
        cid,
        assignment_id,
        target,
        section,
        students,
        group,
        _text(item.get("title")),
        _date(item.get("due_at"), f"due_at of override {cid}"),
        # The key is present only when the override sets the due date (null = "no due date").
        "due_at" in item,
        _date(item.get("unlock_at"), f"unlock_at of override {cid}"),
        _date(item.get("lock_at"), f"lock_at of override {cid}"),
        False,
    )


def submission_row(item: dict, course_id: int) -> tuple:
    cid = _id(item, "submission")
    assignment = _ref(item.get("assignment_id"), "submission assignment_id")
    student = _ref(item.get("user_id"), "submission user_id")
    if assignment is None or student is None:
        raise BadCanvasData(f"Canvas sent submission {cid} without an assignment or a student")
    grade = item.get("grade")
    return (
        cid,
        course_id,
        assignment,
        student,
        _float(item.get("score"), "score of submission", cid),
        None if grade is None else str(grade),
        bool(item.get("excused") or False),
        bool(item.get("late") or False),
        bool(item.get("missing") or False),
        _text(item.get("workflow_state")),
        _date(item.get("graded_at"), "graded_at of submission", cid),
        _date(item.get("posted_at"), "posted_at of submission", cid),
        False,
    )
