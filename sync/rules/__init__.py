"""The GPB rule book (ARCHITECTURE.md section 5): plain data in, findings out; no ORM, no HTTP.

``evaluate_course`` runs every rule the policy enables over one ``CourseIn``. The definitions
(``is_synced``, ``active_sections``, ``assigned_sections``, ``effective_due_at``) are exported too,
so that the passback and the teacher pages agree with the rules on what syncs where, and
``blocking_scope`` tells the passback which (assignment, section) pairs the findings stop.
"""

from sync.rules.catalog import RULE_ORDER, RULES, RuleSpec
from sync.rules.data import (
    ASSIGNMENT,
    BLOCKING,
    COURSE,
    INFO,
    SCOPES,
    SECTION,
    SEVERITIES,
    WARNING,
    AssignmentIn,
    CourseIn,
    Finding,
    OverrideIn,
    Policy,
    SectionIn,
    SeverityOverrides,
)
from sync.rules.definitions import (
    active_sections,
    assigned_sections,
    base_due_at,
    course_has_sis_id,
    effective_due_at,
    is_course_deleted,
    is_synced,
    latest_due_at,
    same_minute,
    to_minute,
)
from sync.rules.engine import CHECKS, BlockingScope, blocking_scope, evaluate_course

__all__ = [
    "ASSIGNMENT",
    "BLOCKING",
    "CHECKS",
    "COURSE",
    "INFO",
    "RULES",
    "RULE_ORDER",
    "SCOPES",
    "SECTION",
    "SEVERITIES",
    "WARNING",
    "AssignmentIn",
    "BlockingScope",
    "CourseIn",
    "Finding",
    "OverrideIn",
    "Policy",
    "RuleSpec",
    "SectionIn",
    "SeverityOverrides",
    "active_sections",
    "assigned_sections",
    "base_due_at",
    "blocking_scope",
    "course_has_sis_id",
    "effective_due_at",
    "evaluate_course",
    "is_course_deleted",
    "is_synced",
    "latest_due_at",
    "same_minute",
    "to_minute",
]
