"""Small factories for the sync page tests: a course with its teacher, sections, students,
synced assignments and recent grades, written through the ORM; and signed-in teachers."""

from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from courses.models import Account, Assignment, Course, Enrollment, Person, Section, Submission
from sync.violations import violations_refresh
from teachers.models import CanvasLogin
from tests.api.factories import school, term

DUE = datetime(2026, 10, 1, 5, 59, tzinfo=UTC)


def teacher(canvas_id: int, name: str = "") -> Person:
    return Person.objects.create(
        canvas_id=canvas_id, name=name or f"Teacher {canvas_id}", sortable_name=name
    )


def signed_in(person: Person, *, username: str = "") -> tuple[User, Client]:
    """A Django user signed in with Canvas as ``person`` (no token: pages only)."""
    user = User.objects.create_user(username or f"canvas-{person.canvas_id}")
    CanvasLogin.objects.create(user=user, person_id=person.canvas_id)
    client = Client()
    client.force_login(user)
    return user, client


def district_school() -> Account:
    root = Account.objects.filter(canvas_id=1).first() or school(1, parent=None, name="District")
    return Account.objects.filter(canvas_id=10).first() or school(10, parent=root.canvas_id)


def build_course(
    canvas_id: int,
    *,
    teacher: Person | None = None,
    assignments: int = 3,
    students: int = 2,
    sections: int = 1,
    graded_at: datetime | None = None,
    refresh: bool = True,
    **fields: object,
) -> Course:
    """Course ``canvas_id``: sections ``canvas_id*10+i`` with SIS ids, students with SIS ids
    spread over them, synced assignments ``canvas_id*1000+i`` due on DUE, each graded for every
    student (score 8) ``graded_at`` (default: a day ago); open violations refreshed."""
    when = graded_at or timezone.now() - timedelta(days=1)
    the_term = term(canvas_id) if not fields.get("term") else fields.pop("term")
    row = Course.objects.create(
        canvas_id=canvas_id,
        account=district_school(),
        term=the_term,
        name=fields.pop("name", f"Course {canvas_id}"),
        course_code=f"C{canvas_id}",
        sis_course_id=f"SIS-C{canvas_id}",
        workflow_state="available",
        **fields,
    )
    section_rows = [
        Section.objects.create(
            canvas_id=canvas_id * 10 + i,
            course=row,
            name=f"Period {i + 1}",
            sis_section_id=f"SIS-S{canvas_id * 10 + i}",
        )
        for i in range(sections)
    ]
    people = [
        Person.objects.create(
            canvas_id=canvas_id * 1000 + 500 + i,
            name=f"Student {i + 1} of {canvas_id}",
            sortable_name=f"{i + 1:03d}, Student",
            sis_user_id=f"U{canvas_id * 1000 + 500 + i}",
        )
        for i in range(students)
    ]
    enrollments = [
        Enrollment(
            canvas_id=canvas_id * 1000 + 700 + i,
            person=student,
            course=row,
            section=section_rows[i % sections],
            type="student",
        )
        for i, student in enumerate(people)
    ]
    if teacher is not None:
        enrollments += [
            Enrollment(
                canvas_id=canvas_id * 1000 + 900 + i,
                person=teacher,
                course=row,
                section=s,
                type="teacher",
            )
            for i, s in enumerate(section_rows)
        ]
    Enrollment.objects.bulk_create(enrollments)
    made = Assignment.objects.bulk_create(
        Assignment(
            canvas_id=canvas_id * 1000 + i,
            course=row,
            name=f"Quiz {i + 1}",
            published=True,
            post_to_sis=True,
            due_at=DUE + timedelta(days=i),
            points_possible=10,
        )
        for i in range(assignments)
    )
    Submission.objects.bulk_create(
        Submission(
            canvas_id=a.canvas_id * 1000 + n,
            course=row,
            assignment=a,
            student=student,
            score=8.0,
            grade="8",
            workflow_state="graded",
            graded_at=when,
            posted_at=when,
        )
        for a in made
        for n, student in enumerate(people)
    )
    if refresh:
        violations_refresh(course_ids=[canvas_id])
    return row
