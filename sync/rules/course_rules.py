"""Rules about the course and its sections: published, linked to Infinite Campus."""

from datetime import datetime

from sync.rules.catalog import finding
from sync.rules.data import CourseIn, Finding, Policy
from sync.rules.definitions import (
    active_sections,
    course_has_sis_id,
    has_text,
    synced_assignments,
)
from sync.rules.wording import counted, quoted


def rule_course_unpublished(course: CourseIn, policy: Policy, now: datetime) -> list[Finding]:
    """The course has a synced assignment and is unpublished (``completed`` counts as published)."""
    synced = synced_assignments(course)
    if not synced or course.workflow_state != "unpublished":
        return []
    message = (
        f"Publish the course in Canvas: while it is unpublished, none of its "
        f"{counted(len(synced), 'synced assignment')} can pass grades to Infinite Campus."
    )
    return [finding("course_unpublished", policy, course.canvas_id, message)]


def rule_course_not_in_sis(course: CourseIn, policy: Policy, now: datetime) -> list[Finding]:
    """The course has a synced assignment and neither it nor any section has a SIS id."""
    if not synced_assignments(course) or course_has_sis_id(course):
        return []
    message = (
        "This course has no SIS id (course or sections): ask the district to link it to "
        "Infinite Campus."
    )
    return [finding("course_not_in_sis", policy, course.canvas_id, message)]


def rule_section_not_in_sis(course: CourseIn, policy: Policy, now: datetime) -> list[Finding]:
    """Each active section without a SIS id, in a course that syncs and has a SIS id.

    A course with no SIS id at all gets ``course_not_in_sis`` instead, never one row per section.
    """
    if not synced_assignments(course) or not course_has_sis_id(course):
        return []
    return [
        finding(
            "section_not_in_sis",
            policy,
            course.canvas_id,
            f"Section {quoted(section.name)} has no SIS id: ask the district to link it to its "
            f"Infinite Campus class, or its grades cannot sync.",
            section_id=section.canvas_id,
        )
        for section in active_sections(course)
        if not has_text(section.sis_section_id)
    ]
