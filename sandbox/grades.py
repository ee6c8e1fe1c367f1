"""Generates one course's submissions: scores, excused, late, missing, hidden and ungraded rows.

This is the hot loop of the sandbox (a district has a million rows), so per-row work is kept to
a few random draws and one dict; timestamps are pre-formatted once per assignment.
"""

from datetime import datetime
from functools import lru_cache
from random import Random
from typing import NamedTuple

from sandbox.layout import SUBMISSION_ID_BASE
from sandbox.timestamps import DAY, iso

GRADED_WINDOW = 60 * DAY  # grades are entered over the last ~60 days before "now"
NO_GRADES_AFTER = 8 * DAY  # past due by more than a week with nothing graded
PAPER_TYPES = (["on_paper"], ["none"], ["not_graded"])
LETTERS = ((0.9, "A"), (0.8, "B"), (0.7, "C"), (0.6, "D"))


def epoch_of(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp).timestamp())


def grade_for(grading_type: str, score: float, points: float | None) -> str:
    """The display grade Canvas derives from a score."""
    ratio = score / points if points else 1.0
    if grading_type == "percent":
        return f"{round(ratio * 100, 2):g}%"
    if grading_type == "pass_fail":
        return "complete" if ratio >= 0.6 else "incomplete"
    if grading_type in ("letter_grade", "gpa_scale"):
        return next((letter for floor, letter in LETTERS if ratio >= floor), "F")
    return f"{score:g}"


def latest_due(assignment: dict, active_sections: set[int]) -> str | None:
    """Latest effective due date over the sections the assignment is given to (ISO strings sort)."""
    if not assignment["overrides"]:
        return assignment["due_at"]
    section_dues = {
        o["course_section_id"]: o["due_at"]
        for o in assignment["overrides"]
        if "course_section_id" in o and "due_at" in o
    }
    sections = active_sections
    if assignment["only_visible_to_overrides"]:
        sections = sections & section_dues.keys()
    dues = [section_dues.get(section, assignment["due_at"]) for section in sections]
    dues = [due for due in dues if due is not None] or [assignment["due_at"]]
    return max(dues) if dues[0] is not None else None


def visible_students(
    assignment: dict, roster: list[tuple[int, int]], everyone: list[int]
) -> list[int]:
    """The students who get a submission row: everyone, or only those the overrides reach."""
    overrides = assignment["overrides"]
    if not assignment["only_visible_to_overrides"] or any("course_id" in o for o in overrides):
        return everyone
    sections = {o["course_section_id"] for o in overrides if "course_section_id" in o}
    students = {s for o in overrides for s in o.get("student_ids", ())}
    return [student for student, section in roster if section in sections or student in students]


def build_submissions(
    rng: Random,
    *,
    index: int,
    assignments: list[dict],
    hidden_grades: set[int],
    no_grades: set[int],
    roster: list[tuple[int, int]],
    course_published: bool,
    now: int,
) -> list[dict]:
    """Rows for every published assignment and every student it is given to, in id order.

    Canvas lists submissions of published assignments only. `now` is the moment grading stops
    (the reference now, or the end of a past term).
    """
    rows: list[dict] = []
    next_id = SUBMISSION_ID_BASE + index * 10_000
    now_stamp = iso(now)
    everyone = [student for student, _ in roster]
    active_sections = {section for _, section in roster}
    for assignment in assignments:
        if not assignment["published"]:
            continue
        students = visible_students(assignment, roster, everyone)
        if not students:
            continue
        assignment_id = assignment["id"]
        points = assignment["points_possible"]
        grading_type = assignment["grading_type"]
        due = latest_due(assignment, active_sections)
        due_epoch = epoch_of(due) if due is not None else now - 30 * DAY
        if not course_published:
            mode = "open"
        elif grading_type == "not_graded":
            mode = "ungraded"
        elif due is None:
            mode = "graded" if rng.random() < 0.7 else "open"
        elif due < now_stamp:
            overdue = now - due_epoch > NO_GRADES_AFTER
            mode = "none" if assignment_id in no_grades and overdue else "graded"
        else:
            mode = "open"
        paper = assignment["submission_types"] in PAPER_TYPES

        # Grading sessions: most of a class is graded in one sitting, stragglers a few days on.
        low = min(max(due_epoch + 3600, now - GRADED_WINDOW), now - 3600)
        first = low + rng.randrange(max(1, min(14 * DAY, now - low)))
        second = min(first + rng.randrange(1, 5) * DAY, now - 60)
        stamps = Stamps(
            sessions=(iso(first), iso(second)),
            on_time=None if paper else iso(due_epoch - rng.randrange(60, 2 * DAY)),
            late=None if paper else iso(due_epoch + rng.randrange(3600, 3 * DAY)),
            early=iso(now - rng.randrange(60, 3 * DAY)),
        )
        hidden = assignment_id in hidden_grades
        past_due = due is not None and due < now_stamp
        row_ids = range(next_id, next_id + len(students))
        next_id += len(students)
        if mode == "graded":
            scores = _score_table(grading_type, points)
            _graded_rows(rows, rng, assignment_id, students, row_ids, stamps, scores, hidden, paper)
        else:
            _open_rows(rows, rng, assignment, mode, students, row_ids, stamps, hidden, past_due)
    return rows


class Stamps(NamedTuple):
    """An assignment's pre-formatted timestamps (formatting per row would dominate the cost)."""

    sessions: tuple[str, str]
    on_time: str | None
    late: str | None
    early: str


@lru_cache(maxsize=256)  # a few dozen (grading type, points) pairs exist
def _score_table(grading_type: str, points: float) -> list[tuple[float, str]]:
    """64 (score, grade) pairs spread over 55-100% of the points, then 4 extra-credit ones."""
    table = []
    for i in range(68):
        ratio = 0.55 + 0.45 * (i + 0.5) / 64 if i < 64 else 1.05 + 0.05 * (i - 64)
        score = round(points * ratio * 2) / 2
        table.append((score, grade_for(grading_type, score, points)))
    return table


def _graded_rows(
    rows: list[dict],
    rng: Random,
    assignment_id: int,
    students: list[int],
    row_ids: range,
    stamps: Stamps,
    scores: list[tuple[float, str]],
    hidden: bool,
    paper: bool,
) -> None:
    """A past-due assignment: mostly scores, some excused, missing, late or not yet graded."""
    random = rng.random
    append = rows.append
    first, second = stamps.sessions
    for row_id, student in zip(row_ids, students, strict=True):
        draw = random()
        graded_at = first if random() < 0.85 else second
        score = grade = submitted_at = status = None
        excused = late = missing = False
        state = "graded"
        if draw < 0.03:
            excused = True
        elif draw < 0.06:
            score, grade, missing, status = 0.0, "0", True, "missing"
        elif draw < 0.08:
            graded_at, missing, state = None, True, "unsubmitted"
        elif draw < 0.18:
            graded_at, state = None, "submitted"
            late = draw < 0.1 and not paper
            submitted_at = stamps.late if late else stamps.on_time
        else:
            late = draw < 0.23
            submitted_at = stamps.late if late else stamps.on_time
            if late and paper:
                status = "late"  # marked late by hand: there is no submission time
            pick = random()
            # 2% extra credit: above points_possible
            score, grade = scores[64 + int(pick * 200) % 4 if pick < 0.02 else int(pick * 64)]
        append(
            {
                "id": row_id,
                "user_id": student,
                "assignment_id": assignment_id,
                "score": score,
                "grade": grade,
                "excused": excused,
                "late": late,
                "missing": missing,
                "workflow_state": state,
                "graded_at": graded_at,
                "posted_at": None if hidden or graded_at is None else graded_at,
                "submitted_at": submitted_at,
                "late_policy_status": status,
            }
        )


def _open_rows(
    rows: list[dict],
    rng: Random,
    assignment: dict,
    mode: str,
    students: list[int],
    row_ids: range,
    stamps: Stamps,
    hidden: bool,
    past_due: bool,
) -> None:
    """Not yet graded: due later, nobody graded it, ungradable, or the course is unpublished."""
    points = assignment["points_possible"]
    submitted_share = 0.12 if mode == "open" else 0.35
    for row_id, student in zip(row_ids, students, strict=True):
        draw = rng.random()
        score = grade = graded_at = posted_at = submitted_at = None
        state, missing = "unsubmitted", False
        if draw < submitted_share:
            state, submitted_at = "submitted", stamps.on_time or stamps.early
            if mode == "open" and draw < 0.02 and points:
                # graded early, before the due date
                score = round(points * (0.6 + 0.4 * rng.random()) * 2) / 2
                grade = grade_for(assignment["grading_type"], score, points)
                state, graded_at = "graded", stamps.early
                posted_at = None if hidden else stamps.early
        else:
            missing = past_due
        rows.append(
            {
                "id": row_id,
                "user_id": student,
                "assignment_id": assignment["id"],
                "score": score,
                "grade": grade,
                "excused": False,
                "late": False,
                "missing": missing,
                "workflow_state": state,
                "graded_at": graded_at,
                "posted_at": posted_at,
                "submitted_at": submitted_at,
                "late_policy_status": None,
            }
        )
