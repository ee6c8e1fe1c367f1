"""Canvas data -> OneRoster lineItem and result payloads (ARCHITECTURE section 6), pure functions.

SourcedIds we create are deterministic and carry no personal data. References are full
OneRoster GUIDRefs (href, sourcedId, type) so that payloads validate against the 1.2 schema.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

# Why a grade is not sent (GradeOutcome.reason).
NO_GRADE = "no_grade"
STUDENT_NOT_IN_SIS = "student_not_in_sis"
OUTSIDE_WINDOW = "outside_window"
SAME_AS_SENT = "same_as_sent"
INVALID_SCORE = "invalid_score"


def line_item_id(assignment_id: int, section_id: int) -> str:
    return f"gpb-a{assignment_id}-s{section_id}"


def result_id(assignment_id: int, section_id: int, student_id: int) -> str:
    return f"gpb-a{assignment_id}-s{section_id}-u{student_id}"


def parse_line_item_id(sourced_id: str) -> tuple[int, int] | None:
    """(assignment, section) Canvas ids of a lineItem sourcedId we created, else None."""
    if not sourced_id.startswith("gpb-a") or "-u" in sourced_id:
        return None
    try:
        assignment, section = sourced_id.removeprefix("gpb-a").split("-s")
        return int(assignment), int(section)
    except ValueError:
        return None


def guid_ref(base_url: str, kind: str, sourced_id: str) -> dict:
    path = {"class": "classes", "org": "orgs", "category": "categories"}.get(kind, f"{kind}s")
    return {"href": f"{base_url}/{path}/{sourced_id}", "sourcedId": sourced_id, "type": kind}


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass(frozen=True)
class LineItemInput:
    assignment_id: int
    section_id: int
    title: str
    description: str
    assign_date: datetime
    due_date: datetime
    class_sourced_id: str
    school_sourced_id: str
    category_sourced_id: str | None  # required in 1.2; 1.1 servers may have no categories
    points_possible: float | None
    active: bool = True


def line_item_payload(item: LineItemInput, *, base_url: str, modified: datetime) -> dict:
    payload = {
        "sourcedId": line_item_id(item.assignment_id, item.section_id),
        "status": "active" if item.active else "tobedeleted",
        "dateLastModified": utc_iso(modified),
        "title": item.title,
        "description": item.description[:4000],
        "assignDate": utc_iso(item.assign_date),
        "dueDate": utc_iso(item.due_date),
        "class": guid_ref(base_url, "class", item.class_sourced_id),
        "school": guid_ref(base_url, "org", item.school_sourced_id),
        "resultValueMin": 0.0,
        "resultValueMax": float(item.points_possible or 0.0),
    }
    if item.category_sourced_id is not None:
        payload["category"] = guid_ref(base_url, "category", item.category_sourced_id)
    return payload


@dataclass(frozen=True)
class GradeInput:
    assignment_id: int
    section_id: int
    student_id: int
    student_sis_id: str | None
    class_sourced_id: str
    score: float | None
    excused: bool
    late: bool
    missing: bool
    graded_at: datetime | None


def grade_value(grade: GradeInput) -> tuple[dict | None, str]:
    """The value to send for a grade (scoreStatus and score), or None and the reason it is not."""
    if not grade.student_sis_id:
        return None, STUDENT_NOT_IN_SIS
    if grade.excused:
        return {"scoreStatus": "exempt"}, ""
    if grade.score is None:
        return None, NO_GRADE
    if grade.score < 0:
        return None, INVALID_SCORE
    # Extra credit (above points_possible) is kept, as IC stores it as such.
    return {"scoreStatus": "fully graded", "score": float(grade.score)}, ""


def result_payload(
    grade: GradeInput, value: dict, *, base_url: str, version: str, modified: datetime
) -> dict:
    line_item = line_item_id(grade.assignment_id, grade.section_id)
    payload = {
        "sourcedId": result_id(grade.assignment_id, grade.section_id, grade.student_id),
        "status": "active",
        "dateLastModified": utc_iso(modified),
        "lineItem": guid_ref(base_url, "lineItem", line_item),
        "student": guid_ref(base_url, "user", grade.student_sis_id or ""),
        "class": guid_ref(base_url, "class", grade.class_sourced_id),
        "scoreStatus": value["scoreStatus"],
        "scoreDate": (grade.graded_at or modified).date().isoformat(),
    }
    if "score" in value:
        payload["score"] = value["score"]
    if version != "1.1":
        payload["late"] = "true" if grade.late else "false"
        payload["missing"] = "true" if grade.missing else "false"
    return payload


# Stamps that change on every send (or every re-grade to the same value) are not content.
VOLATILE = {"dateLastModified", "scoreDate"}


def content_hash(payload: dict) -> str:
    """Identity of what a payload says: equal hashes mean nothing worth sending changed."""
    stable = {k: v for k, v in payload.items() if k not in VOLATILE}
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()
