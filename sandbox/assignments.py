"""Generates one course's assignments and their overrides, with a realistic share of GPB problems.

Most assignments are clean; each problem kind below has its own small probability, drawn
independently, so some assignments break several rules at once (as they do in real districts).
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from random import Random

from sandbox import names
from sandbox.layout import ASSIGNMENT_ID_BASE, OVERRIDE_ID_BASE, STUDENT_GROUP_ID_BASE
from sandbox.timestamps import DAY, REFERENCE_EPOCH, iso

# Probability of each independent problem per assignment.
RATES = {
    "unpublished": 0.03,
    "long_name": 0.035,
    "unicode_short_name": 0.02,
    "name_at_limit": 0.015,
    "duplicate_name": 0.015,
    "not_synced": 0.04,
    "omit_from_final_grade": 0.015,
    "not_graded": 0.015,
    "missing_due_date": 0.03,
    "due_outside_term": 0.02,
    "due_outside_availability": 0.02,
    "hidden_grades": 0.025,
    "no_grades": 0.02,
}

# Override layouts, as cumulative thresholds on one draw; the rest (~77%) have no overrides.
OVERRIDE_MODES = (
    (0.10, "section_dates"),  # some sections get their own date: fine
    (0.13, "only_sections_all"),  # only_visible_to_overrides, every active section overridden
    (0.15, "only_sections_some"),  # assigned to some whole sections only: fine
    (0.18, "students"),  # ADHOC: differentiated
    (0.195, "group"),  # group override: differentiated
    (0.215, "course"),  # "Everyone" override
    (0.23, "null_due"),  # a section override that sets the due date to nothing
)

POINTS = {"Homework": 10.0, "Quizzes": 20.0, "Tests": 100.0, "Projects": 50.0, "Classwork": 5.0}
SUBMISSION_TYPES = {
    "Homework": (["online_upload"], ["online_text_entry", "online_upload"]),
    "Quizzes": (["online_quiz"],),
    "Tests": (["on_paper"], ["online_quiz"]),
    "Projects": (["online_upload"], ["online_url", "online_upload"]),
    "Classwork": (["none"], ["on_paper"]),
}
GRADING_TYPES = (
    (0.86, "points"),
    (0.92, "percent"),
    (0.96, "letter_grade"),
    (0.99, "pass_fail"),
    (1.0, "gpa_scale"),
)
DUE_TIMES = (5 * 3600 + 59 * 60 + 59, 4 * 3600 + 59 * 60 + 59, 14 * 3600, 22 * 3600)


ABSENT = object()  # an override date key that Canvas leaves out (the date is not overridden)


@dataclass(frozen=True, slots=True)
class SectionRef:
    id: int
    name: str
    active: bool


@dataclass(slots=True)
class AssignmentPlan:
    """The assignments' JSON plus what the grade generator must know that JSON does not say."""

    assignments: list[dict] = field(default_factory=list)
    hidden_grades: set[int] = field(default_factory=set)  # graded but never posted
    no_grades: set[int] = field(default_factory=set)  # nobody graded it yet


def pick(rng: Random, thresholds: tuple[tuple[float, str], ...]) -> str | None:
    draw = rng.random()
    for threshold, value in thresholds:
        if draw < threshold:
            return value
    return None


def build_assignments(
    rng: Random,
    *,
    course_id: int,
    index: int,
    count: int,
    groups: list[dict],
    group_weights: list[float],
    topics: tuple[str, ...],
    window: tuple[int, int],
    sections: list[SectionRef],
    student_ids: list[int],
    future_course: bool,
    base_url: str,
) -> AssignmentPlan:
    """Assignments in id (= creation) order, each with its "overrides" list."""
    start, end = window
    used_names: set[str] = set()
    earlier_names: list[str] = []
    counters = {group["id"]: 0 for group in groups}
    override_ids = iter(
        range(OVERRIDE_ID_BASE + index * 1000, OVERRIDE_ID_BASE + index * 1000 + 1000)
    )
    plan = AssignmentPlan()
    for k in range(count):
        assignment_id = ASSIGNMENT_ID_BASE + index * 100 + k
        traits = {t for t, rate in RATES.items() if rng.random() < rate}
        if future_course and rng.random() < 0.25:
            traits.add("unpublished")  # teachers build next term's course ahead of time
        group = rng.choices(groups, group_weights)[0]
        counters[group["id"]] += 1
        kind = group["name"] if group["name"] in POINTS else "Classwork"
        name = _name(rng, traits, kind, counters[group["id"]], topics, earlier_names, used_names, k)
        earlier_names.append(name)

        day = start + (k + 1) * (end - start) // (count + 1) + rng.randrange(-2, 3) * DAY
        due: int | None = day - day % DAY + rng.choice(DUE_TIMES)
        if "due_outside_term" in traits:
            due = end + rng.randrange(3, 21) * DAY if rng.random() < 0.6 else start - 5 * DAY
        unlock = due - 7 * DAY if rng.random() < 0.3 else None
        lock = due + 3 * DAY if rng.random() < 0.2 else None
        if "due_outside_availability" in traits:
            if rng.random() < 0.5:
                unlock = due + DAY
            else:
                lock = due - DAY
        if "missing_due_date" in traits:
            due = None

        grading_type = pick(rng, GRADING_TYPES) or "points"
        submission_types = rng.choice(SUBMISSION_TYPES[kind])
        post_to_sis = "not_synced" not in traits
        if "not_graded" in traits:
            grading_type = "not_graded"
            if rng.random() < 0.5:
                # Canvas forces post_to_sis off for submission type "not_graded" ...
                submission_types, post_to_sis = ["not_graded"], False
            # ... but not for a not-graded assignment that takes uploads: that one reaches GPB.
        published = "unpublished" not in traits
        created = min(start, REFERENCE_EPOCH) - rng.randrange(1, 30) * DAY - rng.randrange(DAY)
        updated = created + rng.randrange(max(1, REFERENCE_EPOCH - created))

        mode = pick(rng, OVERRIDE_MODES)
        overrides, only_visible, due = _overrides(
            rng, mode, assignment_id, due, sections, student_ids, course_id, index, override_ids
        )
        if "hidden_grades" in traits:
            plan.hidden_grades.add(assignment_id)
        if "no_grades" in traits:
            plan.no_grades.add(assignment_id)
        plan.assignments.append(
            {
                "id": assignment_id,
                "course_id": course_id,
                "name": name,
                "description": _description(rng, kind, topics),
                "assignment_group_id": group["id"],
                "published": published,
                "workflow_state": "published" if published else "unpublished",
                "post_to_sis": post_to_sis,
                "due_at": iso(due) if due is not None else None,
                "unlock_at": iso(unlock) if unlock is not None else None,
                "lock_at": iso(lock) if lock is not None else None,
                "points_possible": None if grading_type == "not_graded" else POINTS[kind],
                "grading_type": grading_type,
                "omit_from_final_grade": "omit_from_final_grade" in traits,
                "only_visible_to_overrides": only_visible,
                "submission_types": submission_types,
                "html_url": f"{base_url}/courses/{course_id}/assignments/{assignment_id}",
                "updated_at": iso(updated),
                "created_at": iso(created),
                "has_overrides": bool(overrides),
                "sis_assignment_id": f"A{assignment_id}" if rng.random() < 0.03 else None,
                "overrides": overrides,
            }
        )
    return plan


def _name(
    rng: Random,
    traits: set[str],
    kind: str,
    number: int,
    topics: tuple[str, ...],
    earlier: list[str],
    used: set[str],
    k: int,
) -> str:
    topic = rng.choice(topics)
    if "duplicate_name" in traits and earlier:
        original = rng.choice(earlier)
        variant = rng.random()
        # Trimmed, case-insensitive duplicates count too.
        return original if variant < 0.6 else original.upper() if variant < 0.8 else original + " "
    if "long_name" in traits:
        if rng.random() < 0.3:
            name = rng.choice(names.UNICODE_LONG_NAMES).format(n=number, topic=topic)
        else:
            name = rng.choice(names.LONG_NAME_TEMPLATES).format(n=number, topic=topic)
        while len(name) <= 30:
            name += " (revised)"
    elif "name_at_limit" in traits:
        # Exactly 30 characters (allowed) or exactly 31 (one too many).
        limit = 30 if rng.random() < 0.5 else 31
        name = f"Unit {number} Test: {topic} Review Packet and Study Notes"[:limit]
        if name.endswith(" "):
            name = name[:-1] + "."
    elif "unicode_short_name" in traits:
        name = rng.choice(names.UNICODE_SHORT_NAMES).format(n=number)
        while len(name.encode()) <= 30:
            name += "✨"
    else:
        name = _plain_name(rng, kind, number, topic)
    if name.strip().lower() in used:
        name = f"{name} ({k + 1})"
    used.add(name.strip().lower())
    return name


def _plain_name(rng: Random, kind: str, number: int, topic: str) -> str:
    numbered = rng.random() < 0.6
    if kind == "Homework":
        return f"Homework {number}" if numbered else f"HW {number}: {topic}"
    if kind == "Quizzes":
        return f"Quiz {number}" if numbered else f"{topic} Quiz"
    if kind == "Tests":
        return f"Unit {number} Test" if numbered else f"{topic} Test"
    if kind == "Projects":
        return f"Project {number}" if numbered else f"{topic} Project"
    return f"Classwork {number}" if numbered else f"{topic} Practice"


def _description(rng: Random, kind: str, topics: tuple[str, ...]) -> str | None:
    draw = rng.random()
    if draw < 0.1:
        return None
    if draw < 0.2:
        return ""
    return f"<p>{kind}: {rng.choice(topics)}. Show your work.</p>"


def _overrides(
    rng: Random,
    mode: str | None,
    assignment_id: int,
    due: int | None,
    sections: list[SectionRef],
    student_ids: list[int],
    course_id: int,
    index: int,
    ids: Iterator[int],
) -> tuple[list[dict], bool, int | None]:
    """Returns (overrides, only_visible_to_overrides, base due)."""
    active = [s for s in sections if s.active]
    if mode is None or not active:
        return [], False, due
    anchor = due if due is not None else REFERENCE_EPOCH - 10 * DAY

    def override(
        target: dict, title: str, due_at: object = ABSENT, lock: int | None = None
    ) -> dict:
        row = {"id": next(ids), "assignment_id": assignment_id, "title": title, **target}
        # Canvas sends due_at only when the override sets it; None means "set to no date".
        all_day = False
        if due_at is not ABSENT:
            row["due_at"] = iso(due_at) if isinstance(due_at, int) else None
            all_day = isinstance(due_at, int) and due_at % DAY in DUE_TIMES[:2]
        if lock is not None:
            row["lock_at"] = iso(lock)
        row["all_day"] = all_day
        # Canvas's "fancy midnight": 23:59:59 local time, here US Central (UTC-6/-5).
        row["all_day_date"] = iso(due_at - 6 * 3600)[:10] if all_day else None  # type: ignore[operator]
        return row

    def section_override(section: SectionRef, due_at: object) -> dict:
        return override({"course_section_id": section.id}, section.name, due_at)

    if mode == "section_dates":
        chosen = rng.sample(active, rng.randint(1, len(active)))
        rows = []
        for section in sorted(chosen, key=lambda s: s.id):
            if rng.random() < 0.2:
                # Only the availability window changes; the due date is not overridden.
                rows.append(
                    override({"course_section_id": section.id}, section.name, lock=anchor + 5 * DAY)
                )
            else:
                rows.append(section_override(section, anchor + rng.randrange(0, 3) * DAY))
        return rows, False, due
    if mode == "only_sections_all":
        rows = [section_override(s, anchor + rng.randrange(0, 2) * DAY) for s in active]
        return rows, True, None if rng.random() < 0.5 else due
    if mode == "only_sections_some" and len(active) > 1:
        chosen = sorted(rng.sample(active, rng.randint(1, len(active) - 1)), key=lambda s: s.id)
        return [section_override(s, anchor) for s in chosen], True, due
    if mode == "students" and student_ids:
        picked = sorted(rng.sample(student_ids, min(len(student_ids), rng.randint(1, 3))))
        title = "1 student" if len(picked) == 1 else f"{len(picked)} students"
        draw = rng.random()
        due_at: object = anchor + 2 * DAY if draw < 0.7 else anchor if draw < 0.85 else ABSENT
        lock = anchor + 6 * DAY if due_at is ABSENT else None
        return [override({"student_ids": picked}, title, due_at, lock)], False, due
    if mode == "group":
        group_id = STUDENT_GROUP_ID_BASE + index * 10 + rng.randrange(10)
        return (
            [override({"group_id": group_id}, f"Lab Group {group_id % 10 + 1}", anchor + DAY)],
            False,
            due,
        )
    if mode == "course":
        due_at = anchor if rng.random() < 0.5 else anchor + DAY
        return [override({"course_id": course_id}, "Everyone", due_at)], False, due
    if mode == "null_due":
        return [section_override(rng.choice(active), None)], False, due
    return [], False, due
