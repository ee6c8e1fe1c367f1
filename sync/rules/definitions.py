"""The rule book's definitions: synced assignment, active and assigned sections, effective due date.

These are shared with the passback and the teacher pages, which must agree with the rules on
which (assignment, section) pairs exist and which date each one carries.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sync.rules.data import (
    TARGET_COURSE,
    TARGET_GROUP,
    TARGET_SECTION,
    TARGET_STUDENTS,
    AssignmentIn,
    CourseIn,
    OverrideIn,
    SectionIn,
)


def to_minute(moment: datetime) -> datetime:
    """``moment`` in UTC without seconds: the rule book compares dates to the minute."""
    if moment.tzinfo is not UTC:  # dates from the database already are: skip the conversion
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"GPB rules need timezone-aware datetimes, got {moment!r}")
        moment = moment.astimezone(UTC)
    return moment.replace(second=0, microsecond=0)


def minute_of(moment: datetime) -> int:
    """The minute of ``moment`` as a number (minutes since 1970 in UTC): compares as
    ``to_minute`` does, for a third of its cost (the rule book compares every due date of a
    district at each import)."""
    if moment.tzinfo is not UTC and (moment.tzinfo is None or moment.utcoffset() is None):
        raise ValueError(f"GPB rules need timezone-aware datetimes, got {moment!r}")
    return (moment - _EPOCH) // _MINUTE


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE = timedelta(minutes=1)


def same_minute(first: datetime | None, second: datetime | None) -> bool:
    """Whether two due dates are the same to the minute; "no date" equals only "no date"."""
    if first is None or second is None:
        return first is None and second is None
    return minute_of(first) == minute_of(second)


def normalised(text: str) -> str:
    """A name or category title as the rules compare it: trimmed and case-insensitive."""
    return text.strip().casefold()


def has_text(value: str | None) -> bool:
    """Whether an id field is really set (Canvas sometimes sends "" for "none")."""
    return value is not None and value.strip() != ""


def is_course_deleted(course: CourseIn) -> bool:
    """A course counts as deleted by its flag or by Canvas's ``deleted`` workflow state."""
    return course.deleted or course.workflow_state == "deleted"


def is_synced(assignment: AssignmentIn, course: CourseIn) -> bool:
    """``post_to_sis`` on, assignment not deleted, course not deleted."""
    return assignment.post_to_sis and not assignment.deleted and not is_course_deleted(course)


def synced_assignments(course: CourseIn) -> list[AssignmentIn]:
    """The course's synced assignments, in canvas id order."""
    synced = [a for a in course.assignments if is_synced(a, course)]
    return sorted(synced, key=lambda a: a.canvas_id)


def active_sections(course: CourseIn) -> list[SectionIn]:
    """Sections not deleted and with at least one active student, in canvas id order."""
    active = [s for s in course.sections if not s.deleted and s.active_students > 0]
    return sorted(active, key=lambda s: s.canvas_id)


def course_has_sis_id(course: CourseIn) -> bool:
    """``sis_course_id`` set, or a section (any not deleted, active or not) with a SIS id."""
    if has_text(course.sis_course_id):
        return True
    return any(has_text(s.sis_section_id) for s in course.sections if not s.deleted)


def live_overrides(assignment: AssignmentIn, target: str) -> list[OverrideIn]:
    """The assignment's overrides of one target that are not deleted, in canvas id order."""
    if not assignment.overrides:  # most assignments: skip the work, this runs per section
        return []
    live = [o for o in assignment.overrides if o.target == target and not o.deleted]
    return sorted(live, key=lambda o: o.canvas_id)


def _first_setting_due_date(overrides: Iterable[OverrideIn]) -> OverrideIn | None:
    # Canvas keeps one active override per section (and one "Everyone" override); should the data
    # hold several anyway, the oldest one that sets the due date decides, so results are stable.
    return next((o for o in overrides if o.due_at_overridden), None)


def base_due_at(assignment: AssignmentIn) -> datetime | None:
    """The date of everyone not covered by a section override that sets a due date.

    A ``"course"`` override is Canvas's "Everyone" override (selective release, "Assign To"): it
    applies to every student of the course, exactly like the assignment's own date, so when it
    sets the due date it takes the base date's place; when it does not, the base ``due_at``
    stays in force. A section override is the more specific one and wins over both (see
    ``effective_due_at``).
    """
    everyone = _first_setting_due_date(live_overrides(assignment, TARGET_COURSE))
    return everyone.due_at if everyone is not None else assignment.due_at


def section_override(assignment: AssignmentIn, section: SectionIn) -> OverrideIn | None:
    """The section's live override that decides its due date, or any live one if none sets it."""
    if not assignment.overrides:
        return None
    mine = [
        o for o in live_overrides(assignment, TARGET_SECTION) if o.section_id == section.canvas_id
    ]
    return _first_setting_due_date(mine) or (mine[0] if mine else None)


def effective_due_at(assignment: AssignmentIn, section: SectionIn) -> datetime | None:
    """The section's due date: its override's ``due_at`` when that override sets the due date
    (even to none), else the base date (``base_due_at``: the "Everyone" override's or the
    assignment's own)."""
    override = section_override(assignment, section)
    if override is not None and override.due_at_overridden:
        return override.due_at
    return base_due_at(assignment)


def assigned_sections(assignment: AssignmentIn, course: CourseIn) -> list[SectionIn]:
    """The active sections that get a line item for this assignment, in canvas id order.

    Every active section, unless ``only_visible_to_overrides``: then only those with a live
    section override. A live "Everyone" override makes the assignment visible to the whole
    course again (Canvas's ``visible_to_everyone``), so then every active section is assigned.
    """
    sections = active_sections(course)
    if not assignment.only_visible_to_overrides or live_overrides(assignment, TARGET_COURSE):
        return sections
    covered = {o.section_id for o in live_overrides(assignment, TARGET_SECTION)}
    return [s for s in sections if s.canvas_id in covered]


def latest_due_at(assignment: AssignmentIn, course: CourseIn) -> datetime | None:
    """The latest effective due date over the assigned sections (``None`` when none has one)."""
    dates = [effective_due_at(assignment, s) for s in assigned_sections(assignment, course)]
    known = [to_minute(d) for d in dates if d is not None]
    return max(known, default=None)


def student_overrides(assignment: AssignmentIn, course: CourseIn) -> list[OverrideIn]:
    """Live overrides for individual students or groups, in canvas id order.

    One pinned (``section_id``) to a section that is not active is left out: its students sit
    only in a section the rule book ignores.
    """
    active_ids = {s.canvas_id for s in active_sections(course)}
    return sorted(
        (
            o
            for o in assignment.overrides
            if o.target in (TARGET_STUDENTS, TARGET_GROUP)
            and not o.deleted
            and (o.section_id is None or o.section_id in active_ids)
        ),
        key=lambda o: o.canvas_id,
    )
