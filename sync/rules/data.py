"""The plain data the rule book reads (course, sections, assignments, overrides, policy) and writes.

Everything here is a frozen dataclass so a caller can build it from any source (ORM rows, Canvas
JSON, a test factory) and the rules can never change it. All datetimes must be timezone-aware.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

BLOCKING = "blocking"
WARNING = "warning"
INFO = "info"
SEVERITIES = (BLOCKING, WARNING, INFO)

COURSE = "course"
SECTION = "section"
ASSIGNMENT = "assignment"
SCOPES = (COURSE, SECTION, ASSIGNMENT)

# Override targets, as the importer names Canvas's set types (ADHOC -> "students",
# CourseSection -> "section", Group -> "group", Course -> "course", the "Everyone" override).
TARGET_SECTION = "section"
TARGET_STUDENTS = "students"
TARGET_GROUP = "group"
TARGET_COURSE = "course"

NOT_GRADED = "not_graded"


class SeverityOverrides(Mapping[str, str]):
    """An immutable, hashable ``rule code -> severity`` mapping, so that ``Policy`` stays hashable.

    Built from any mapping or iterable of ``(code, severity)`` pairs; every severity must be one
    of ``SEVERITIES``. Codes are not checked against the rule book: a stale code is harmless.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = dict(items.items() if isinstance(items, Mapping) else items)
        for code, severity in pairs.items():
            if severity not in SEVERITIES:
                raise ValueError(
                    f"Severity {severity!r} for rule {code!r} is not one of {', '.join(SEVERITIES)}"
                )
        self._items: dict[str, str] = pairs

    def __getitem__(self, code: str) -> str:
        return self._items[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"SeverityOverrides({self._items!r})"


@dataclass(frozen=True)
class Policy:
    """The district's choices that the rules depend on (the ``DistrictPolicy`` row, flattened).

    ``disabled`` accepts any iterable of rule codes and ``severity`` any mapping (or pairs) of
    rule code to severity; both are frozen on construction (``frozenset`` and
    ``SeverityOverrides``) so a policy is hashable and can key a cache. ``display_tz`` is the
    zone dates are written in inside messages (an addition to the contract: teachers read
    "11:59 PM" in their own zone, not UTC). ``sync_window_days`` is not read by any rule; it
    travels with the policy for the passback.
    """

    name_max_length: int = 30
    sync_window_days: int = 30
    allow_section_due_dates: bool = True
    disabled: frozenset[str] = frozenset()
    severity: Mapping[str, str] = field(default_factory=SeverityOverrides)
    display_tz: tzinfo = UTC

    def __post_init__(self) -> None:
        object.__setattr__(self, "disabled", frozenset(self.disabled))
        object.__setattr__(self, "severity", SeverityOverrides(self.severity))

    def is_enabled(self, code: str) -> bool:
        """Whether the rule ``code`` runs under this policy."""
        return code not in self.disabled


@dataclass(frozen=True)
class SectionIn:
    """One Canvas section; ``active_students`` = its active student enrollments."""

    canvas_id: int
    name: str
    sis_section_id: str | None
    active_students: int
    deleted: bool = False


@dataclass(frozen=True)
class OverrideIn:
    """One assignment override.

    ``section_id`` names the section of a ``"section"`` override. For a ``"students"`` or
    ``"group"`` override it may name the one section its students sit in, when the caller knows;
    left ``None``, the override is taken to concern every assigned section.
    ``due_at_overridden`` is true when Canvas sent the ``due_at`` key: the override sets the due
    date, and ``due_at = None`` then means "no due date".
    """

    canvas_id: int
    target: str
    section_id: int | None
    due_at: datetime | None
    due_at_overridden: bool
    deleted: bool = False


@dataclass(frozen=True)
class AssignmentIn:
    """One Canvas assignment with its overrides and grade counts.

    ``graded_count`` counts submissions with a score or excused; ``hidden_graded_count`` those of
    them not yet posted to students (``posted_at`` null).
    """

    canvas_id: int
    name: str
    published: bool
    post_to_sis: bool
    due_at: datetime | None
    unlock_at: datetime | None
    lock_at: datetime | None
    grading_type: str
    omit_from_final_grade: bool
    only_visible_to_overrides: bool
    group_name: str | None
    overrides: tuple[OverrideIn, ...] = ()
    graded_count: int = 0
    hidden_graded_count: int = 0
    deleted: bool = False


@dataclass(frozen=True)
class CourseIn:
    """One Canvas course with everything the rules look at.

    ``start_at``/``end_at`` are the course's own dates; each one, when set, wins over the term's.
    ``sis_categories`` holds the raw Infinite Campus category titles known for the course's
    classes (the rules trim and case-fold them), or ``None`` when unknown.
    """

    canvas_id: int
    name: str
    workflow_state: str
    sis_course_id: str | None
    term_start: datetime | None
    term_end: datetime | None
    start_at: datetime | None
    end_at: datetime | None
    sections: tuple[SectionIn, ...] = ()
    assignments: tuple[AssignmentIn, ...] = ()
    sis_categories: frozenset[str] | None = None
    deleted: bool = False


@dataclass(frozen=True)
class Finding:
    """One rule violation, as the rules report it (storing it is someone else's job).

    ``assignment_id`` is set for assignment- and section-scoped findings of an assignment;
    ``section_id`` for section-scoped ones (``section_not_in_sis`` has a section and no
    assignment; course-scoped findings have neither).
    """

    rule: str
    severity: str
    course_id: int
    assignment_id: int | None
    section_id: int | None
    message: str
