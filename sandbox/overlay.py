"""Mutations on top of the generated district: the sandbox's only state, kept small and in memory.

An `Overlay` is immutable; every mutation makes a new one with a higher version, so a course
being built in one thread never sees a half-applied change from another.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from random import Random

from sandbox import names
from sandbox.course_builder import CourseData
from sandbox.grades import grade_for

RngFor = Callable[..., Random]  # the district's seeded Random for some id parts

CORRUPTION_KINDS = (
    "malformed_json",
    "missing_id",
    "unknown_workflow_state",
    "long_name",
    "unicode",
    "null_dates",
    "old_canvas",
)
DATE_KEYS = ("due_at", "unlock_at", "lock_at", "created_at", "updated_at")
OLD_CANVAS_ASSIGNMENT_KEYS = (
    "post_to_sis",
    "omit_from_final_grade",
    "only_visible_to_overrides",
    "overrides",
)
OLD_CANVAS_SUBMISSION_KEYS = ("posted_at", "late", "missing")


@dataclass(frozen=True, slots=True)
class GradeRound:
    number: int
    fraction: float
    graded_at: str


@dataclass(frozen=True, slots=True)
class Overlay:
    version: int = 0
    grade_rounds: tuple[GradeRound, ...] = ()
    # course id -> assignment id -> field values that replace the generated ones
    assignment_changes: dict[int, dict[int, dict]] = field(default_factory=dict)
    # course id -> override id -> field values (teachers' edits through the API)
    override_changes: dict[int, dict[int, dict]] = field(default_factory=dict)
    deleted_assignments: dict[int, frozenset[int]] = field(default_factory=dict)
    deleted_sections: dict[int, frozenset[int]] = field(default_factory=dict)
    section_sis: dict[int, dict[int, str | None]] = field(default_factory=dict)
    corruptions: dict[int, frozenset[str]] = field(default_factory=dict)

    def evolve(self, **changes) -> "Overlay":
        return replace(self, version=self.version + 1, **changes)


def apply_to_summary(course: dict, overlay: Overlay) -> dict:
    kinds = overlay.corruptions.get(course["id"], frozenset())
    if not kinds:
        return course
    course = {**course, "term": dict(course["term"])}
    if "unknown_workflow_state" in kinds:
        course["workflow_state"] = "archived_weird"
    if "unicode" in kinds:
        course["name"] = f"🌍 {course['name']} — عربي · עברית 🚀"
    if "null_dates" in kinds:
        course["start_at"] = course["end_at"] = None
        course["term"]["start_at"] = course["term"]["end_at"] = None
    return course


def apply_to_course(data: CourseData, overlay: Overlay, rng_for: RngFor) -> CourseData:
    """Applies deletions, edits, grade rounds and corruptions to a freshly built course, in place.

    `rng_for(*parts)` returns the district's seeded Random for those parts.
    """
    course_id = data.course["id"]
    data.course = apply_to_summary(data.course, overlay)
    _delete_sections(data, overlay.deleted_sections.get(course_id, frozenset()))
    gone = overlay.deleted_assignments.get(course_id, frozenset())
    if gone:
        data.assignments = [a for a in data.assignments if a["id"] not in gone]
        data.submissions = [s for s in data.submissions if s["assignment_id"] not in gone]
    for section in data.sections:
        if section["id"] in overlay.section_sis.get(course_id, {}):
            section["sis_section_id"] = overlay.section_sis[course_id][section["id"]]
    changes = overlay.assignment_changes.get(course_id, {})
    if changes:
        for assignment in data.assignments:
            assignment.update(changes.get(assignment["id"], {}))
        # Canvas lists submissions of published assignments only.
        unpublished = {a["id"] for a in data.assignments if not a["published"]}
        data.submissions = [s for s in data.submissions if s["assignment_id"] not in unpublished]
    override_changes = overlay.override_changes.get(course_id, {})
    if override_changes:
        for assignment in data.assignments:
            for override in assignment.get("overrides", ()):
                override.update(override_changes.get(override["id"], {}))
    if overlay.grade_rounds:
        _regrade(data, overlay.grade_rounds, rng_for)
    data.index_keys()
    for kind in sorted(overlay.corruptions.get(course_id, ())):
        _corrupt(data, kind)
    return data


def _delete_sections(data: CourseData, gone: frozenset[int]) -> None:
    if not gone:
        return
    data.sections = [s for s in data.sections if s["id"] not in gone]
    data.enrollments = [e for e in data.enrollments if e["course_section_id"] not in gone]
    for assignment in data.assignments:
        kept = [o for o in assignment["overrides"] if o.get("course_section_id") not in gone]
        assignment["overrides"] = kept
        assignment["has_overrides"] = bool(kept)
    # Students left with no section are no longer in the course: their rows go too.
    enrolled = {e["user_id"] for e in data.enrollments}
    data.submissions = [s for s in data.submissions if s["user_id"] in enrolled]


def _regrade(data: CourseData, rounds: tuple[GradeRound, ...], rng_for: RngFor) -> None:
    assignments = {a["id"]: a for a in data.assignments}
    last_round: dict[int, int] = {}
    for grade_round in rounds:
        rng = rng_for(data.course["id"], "regrade", grade_round.number)
        for position, row in enumerate(data.submissions):
            if row["graded_at"] is None or (row["score"] is None and not row["excused"]):
                continue
            if rng.random() >= grade_round.fraction:
                continue
            assignment = assignments[row["assignment_id"]]
            points = assignment["points_possible"] or 10.0
            score = round(points * (0.5 + 0.5 * rng.random()) * 2) / 2
            if score == row["score"]:
                score += 0.5
            row["score"] = score
            row["grade"] = grade_for(assignment["grading_type"], score, points)
            row["excused"] = False
            row["workflow_state"] = "graded"
            if row["posted_at"] is not None:
                row["posted_at"] = grade_round.graded_at
            row["graded_at"] = grade_round.graded_at
            if row["late_policy_status"] == "missing":
                row["missing"], row["late_policy_status"] = False, None
            last_round[position] = grade_round.number
    data.regraded = {}
    for number in last_round.values():
        data.regraded[number] = data.regraded.get(number, 0) + 1


def _corrupt(data: CourseData, kind: str) -> None:
    if kind == "malformed_json":
        data.malformed_assignments = True
    elif kind == "missing_id" and data.assignments:
        del data.assignments[len(data.assignments) // 2]["id"]
    elif kind == "long_name" and data.assignments:
        data.assignments[0]["name"] = ("Extremely long assignment name " * 400)[:10_000]
    elif kind == "unicode":
        for k, assignment in enumerate(data.assignments):
            if k % 2 == 0:
                template = names.CORRUPT_UNICODE_NAMES[k // 2 % len(names.CORRUPT_UNICODE_NAMES)]
                assignment["name"] = template.format(n=k + 1)
        for section in data.sections:
            section["name"] = f"{section['name']} · قسم 🎒"
    elif kind == "null_dates":
        for section in data.sections:
            section["start_at"] = section["end_at"] = None
        for assignment in data.assignments:
            for key in DATE_KEYS:
                assignment[key] = None
            for override in assignment.get("overrides", ()):
                for key in ("due_at", "unlock_at", "lock_at", "all_day_date"):
                    if key in override:
                        override[key] = None
        for row in data.submissions:
            row["graded_at"] = row["posted_at"] = row["submitted_at"] = None
    elif kind == "old_canvas":
        for assignment in data.assignments:
            for key in OLD_CANVAS_ASSIGNMENT_KEYS:
                assignment.pop(key, None)
        for row in data.submissions:
            for key in OLD_CANVAS_SUBMISSION_KEYS:
                row.pop(key, None)
    data.forget_views()
