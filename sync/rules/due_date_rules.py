"""Rules about due dates: present, one per section, inside the term and the availability window,
and graded once long past. All of them look at synced assignments and their assigned sections."""

from datetime import datetime, timedelta

from sync.rules.catalog import finding
from sync.rules.data import TARGET_GROUP, TARGET_STUDENTS, CourseIn, Finding, OverrideIn, Policy
from sync.rules.definitions import (
    assigned_sections,
    base_due_at,
    effective_due_at,
    latest_due_at,
    minute_of,
    same_minute,
    section_override,
    student_overrides,
    synced_assignments,
    to_minute,
)
from sync.rules.wording import counted, quoted, when

GRADING_GRACE = timedelta(days=7)


def rule_missing_due_date(course: CourseIn, policy: Policy, now: datetime) -> list[Finding]:
    """Each assigned section of a synced assignment whose effective due date is none."""
    found = []
    for a in synced_assignments(course):
        for section in assigned_sections(a, course):
            if effective_due_at(a, section) is not None:
                continue
            override = section_override(a, section)
            why = (
                "its section override removes the due date"
                if override is not None and override.due_at_overridden
                else "it has none"
            )
            found.append(
                finding(
                    "missing_due_date",
                    policy,
                    course.canvas_id,
                    f"Set a due date for section {quoted(section.name)} ({why}).",
                    assignment_id=a.canvas_id,
                    section_id=section.canvas_id,
                )
            )
    return found


def _differing(overrides: list[OverrideIn], section_due: datetime | None) -> str:
    """``2 student overrides and 1 group override differ from the section's date`` and the like."""
    students = sum(1 for o in overrides if o.target == TARGET_STUDENTS)
    groups = sum(1 for o in overrides if o.target == TARGET_GROUP)
    parts = [counted(students, "student override")] if students else []
    parts += [counted(groups, "group override")] if groups else []
    what = " and ".join(parts)
    if section_due is None:
        verb = "sets" if len(overrides) == 1 else "set"
        return f"{what} {verb} a due date though the section has none"
    verb = "differs" if len(overrides) == 1 else "differ"
    return f"{what} {verb} from the section's date"


def rule_due_date_varies(course: CourseIn, policy: Policy, now: datetime) -> list[Finding]:
    """Per assigned section: a student or group override setting another date than the section's.

    An override that names no section concerns every assigned section, since we cannot tell
    where its students sit. Under ``allow_section_due_dates = False`` the assignment also gets
    one assignment-scoped finding when its assigned sections' dates differ from each other.
    """
    found = []
    zone = policy.display_tz
    for a in synced_assignments(course):
        sections = assigned_sections(a, course)
        dated = [o for o in student_overrides(a, course) if o.due_at_overridden]
        dates: dict[datetime | None, list[str]] = {}
        for section in sections:
            due = effective_due_at(a, section)
            dates.setdefault(None if due is None else to_minute(due), []).append(section.name)
            differing = [
                o
                for o in dated
                if o.section_id in (None, section.canvas_id) and not same_minute(o.due_at, due)
            ]
            if not differing:
                continue
            said = _differing(differing, due)
            tail = f" ({when(due, zone)})" if due is not None else ""
            found.append(
                finding(
                    "due_date_varies",
                    policy,
                    course.canvas_id,
                    f"Give every student in section {quoted(section.name)} the same due date: "
                    f"{said}{tail}.",
                    assignment_id=a.canvas_id,
                    section_id=section.canvas_id,
                )
            )
        if not policy.allow_section_due_dates and len(dates) > 1:
            found.append(_sections_disagree(course, policy, a.canvas_id, dates))
    return found


def _sections_disagree(
    course: CourseIn, policy: Policy, assignment_id: int, dates: dict[datetime | None, list[str]]
) -> Finding:
    """The one assignment-scoped ``due_date_varies`` finding, listing which section has which."""
    ordered = sorted(dates, key=lambda d: (d is None, d.timestamp() if d else 0.0))
    parts = [
        f"{when(d, policy.display_tz)} for {', '.join(quoted(n) for n in dates[d])}"
        for d in ordered[:4]
    ]
    listing = "; ".join(parts) + ("; \u2026" if len(ordered) > 4 else "")
    message = (
        f"Give every section the same due date (the district does not allow a date per "
        f"section): its sections have {len(dates)} different ones ({listing})."
    )
    return finding(
        "due_date_varies", policy, course.canvas_id, message, assignment_id=assignment_id
    )


def rule_due_date_outside_term(course: CourseIn, policy: Policy, now: datetime) -> list[Finding]:
    """Each assigned section whose effective due date is before the start or after the end of the
    course (its own dates when set, each one separately, else the term's)."""
    own_start, own_end = course.start_at is not None, course.end_at is not None
    start, start_of = (course.start_at, "course") if own_start else (course.term_start, "term")
    end, end_of = (course.end_at, "course") if own_end else (course.term_end, "term")
    zone = policy.display_tz
    first = None if start is None else minute_of(start)
    last = None if end is None else minute_of(end)
    found = []
    for a in synced_assignments(course):
        for section in assigned_sections(a, course):
            due = effective_due_at(a, section)
            if due is None:
                continue
            if first is not None and minute_of(due) < first:
                of, where = start_of, f"before the {start_of} starts ({when(start, zone)})"
            elif last is not None and minute_of(due) > last:
                of, where = end_of, f"after the {end_of} ends ({when(end, zone)})"
            else:
                continue
            found.append(
                finding(
                    "due_date_outside_term",
                    policy,
                    course.canvas_id,
                    f"Move the due date for section {quoted(section.name)} "
                    f"({when(due, zone)}) inside the {of}'s dates: it is {where}.",
                    assignment_id=a.canvas_id,
                    section_id=section.canvas_id,
                )
            )
    return found


def rule_due_date_outside_availability(
    course: CourseIn, policy: Policy, now: datetime
) -> list[Finding]:
    """A synced assignment whose base due date (``base_due_at``: the "Everyone" override's when it
    sets one) is before ``unlock_at`` or after ``lock_at``; equal to either is fine."""
    zone = policy.display_tz
    found = []
    for a in synced_assignments(course):
        due = base_due_at(a)
        if due is None:
            continue
        if a.unlock_at is not None and minute_of(due) < minute_of(a.unlock_at):
            where = f"before \u201cAvailable from\u201d ({when(a.unlock_at, zone)})"
        elif a.lock_at is not None and minute_of(due) > minute_of(a.lock_at):
            where = f"after \u201cUntil\u201d ({when(a.lock_at, zone)})"
        else:
            continue
        found.append(
            finding(
                "due_date_outside_availability",
                policy,
                course.canvas_id,
                f"Move the due date ({when(due, zone)}) into the time the assignment is "
                f"available: it is {where}.",
                assignment_id=a.canvas_id,
            )
        )
    return found


def rule_no_grades_entered(course: CourseIn, policy: Policy, now: datetime) -> list[Finding]:
    """A synced assignment without a single graded submission, whose latest effective due date
    (over its assigned sections) passed more than 7 days before ``now``."""
    found = []
    for a in synced_assignments(course):
        if a.graded_count > 0:
            continue
        latest = latest_due_at(a, course)
        if latest is None or to_minute(now) - latest <= GRADING_GRACE:
            continue
        found.append(
            finding(
                "no_grades_entered",
                policy,
                course.canvas_id,
                f"Enter its grades (or excuse the students who are exempt): it was due "
                f"{when(latest, policy.display_tz)}, more than 7 days ago, and has no grades yet.",
                assignment_id=a.canvas_id,
            )
        )
    return found
