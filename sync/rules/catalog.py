"""The GPB rule book's table: every rule code with its default severity, scope and wording."""

from dataclasses import dataclass

from sync.rules.data import ASSIGNMENT, BLOCKING, COURSE, INFO, SECTION, WARNING, Finding, Policy


@dataclass(frozen=True)
class RuleSpec:
    """What a rule is, independent of any data: for admin choices, filters and help texts."""

    code: str
    default_severity: str
    scope: str
    title: str
    description: str


_SPECS = (
    RuleSpec(
        "course_unpublished",
        BLOCKING,
        COURSE,
        "Course unpublished",
        "The course has assignments set to sync but is not published in Canvas.",
    ),
    RuleSpec(
        "course_not_in_sis",
        BLOCKING,
        COURSE,
        "Course not in SIS",
        "The course has assignments set to sync but neither it nor any section has a SIS id.",
    ),
    RuleSpec(
        "section_not_in_sis",
        BLOCKING,
        SECTION,
        "Section not in SIS",
        "An active section of a course that syncs grades has no SIS section id.",
    ),
    RuleSpec(
        "assignment_unpublished",
        BLOCKING,
        ASSIGNMENT,
        "Assignment unpublished",
        "The assignment is set to sync but is not published.",
    ),
    RuleSpec(
        "name_too_long",
        BLOCKING,
        ASSIGNMENT,
        "Name too long",
        "The assignment's name has more characters than the district's limit.",
    ),
    RuleSpec(
        "name_not_unique",
        BLOCKING,
        ASSIGNMENT,
        "Name not unique",
        "Two or more synced assignments of the course share a name (ignoring case and spaces).",
    ),
    RuleSpec(
        "not_counted_in_final_grade",
        BLOCKING,
        ASSIGNMENT,
        "Not counted in final grade",
        "The assignment is set to sync but is omitted from the final grade or not graded.",
    ),
    RuleSpec(
        "differentiated",
        BLOCKING,
        ASSIGNMENT,
        "Differentiated",
        "The assignment has overrides for individual students or groups.",
    ),
    RuleSpec(
        "missing_due_date",
        BLOCKING,
        SECTION,
        "Missing due date",
        "A section the assignment is given to has no due date.",
    ),
    RuleSpec(
        "due_date_varies",
        BLOCKING,
        SECTION,
        "Due date varies",
        "Students of one section (or, when the district requires it, the sections of the "
        "assignment) do not share one due date.",
    ),
    RuleSpec(
        "due_date_outside_term",
        WARNING,
        SECTION,
        "Due date outside term",
        "A section's due date falls outside the course's term or its own start and end dates.",
    ),
    RuleSpec(
        "due_date_outside_availability",
        WARNING,
        ASSIGNMENT,
        "Due date outside availability",
        "The due date is before the assignment becomes available or after it closes.",
    ),
    RuleSpec(
        "category_not_in_sis",
        BLOCKING,
        ASSIGNMENT,
        "Category not in SIS",
        "The assignment group's name matches no Infinite Campus category of the course's classes.",
    ),
    RuleSpec(
        "hidden_grades_will_sync",
        INFO,
        ASSIGNMENT,
        "Hidden grades will sync",
        "Some grades are hidden from students in Canvas but will still reach Infinite Campus.",
    ),
    RuleSpec(
        "no_grades_entered",
        INFO,
        ASSIGNMENT,
        "No grades entered",
        "The assignment was due more than a week ago and has no grades yet.",
    ),
    RuleSpec(
        "not_set_to_sync",
        INFO,
        ASSIGNMENT,
        "Not set to sync",
        "A published, graded assignment that counts toward the final grade is not set to sync.",
    ),
)

RULES: dict[str, RuleSpec] = {spec.code: spec for spec in _SPECS}

# Position of each code in the table: findings are reported in this order.
RULE_ORDER: dict[str, int] = {code: index for index, code in enumerate(RULES)}


def finding(
    code: str,
    policy: Policy,
    course_id: int,
    message: str,
    *,
    assignment_id: int | None = None,
    section_id: int | None = None,
) -> Finding:
    """A finding of rule ``code`` with the severity the policy gives that rule."""
    severity = policy.severity.get(code, RULES[code].default_severity)
    return Finding(code, severity, course_id, assignment_id, section_id, message)
