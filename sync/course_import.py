"""One course of an import: fetched whole from Canvas, written in one transaction.

A course that fails (bad data, Canvas errors) keeps its previous data: nothing of it is written
unless all of it was read. Hourly imports that find everything but the grades as before write
only the grades. Rows carry the moment they were written (``imported_at``) when they change.
"""

import hashlib
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from courses.models import (
    Assignment,
    AssignmentGroup,
    AssignmentOverride,
    Course,
    Enrollment,
    Person,
    Section,
    Submission,
)
from sync import canvas_rows as rows
from sync.bulk import bulk_upsert, mark_deleted
from sync.canvas import CanvasClient, CanvasError

logger = logging.getLogger(__name__)


@dataclass
class CourseResult:
    canvas_id: int | None
    name: str
    counts: Counter = field(default_factory=Counter)
    requests: int = 0
    error: str | None = None
    fatal: CanvasError | None = None


def items(pages: Iterable[list[dict]]) -> Iterator[dict]:
    """Every item of a paged Canvas list."""
    for page in pages:
        yield from page


def course_import(
    *,
    client: CanvasClient,
    item: dict,
    started_at: datetime,
    graded_since: datetime | None,
    known_accounts: set[int],
    known_terms: set[int],
    known_digest: str | None = None,
) -> CourseResult:
    """Fetch one course whole from Canvas and write it in one transaction."""
    cid = item.get("id") if isinstance(item, dict) else None
    name = str(item.get("name") or "") if isinstance(item, dict) else ""
    result = CourseResult(cid if isinstance(cid, int) else None, name)
    try:
        course = rows.course_row(item)
        cid = course[0]
        if course[1] not in known_accounts:
            raise rows.BadCanvasData(
                f"course {cid} belongs to account {course[1]}, which Canvas did not list "
                f"under the root account"
            )
        if course[2] is not None and course[2] not in known_terms:
            course = (*course[:2], None, *course[3:])
        fetched = _fetch_course(client, cid, graded_since)
        _write_course(course, fetched, started_at, graded_since, result.counts, known_digest)
    except CanvasError as exc:
        result.error = str(exc)
        if exc.kind == "auth":
            result.fatal = exc
    except rows.BadCanvasData as exc:
        result.error = str(exc)
    except Exception as exc:
        logger.exception("Course %s failed to import", cid)
        result.error = f"Unexpected error: {exc}"
    if result.error:
        logger.warning("Course %s (%s) not imported: %s", cid, name[:60], result.error)
    return result


@dataclass
class CourseData:
    sections: list[dict]
    groups: list[dict]
    assignments: list[dict]
    enrollments: list[dict]
    submissions: list[dict]


def _fetch_course(client: CanvasClient, cid: int, graded_since: datetime | None) -> CourseData:
    return CourseData(
        sections=list(items(client.sections(cid))),
        groups=list(items(client.assignment_groups(cid))),
        assignments=list(items(client.assignments(cid))),
        enrollments=list(items(client.enrollments(cid))),
        submissions=list(items(client.submissions(cid, graded_since=graded_since))),
    )


def _course_digest(*row_lists: object) -> str:
    """A fingerprint of everything stored about the course except its grades (its rows)."""
    return hashlib.sha256(repr(row_lists).encode()).hexdigest()


def _write_course(
    course: tuple,
    data: CourseData,
    now: datetime,
    graded_since: datetime | None,
    counts: Counter,
    known_digest: str | None = None,
) -> None:
    cid = course[0]
    section_rows = [rows.section_row(s, cid) for s in data.sections]
    section_ids = {r[0] for r in section_rows}
    group_rows = [rows.group_row(g, cid) for g in data.groups]
    group_ids = {r[0] for r in group_rows}

    assignment_rows = []
    override_rows = []
    for item in data.assignments:
        row = rows.assignment_row(item, cid)
        if row[2] is not None and row[2] not in group_ids:
            row = (*row[:2], None, *row[3:])  # its group vanished: keep the assignment
        assignment_rows.append(row)
        overrides = item.get("overrides") or []
        if not isinstance(overrides, list):
            raise rows.BadCanvasData(
                f"Canvas sent overrides of assignment {row[0]} that are not a list"
            )
        for override in overrides:
            override_row = rows.override_row(override, row[0])
            if override_row is not None:
                override_rows.append(override_row)
    assignment_ids = {r[0] for r in assignment_rows}

    people: dict[int, tuple] = {}
    enrollment_rows = []
    for item in data.enrollments:
        row = rows.enrollment_row(item, cid)
        if row is None:
            continue
        if row[3] not in section_ids:
            counts["enrollments_skipped"] += 1  # a section of another (cross-listed) course
            continue
        user = item.get("user")
        if not isinstance(user, dict):
            raise rows.BadCanvasData(f"Canvas sent enrollment {row[0]} without its user")
        people[row[1]] = rows.person_row(user)
        enrollment_rows.append(row)

    submission_rows = []
    for item in data.submissions:
        row = rows.submission_row(item, cid)
        if row[2] not in assignment_ids or row[3] not in people:
            counts["submissions_skipped"] += 1  # not an active student, or a hidden assignment
            continue
        submission_rows.append(row)

    # Hourly imports find most courses exactly as they were: when everything but the grades
    # reads the same as last time, only the grades are written.
    people_rows = sorted(people.values())
    written = (section_rows, group_rows, assignment_rows, override_rows, enrollment_rows)
    digest = _course_digest(course, *written, people_rows)
    # Rows carry the moment they were written (not the run's start, which a long import leaves
    # far behind): the nightly passback compares it with when it last planned the course.
    written_at = timezone.now()
    if graded_since is not None and digest == known_digest:
        with transaction.atomic():
            bulk_upsert(Submission, rows.SUBMISSION_COLUMNS, submission_rows, now=written_at)
            Course.objects.filter(canvas_id=cid).update(grades_read_at=now)
        counts.update(courses=1, courses_unchanged=1, submissions=len(submission_rows))
        return

    # People are shared between courses: write them first, sorted so that concurrent courses
    # lock them in the same order, and outside the course transaction so that two courses
    # never wait on each other's commit.
    bulk_upsert(Person, rows.PERSON_COLUMNS, people_rows, now=written_at)

    with transaction.atomic():
        bulk_upsert(Course, rows.COURSE_COLUMNS, [course], now=written_at)
        bulk_upsert(Section, rows.SECTION_COLUMNS, section_rows, now=written_at)
        bulk_upsert(AssignmentGroup, rows.GROUP_COLUMNS, group_rows, now=written_at)
        bulk_upsert(Assignment, rows.ASSIGNMENT_COLUMNS, assignment_rows, now=written_at)
        bulk_upsert(AssignmentOverride, rows.OVERRIDE_COLUMNS, override_rows, now=written_at)
        bulk_upsert(Enrollment, rows.ENROLLMENT_COLUMNS, enrollment_rows, now=written_at)
        bulk_upsert(Submission, rows.SUBMISSION_COLUMNS, submission_rows, now=written_at)

        mark_deleted(Section.objects.filter(course_id=cid), section_ids)
        mark_deleted(AssignmentGroup.objects.filter(course_id=cid), group_ids)
        mark_deleted(Assignment.objects.filter(course_id=cid), assignment_ids)
        mark_deleted(
            AssignmentOverride.objects.filter(assignment__course_id=cid),
            {r[0] for r in override_rows},
        )
        mark_deleted(Enrollment.objects.filter(course_id=cid), {r[0] for r in enrollment_rows})
        if graded_since is None:  # all grades were read, so absent ones are gone
            mark_deleted(Submission.objects.filter(course_id=cid), {r[0] for r in submission_rows})
        Course.objects.filter(canvas_id=cid).update(grades_read_at=now, canvas_digest=digest)

    counts.update(
        courses=1,
        sections=len(section_rows),
        assignment_groups=len(group_rows),
        assignments=len(assignment_rows),
        overrides=len(override_rows),
        people=len(people),
        enrollments=len(enrollment_rows),
        submissions=len(submission_rows),
    )
