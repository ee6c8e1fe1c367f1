"""Fixes in place: write a new name or due date to Canvas as the teacher, then re-read the course.

The write goes out with the teacher's own Canvas token (so Canvas applies its own permissions),
then the course is imported again on its own and its violations refreshed, so the sync page shows
what Canvas now holds. A Canvas refusal is raised as ``FixRefused`` in words a teacher can act
on; nothing is changed locally then.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser

from courses.models import Assignment, AssignmentOverride, Course, Section
from sync.canvas import CanvasError
from sync.importer import district_import
from sync.models import ImportRun
from teachers.access import CanvasSignInRequired, canvas_client_for

logger = logging.getLogger(__name__)


class FixRefused(Exception):
    """Canvas did not take the change; the message says why in plain words."""


@dataclass(frozen=True)
class FixResult:
    message: str
    reimported: bool


def assignment_fix(
    *,
    user: AbstractBaseUser,
    course: Course,
    assignment: Assignment,
    name: str | None = None,
    due_at: datetime | None = None,
    section: Section | None = None,
) -> FixResult:
    """Rename the assignment and/or give it (or one section of it) a due date in Canvas, then
    re-import the course. Raises FixRefused, or CanvasSignInRequired when the teacher must
    sign in with Canvas again."""
    if name is None and due_at is None:
        raise ValueError("assignment_fix needs a name or a due date")
    client = canvas_client_for(user)
    done = []
    try:
        if name is not None:
            client.update_assignment(course.canvas_id, assignment.canvas_id, name=name)
            done.append(f"Renamed to \u201c{name}\u201d in Canvas")
        if due_at is not None:
            override = _override_setting_due_date(assignment, section)
            if override is not None:
                client.update_override_due_at(
                    course.canvas_id, assignment.canvas_id, override.canvas_id, due_at
                )
            else:
                client.update_assignment(course.canvas_id, assignment.canvas_id, due_at=due_at)
            where = f" for {section.name}" if section is not None and override else ""
            done.append(f"Due date{where} set in Canvas")
    except CanvasSignInRequired:
        raise
    except CanvasError as exc:
        logger.info(
            "Canvas refused a fix of assignment %s by user %s: %s",
            assignment.canvas_id,
            user.pk,
            exc,
        )
        raise FixRefused(_plain_words(exc, done)) from exc
    finally:
        client.close()

    run = district_import(
        course_ids=[course.canvas_id], requested_by=f"fix by {user.get_username()}"[:100]
    )
    reimported = run.status == ImportRun.Status.SUCCEEDED
    message = "; ".join(done) + "."
    if reimported:
        message += " The page shows the course as Canvas now has it."
    else:
        message += (
            " Reading the course back from Canvas failed, so the page may still show the old "
            "value until the next import."
        )
    return FixResult(message=message, reimported=reimported)


def _override_setting_due_date(
    assignment: Assignment, section: Section | None
) -> AssignmentOverride | None:
    """The override whose due date applies to the section, if one does (as the rule book
    decides the effective due date): the section's own override, else the "Everyone" one that
    sets the date; None when the assignment's own due date applies."""
    overrides = AssignmentOverride.objects.filter(
        assignment_id=assignment.canvas_id, deleted=False
    ).order_by("canvas_id")
    if section is not None:
        mine = list(overrides.filter(target="section", section_id=section.canvas_id))
        setting = next((o for o in mine if o.due_at_overridden), None)
        if setting is not None:
            return setting
    return overrides.filter(target="course", due_at_overridden=True).first()


def _plain_words(exc: CanvasError, done: list[str]) -> str:
    before = (" " + "; ".join(done) + ", but the rest was not.") if done else ""
    if exc.kind in ("unreachable", "throttled") or (exc.status or 0) >= 500:
        return (
            "Canvas did not answer, so the change may not have been saved. "
            f"Please try again in a minute.{before}"
        )
    if exc.status in (401, 403) or exc.kind == "auth":
        return f"Canvas does not let you change this assignment.{before}"
    if exc.status == 404:
        return (
            "Canvas no longer has this assignment (it may have been deleted). "
            f"The page will catch up at the next import.{before}"
        )
    text = str(exc)
    detail = text.split(": ", 1)[1] if ": " in text else ""
    said = f" Canvas says: {detail}" if detail else ""
    return f"Canvas did not accept the change.{said}{before}"
