"""Runs the whole rule book over one course, and says what the blocking findings stop."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sync.rules import assignment_rules, course_rules, due_date_rules
from sync.rules.catalog import RULE_ORDER, RULES
from sync.rules.data import BLOCKING, CourseIn, Finding, Policy
from sync.rules.definitions import is_course_deleted, to_minute

Check = Callable[[CourseIn, Policy, datetime], list[Finding]]

CHECKS: dict[str, Check] = {
    "course_unpublished": course_rules.rule_course_unpublished,
    "course_not_in_sis": course_rules.rule_course_not_in_sis,
    "section_not_in_sis": course_rules.rule_section_not_in_sis,
    "assignment_unpublished": assignment_rules.rule_assignment_unpublished,
    "name_too_long": assignment_rules.rule_name_too_long,
    "name_not_unique": assignment_rules.rule_name_not_unique,
    "not_counted_in_final_grade": assignment_rules.rule_not_counted_in_final_grade,
    "differentiated": assignment_rules.rule_differentiated,
    "missing_due_date": due_date_rules.rule_missing_due_date,
    "due_date_varies": due_date_rules.rule_due_date_varies,
    "due_date_outside_term": due_date_rules.rule_due_date_outside_term,
    "due_date_outside_availability": due_date_rules.rule_due_date_outside_availability,
    "category_not_in_sis": assignment_rules.rule_category_not_in_sis,
    "hidden_grades_will_sync": assignment_rules.rule_hidden_grades_will_sync,
    "no_grades_entered": due_date_rules.rule_no_grades_entered,
    "not_set_to_sync": assignment_rules.rule_not_set_to_sync,
}
assert CHECKS.keys() == RULES.keys(), "every rule in the table has exactly one check"


def _none_first(value: int | None) -> tuple[bool, int]:
    return (value is not None, value or 0)


def finding_order(found: Finding) -> tuple:
    """Sort key: rule table order, then assignment, then section (``None`` first), then text."""
    return (
        RULE_ORDER[found.rule],
        _none_first(found.assignment_id),
        _none_first(found.section_id),
        found.message,
    )


def evaluate_course(course: CourseIn, policy: Policy, now: datetime) -> list[Finding]:
    """Every rule the policy enables, over one course, in a stable order (see ``finding_order``).

    A deleted course has no findings at all. ``now`` must be timezone-aware.
    """
    to_minute(now)  # fail fast on a naive "now" rather than deep inside one rule
    if is_course_deleted(course):
        return []
    found = [
        item
        for code, check in CHECKS.items()
        if policy.is_enabled(code)
        for item in check(course, policy, now)
    ]
    return sorted(found, key=finding_order)


def _codes(codes: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(codes), key=RULE_ORDER.__getitem__))


@dataclass(frozen=True)
class BlockingScope:
    """What blocking findings stop, each entry with the rule codes that stop it.

    ``courses``: course-scoped findings stop the whole course. ``assignments``: assignment-scoped
    ones stop the assignment in every section. ``sections``: ``section_not_in_sis`` stops the
    section for every assignment. ``pairs``: a section-scoped finding of an assignment stops that
    (assignment, section) pair only. Canvas ids are unique per table, so they key directly.
    """

    courses: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    assignments: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    sections: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    pairs: Mapping[tuple[int, int], tuple[str, ...]] = field(default_factory=dict)

    def rules_blocking(
        self, course_id: int, assignment_id: int, section_id: int
    ) -> tuple[str, ...]:
        """The codes that stop passback of this assignment to this section (empty: go ahead)."""
        return _codes(
            (
                *self.courses.get(course_id, ()),
                *self.assignments.get(assignment_id, ()),
                *self.sections.get(section_id, ()),
                *self.pairs.get((assignment_id, section_id), ()),
            )
        )

    def is_blocked(self, course_id: int, assignment_id: int, section_id: int) -> bool:
        """Whether anything stops passback of this assignment to this section."""
        return bool(self.rules_blocking(course_id, assignment_id, section_id))


def blocking_scope(findings: Iterable[Finding]) -> BlockingScope:
    """Sort blocking findings (severity after policy) by what they stop; others are ignored."""
    courses: dict[int, list[str]] = {}
    assignments: dict[int, list[str]] = {}
    sections: dict[int, list[str]] = {}
    pairs: dict[tuple[int, int], list[str]] = {}
    for found in findings:
        if found.severity != BLOCKING:
            continue
        assignment, section = found.assignment_id, found.section_id
        if assignment is not None and section is not None:
            pairs.setdefault((assignment, section), []).append(found.rule)
        elif assignment is not None:
            assignments.setdefault(assignment, []).append(found.rule)
        elif section is not None:
            sections.setdefault(section, []).append(found.rule)
        else:
            courses.setdefault(found.course_id, []).append(found.rule)
    return BlockingScope(
        courses={k: _codes(v) for k, v in courses.items()},
        assignments={k: _codes(v) for k, v in assignments.items()},
        sections={k: _codes(v) for k, v in sections.items()},
        pairs={k: _codes(v) for k, v in pairs.items()},
    )
