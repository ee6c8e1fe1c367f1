"""Small factory helpers: district rows written straight through the ORM, and API clients."""

import itertools
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import User
from rest_framework.test import APIClient

from courses.models import Account, Assignment, Course, Enrollment, Person, Section, Term
from sync import rules
from sync.models import Violation

T0 = datetime(2025, 9, 1, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


def school(canvas_id: int, parent: int | None = 1, name: str = "") -> Account:
    return Account.objects.create(
        canvas_id=canvas_id, parent_id=parent, name=name or f"School {canvas_id}"
    )


def term(canvas_id: int = 1, name: str = "") -> Term:
    return Term.objects.create(canvas_id=canvas_id, name=name or f"Term {canvas_id}")


def course(canvas_id: int, school: Account, term: Term | None = None, **fields: object) -> Course:
    values = {
        "name": f"Course {canvas_id}",
        "sis_course_id": f"SIS-C{canvas_id}",
        "workflow_state": "available",
        **fields,
    }
    return Course.objects.create(canvas_id=canvas_id, account=school, term=term, **values)


def section(canvas_id: int, course: Course, **fields: object) -> Section:
    values = {"name": f"Section {canvas_id}", "sis_section_id": f"SIS-S{canvas_id}", **fields}
    return Section.objects.create(canvas_id=canvas_id, course=course, **values)


def person(canvas_id: int, name: str = "") -> Person:
    return Person.objects.create(canvas_id=canvas_id, name=name or f"Person {canvas_id}")


def enrollment(
    who: Person, section: Section, type: str = "teacher", state: str = "active"
) -> Enrollment:
    return Enrollment.objects.create(
        canvas_id=next(_ids) + 900_000,
        person=who,
        course_id=section.course_id,
        section=section,
        type=type,
        state=state,
    )


def assignment(canvas_id: int, course: Course, **fields: object) -> Assignment:
    values = {
        "name": f"Assignment {canvas_id}",
        "published": True,
        "post_to_sis": True,
        "html_url": f"https://canvas.example.edu/courses/{course.canvas_id}/assignments/{canvas_id}",
        **fields,
    }
    return Assignment.objects.create(canvas_id=canvas_id, course=course, **values)


def violation(
    course: Course,
    rule: str = "name_too_long",
    *,
    assignment: Assignment | None = None,
    section: Section | None = None,
    severity: str | None = None,
    first_seen: datetime = T0,
    resolved_at: datetime | None = None,
) -> Violation:
    return Violation.objects.create(
        key=f"{rule}:{course.canvas_id}:{next(_ids)}",
        rule=rule,
        severity=severity or rules.RULES[rule].default_severity,
        course=course,
        assignment=assignment,
        section=section,
        school_id=course.account_id,
        term_id=course.term_id,
        message=f"Fix {rule}.",
        first_seen=first_seen,
        last_seen=first_seen + timedelta(hours=1),
        resolved_at=resolved_at,
    )


def user(username: str = "admin", staff: bool = True) -> User:
    return User.objects.create_user(username=username, password="pw", is_staff=staff)


def client_for(who: User | None) -> APIClient:
    client = APIClient()
    if who is not None:
        client.force_login(who)
    return client
