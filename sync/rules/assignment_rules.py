"""Rules about one assignment as a whole: published, named, counted, differentiated, categorised,
graded, set to sync. Every rule but ``not_set_to_sync`` looks at synced assignments only."""

from collections import Counter
from datetime import datetime

from sync.rules.catalog import finding
from sync.rules.data import (
    NOT_GRADED,
    TARGET_GROUP,
    TARGET_STUDENTS,
    CourseIn,
    Finding,
    Policy,
)
from sync.rules.definitions import (
    course_has_sis_id,
    is_course_deleted,
    normalised,
    student_overrides,
    synced_assignments,
)
from sync.rules.wording import counted, quoted, short_list


def rule_assignment_unpublished(course: CourseIn, policy: Policy, now: datetime) -> list[Finding]:
    """A synced assignment that is not published."""
    message = (
        "Publish the assignment, or turn off \u201cSync to SIS\u201d if its grades should not "
        "go to Infinite Campus: unpublished assignments do not sync."
    )
    return [
        finding(
            "assignment_unpublished", policy, course.canvas_id, message, assignment_id=a.canvas_id
        )
        for a in synced_assignments(course)
        if not a.published
    ]


def rule_name_too_long(course: CourseIn, policy: Policy, now: datetime) -> list[Finding]:
    """A synced assignment whose name has more characters (not bytes) than the policy allows."""
    limit = policy.name_max_length
    return [
        finding(
            "name_too_long",
            policy,
            course.canvas_id,
            f"Shorten the name to {limit} characters or fewer (now {len(a.name)}).",
            assignment_id=a.canvas_id,
        )
        for a in synced_assignments(course)
        if len(a.name) > limit
    ]


def rule_name_not_unique(course: CourseIn, policy: Policy, now: datetime) -> list[Finding]:
    """Every synced assignment whose name (trimmed, any case) another synced one also has."""
    synced = synced_assignments(course)
    uses = Counter(normalised(a.name) for a in synced)
    return [
        finding(
            "name_not_unique",
            policy,
            course.canvas_id,
            f"Rename it: {uses[normalised(a.name)]} synced assignments in this course are named "
            f"{quoted(a.name.strip())}.",
            assignment_id=a.canvas_id,
        )
        for a in synced
        if uses[normalised(a.name)] > 1
    ]


def rule_not_counted_in_final_grade(
    course: CourseIn, policy: Policy, now: datetime
) -> list[Finding]:
    """A synced assignment omitted from the final grade or graded as ``not_graded``."""
    found = []
    for a in synced_assignments(course):
        if a.grading_type == NOT_GRADED:
            message = (
                "Give it a grading type other than \u201cNot graded\u201d, or turn off "
                "\u201cSync to SIS\u201d: Infinite Campus only takes grades that count."
            )
        elif a.omit_from_final_grade:
            message = (
                "Untick \u201cDo not count this assignment towards the final grade\u201d, or turn "
                "off \u201cSync to SIS\u201d: Infinite Campus only takes grades that count."
            )
        else:
            continue
        found.append(
            finding(
                "not_counted_in_final_grade",
                policy,
                course.canvas_id,
                message,
                assignment_id=a.canvas_id,
            )
        )
    return found


def rule_differentiated(course: CourseIn, policy: Policy, now: datetime) -> list[Finding]:
    """A synced assignment with a live override for individual students or a group, whatever
    dates it sets (an override that repeats the section's date still differentiates)."""
    found = []
    for a in synced_assignments(course):
        overrides = student_overrides(a, course)
        if not overrides:
            continue
        students = sum(1 for o in overrides if o.target == TARGET_STUDENTS)
        groups = sum(1 for o in overrides if o.target == TARGET_GROUP)
        kinds = [counted(students, "override") + " for individual students"] if students else []
        if groups:
            kinds.append(
                counted(groups, "override") + (" for a group" if groups == 1 else " for groups")
            )
        message = (
            f"Remove its {' and '.join(kinds)}, or give those students a separate assignment "
            f"that does not sync: Infinite Campus needs one due date for a whole section."
        )
        found.append(
            finding("differentiated", policy, course.canvas_id, message, assignment_id=a.canvas_id)
        )
    return found


def rule_category_not_in_sis(course: CourseIn, policy: Policy, now: datetime) -> list[Finding]:
    """A synced assignment whose group name matches none of the course's known IC categories.

    Only when categories are known (``sis_categories`` not ``None``, with a non-blank title);
    no assignment group at all matches nothing.
    """
    titles: dict[str, str] = {}
    for title in course.sis_categories or ():
        if normalised(title):
            titles.setdefault(normalised(title), title.strip())
    if not titles:
        return []
    names = short_list([titles[key] for key in sorted(titles)])
    found = []
    for a in synced_assignments(course):
        if a.group_name is not None and normalised(a.group_name) in titles:
            continue
        where = (
            "it is in no assignment group"
            if a.group_name is None
            else f"{quoted(a.group_name.strip())} matches none"
        )
        message = (
            f"Move it to an assignment group named like an Infinite Campus category "
            f"({names}); {where}."
        )
        found.append(
            finding(
                "category_not_in_sis", policy, course.canvas_id, message, assignment_id=a.canvas_id
            )
        )
    return found


def rule_hidden_grades_will_sync(course: CourseIn, policy: Policy, now: datetime) -> list[Finding]:
    """A synced assignment with graded submissions not yet posted to students."""
    return [
        finding(
            "hidden_grades_will_sync",
            policy,
            course.canvas_id,
            f"{counted(a.hidden_graded_count, 'graded submission')} hidden from students in "
            f"Canvas will still sync to Infinite Campus, where students and parents can see "
            f"grades: post them in Canvas once they are final.",
            assignment_id=a.canvas_id,
        )
        for a in synced_assignments(course)
        if a.hidden_graded_count > 0
    ]


def rule_not_set_to_sync(course: CourseIn, policy: Policy, now: datetime) -> list[Finding]:
    """A published assignment that counts toward the final grade, in a course with a SIS id,
    with ``post_to_sis`` off (deleted assignments and deleted courses aside)."""
    if is_course_deleted(course) or not course_has_sis_id(course):
        return []
    message = (
        "Turn on \u201cSync to SIS\u201d if this grade belongs in Infinite Campus: it is "
        "published and counts toward the final grade, but does not sync."
    )
    candidates = sorted(course.assignments, key=lambda a: a.canvas_id)
    return [
        finding("not_set_to_sync", policy, course.canvas_id, message, assignment_id=a.canvas_id)
        for a in candidates
        if not a.post_to_sis
        and not a.deleted
        and a.published
        and a.grading_type != NOT_GRADED
        and not a.omit_from_final_grade
    ]
