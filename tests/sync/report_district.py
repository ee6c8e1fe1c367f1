"""A small district for the report tests, written through the ORM, with hand-computed figures.

NOW is a Monday noon (UTC). Four courses, four teachers:

| course | school | teachers  | synced | blocked by                                    | compliant |
|--------|--------|-----------|--------|-----------------------------------------------|-----------|
| 100    | North  | Ada       | 4      | 1002 name_too_long (3 d); 1004 has a warning  | 3         |
| 200    | North  | Ben       | 3      | section 201 not in SIS (course-wide, 20 d),   | 0         |
|        |        |           |        | 2001 missing_due_date in 201 (5 d)            |           |
| 300    | South  | Cy, Ada   | 2      | 3001 differentiated (40 d); 3002's is resolved| 1         |
| 400    | South  | Dee       | 2      | nothing (an info finding only)                | 2         |

District: 11 synced, 6 compliant (54.5%), 4 open blocking, 1 warning, oldest 40 days.
North: 7 synced, 3 compliant; South: 4 synced, 3 compliant.
Ada (100 + 300): 6 synced, 4 compliant, 2 blocking + 1 warning; Ben: 3/0, 2 blocking;
Cy (no e-mail address): 2/1, 1 blocking; Dee: 2/2, nothing open (so no digest).
Passback: a run of course 100 finished 2 days ago (3 posted, 1 failed sis_rejected, 1 skipped
no_grade, 1 skipped student_not_in_sis, 2 unchanged); one finished 30 days ago (5 posted) is
outside a first report's 7-day window.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from courses.models import Assignment, Course, Person
from sync.models import AssignmentOutcome, GradeOutcome, SyncRun, Violation
from tests.api import factories as f

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@dataclass
class District:
    courses: dict[int, Course]
    people: dict[str, Person]
    assignments: dict[int, Assignment]
    violations: dict[str, Violation]


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def teacher(canvas_id: int, name: str, email: str | None) -> Person:
    who = f.person(canvas_id, name)
    who.sortable_name = name
    who.email = email
    who.save()
    return who


def open_violation(course: Course, rule: str, days: float, **fields: object) -> Violation:
    return f.violation(course, rule, first_seen=days_ago(days), **fields)


def _run(course: Course, finished: datetime, statuses: list[tuple[str, str]]) -> SyncRun:
    run = SyncRun.objects.create(
        course=course,
        status=SyncRun.Status.DONE,
        requested_at=finished - timedelta(minutes=5),
        started_at=finished - timedelta(minutes=4),
        finished_at=finished,
    )
    assignment = course.assignments.order_by("canvas_id").first()
    section = course.sections.order_by("canvas_id").first()
    outcome = AssignmentOutcome.objects.create(
        run=run,
        assignment=assignment,
        section=section,
        status=AssignmentOutcome.Status.SYNCED,
        line_item_sourced_id=f"gpb-a{assignment.canvas_id}-s{section.canvas_id}",
    )
    student = Person.objects.get_or_create(canvas_id=5001, defaults={"name": "Student One"})[0]
    GradeOutcome.objects.bulk_create(
        GradeOutcome(
            run=run,
            assignment_outcome=outcome,
            student=student,
            result_sourced_id=f"r{n}",
            status=status,
            reason=reason,
            created_at=finished,
        )
        for n, (status, reason) in enumerate(statuses)
    )
    return run


def build_district() -> District:
    root = f.school(1, parent=None, name="District")
    north = f.school(10, parent=root.canvas_id, name="North High")
    south = f.school(20, parent=root.canvas_id, name="South Middle")
    term = f.term(1)
    people = {
        "ada": teacher(9001, "Ada Lovelace", "ada@north.example.org"),
        "ben": teacher(9002, "Ben Franklin", "ben@north.example.org"),
        "cy": teacher(9003, "Cy Young", None),
        "dee": teacher(9004, "Dee Dee", "dee@south.example.org"),
    }
    courses = {
        100: f.course(100, north, term, name="Algebra"),
        200: f.course(200, north, term, name="Biology"),
        300: f.course(300, south, term, name="Chemistry"),
        400: f.course(400, south, term, name="Drama"),
    }
    sections = {cid + 1: f.section(cid + 1, course) for cid, course in courses.items()}
    sections[102] = f.section(102, courses[100])
    for section_id, who in ((101, "ada"), (102, "ada"), (201, "ben"), (301, "cy"), (301, "ada")):
        f.enrollment(people[who], sections[section_id])
    f.enrollment(people["dee"], sections[401])
    f.enrollment(people["ben"], sections[101], state="inactive")  # not Ben's course

    assignments = {}
    for cid, numbers in ((100, 4), (200, 3), (300, 2), (400, 2)):
        for n in range(1, numbers + 1):
            aid = cid * 10 + n
            assignments[aid] = f.assignment(aid, courses[cid], name=f"Task {aid}")
    f.assignment(1005, courses[100], post_to_sis=False)  # not synced
    f.assignment(3003, courses[300], deleted=True)  # deleted: not synced

    violations = {
        "name_too_long": open_violation(
            courses[100], "name_too_long", 3, assignment=assignments[1002]
        ),
        "warning": open_violation(
            courses[100],
            "due_date_outside_term",
            10,
            assignment=assignments[1004],
            section=sections[101],
        ),
        "section_not_in_sis": open_violation(
            courses[200], "section_not_in_sis", 20, section=sections[201]
        ),
        "missing_due_date": open_violation(
            courses[200],
            "missing_due_date",
            5,
            assignment=assignments[2001],
            section=sections[201],
        ),
        "differentiated": open_violation(
            courses[300], "differentiated", 40, assignment=assignments[3001]
        ),
        "resolved": f.violation(
            courses[300],
            "name_too_long",
            assignment=assignments[3002],
            first_seen=days_ago(60),
            resolved_at=days_ago(50),
        ),
        "info": open_violation(
            courses[400], "hidden_grades_will_sync", 8, assignment=assignments[4001]
        ),
    }
    _run(
        courses[100],
        days_ago(2),
        [
            ("posted", ""),
            ("posted", ""),
            ("posted", ""),
            ("failed", "sis_rejected"),
            ("skipped", "no_grade"),
            ("skipped", "student_not_in_sis"),
            ("unchanged", ""),
            ("unchanged", ""),
        ],
    )
    _run(courses[100], days_ago(30), [("posted", "")] * 5)
    return District(courses, people, assignments, violations)
