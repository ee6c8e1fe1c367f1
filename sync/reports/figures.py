"""What a compliance report counts, read in a fixed handful of grouped queries.

Everything is counted per course in SQL: synced and compliant assignments (the figure of
``sync.compliance``), open violations per rule, the synced assignments each blocking rule stops,
passback outcomes in a window. Rolling those up to the district, a school or a teacher is then a
sum over courses in Python (a thousand rows for a district), never a pass over violations per
teacher, and every grouping agrees with every other. The open violations themselves are read
once, in the ``gpb_report`` order, and handed out per course.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Min, Q, QuerySet

from courses.models import Account, Course, Enrollment, Person
from sync import rules
from sync.compliance import synced_assignments
from sync.models import GradeOutcome, SyncRun, Violation
from sync.violation_rows import (
    COLUMNS,
    DEFAULT_SEVERITIES,
    VIOLATION_FIELDS,
    school_and_descendants,
    teacher_names,
)

# A stored violation row: the gpb_report columns, then these two.
ROW_COLUMNS = [*COLUMNS, "first_seen", "canvas_url"]
_COURSE = COLUMNS.index("course_canvas_id")


@dataclass
class Totals:
    """Figures of a course, or summed over courses (a school, a teacher, the district)."""

    synced: int = 0
    compliant: int = 0
    open_blocking: int = 0
    open_warning: int = 0
    oldest_open: datetime | None = None
    open_by_rule: Counter = field(default_factory=Counter)
    blocked_by_rule: Counter = field(default_factory=Counter)
    grades: Counter = field(default_factory=Counter)  # (status, reason) -> grades
    runs: int = 0

    @property
    def blocked(self) -> int:
        return self.synced - self.compliant

    @property
    def rate(self) -> float | None:
        return self.compliant / self.synced if self.synced else None

    @property
    def open_total(self) -> int:
        return self.open_blocking + self.open_warning

    def add(self, other: "Totals") -> None:
        self.synced += other.synced
        self.compliant += other.compliant
        self.open_blocking += other.open_blocking
        self.open_warning += other.open_warning
        if other.oldest_open and (not self.oldest_open or other.oldest_open < self.oldest_open):
            self.oldest_open = other.oldest_open
        self.open_by_rule.update(other.open_by_rule)
        self.blocked_by_rule.update(other.blocked_by_rule)
        self.grades.update(other.grades)
        self.runs += other.runs


@dataclass
class CourseFigures(Totals):
    course_id: int = 0
    name: str = ""
    school_id: int = 0

    @property
    def relevant(self) -> bool:
        """Whether a report mentions the course: it syncs, or something about it is open."""
        return bool(self.synced or self.open_total or self.runs)


@dataclass(frozen=True)
class Teacher:
    person_id: int
    name: str
    sortable_name: str
    email: str


@dataclass
class Figures:
    """Everything a report of one scope needs, counted once."""

    taken_at: datetime
    since: datetime
    courses: dict[int, CourseFigures]
    school_names: dict[int, str]
    teachers: dict[int, Teacher]
    teacher_courses: dict[int, list[int]]
    rule_severity: dict[str, str]
    violation_rows: dict[int, list[list]]  # course id -> rows of ROW_COLUMNS

    def total(self, course_ids: Iterable[int]) -> Totals:
        totals = Totals()
        for course_id in course_ids:
            totals.add(self.courses[course_id])
        return totals

    def rows_of(self, course_ids: Iterable[int]) -> list[list]:
        return [row for course_id in course_ids for row in self.violation_rows.get(course_id, [])]


def scope_courses(school_ids: Iterable[int] = ()) -> QuerySet[Course]:
    """Courses a report covers: every live course, or those of the schools (and sub-accounts)."""
    courses = Course.objects.filter(deleted=False).exclude(workflow_state=Course.State.DELETED)
    school_ids = list(school_ids)
    if school_ids:
        accounts = {a for school in school_ids for a in school_and_descendants(school)}
        courses = courses.filter(account_id__in=sorted(accounts))
    return courses


def canvas_base() -> str:
    return settings.CANVAS_BASE_URL.rstrip("/")


def canvas_url(course_id: int, section_id: int | None, assignment_id: int | None, html: str) -> str:
    """Where the teacher fixes it: the assignment's page, else the section's or the course's."""
    if assignment_id:
        return html or f"{canvas_base()}/courses/{course_id}/assignments/{assignment_id}"
    if section_id:
        return f"{canvas_base()}/courses/{course_id}/sections/{section_id}"
    return f"{canvas_base()}/courses/{course_id}"


@contextmanager
def one_moment() -> Iterator[None]:
    """Every read inside sees the database as of one moment, whatever an import or a refresh
    commits meanwhile: a REPEATABLE READ transaction on PostgreSQL. Inside a transaction already
    (tests, callers' atomic blocks) and on SQLite, the reads run as they are."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def figures_read(
    *, school_ids: Iterable[int] = (), since: datetime, now: datetime, with_rows: bool = True
) -> Figures:
    """Count the scope's figures at ``now``; passback outcomes of runs finished since ``since``."""
    with one_moment():
        return _figures_read(list(school_ids), since, now, with_rows)


def _figures_read(
    school_ids: list[int], since: datetime, now: datetime, with_rows: bool
) -> Figures:
    courses_qs = scope_courses(school_ids)
    in_scope = courses_qs.values("canvas_id")
    courses = {
        cid: CourseFigures(course_id=cid, name=name, school_id=school)
        for cid, name, school in courses_qs.values_list("canvas_id", "name", "account_id")
    }

    for course_id, synced, compliant in (
        synced_assignments()
        .filter(course_id__in=in_scope)
        .values("course_id")
        .annotate(synced=Count("canvas_id"), compliant=Count("canvas_id", filter=Q(blocked=False)))
        .order_by()
        .values_list("course_id", "synced", "compliant")
    ):
        if course_id in courses:
            courses[course_id].synced, courses[course_id].compliant = synced, compliant

    open_rows = Violation.objects.filter(resolved_at__isnull=True, severity__in=DEFAULT_SEVERITIES)
    if school_ids:
        # The district's rows are exactly those of `gpb_report` (even of a course since deleted).
        open_rows = open_rows.filter(course_id__in=in_scope)
    rule_severity: dict[str, str] = {}
    for course_id, rule, severity, count, oldest in (
        open_rows.values("course_id", "rule", "severity")
        .annotate(n=Count("*"), oldest=Min("first_seen"))
        .order_by()
        .values_list("course_id", "rule", "severity", "n", "oldest")
    ):
        course = courses.get(course_id)
        if course is None:
            continue
        rule_severity.setdefault(rule, severity)
        course.open_by_rule[rule] += count
        if severity == rules.BLOCKING:
            course.open_blocking += count
        else:
            course.open_warning += count
        if course.oldest_open is None or oldest < course.oldest_open:
            course.oldest_open = oldest

    _count_blocked_by_rule(courses, open_rows.filter(severity=rules.BLOCKING))
    _count_passback(courses, in_scope, since, now)

    school_names = dict(
        Account.objects.filter(canvas_id__in={c.school_id for c in courses.values()}).values_list(
            "canvas_id", "name"
        )
    )
    teachers, teacher_courses = _teachers(in_scope)
    course_teachers: dict[int, list[str]] = defaultdict(list)
    for person_id, course_ids in teacher_courses.items():
        for course_id in course_ids:
            course_teachers[course_id].append(teachers[person_id].name)
    rows = _violation_rows(open_rows, course_teachers) if with_rows else {}
    outside = [course_id for course_id in rows if course_id not in courses]
    if outside:  # open violations of courses since deleted: still list who teaches them
        names = teacher_names(outside)
        for course_id in outside:
            for row in rows[course_id]:
                row[COLUMNS.index("teachers")] = names.get(course_id, [])
    return Figures(
        taken_at=now,
        since=since,
        courses=courses,
        school_names=school_names,
        teachers=teachers,
        teacher_courses=teacher_courses,
        rule_severity=rule_severity,
        violation_rows=rows,
    )


def _count_blocked_by_rule(courses: dict[int, CourseFigures], blocking: QuerySet) -> None:
    """Per course and rule: the synced assignments the rule keeps from Infinite Campus."""
    for course_id, rule, count in (
        blocking.filter(
            assignment__isnull=False, assignment__post_to_sis=True, assignment__deleted=False
        )
        .values("course_id", "rule")
        .annotate(n=Count("assignment_id", distinct=True))
        .order_by()
        .values_list("course_id", "rule", "n")
    ):
        if course_id in courses:
            courses[course_id].blocked_by_rule[rule] += count
    # A course-wide finding (the course, or a section without a SIS id) stops every synced
    # assignment of the course.
    for course_id, rule in (
        blocking.filter(assignment__isnull=True)
        .values_list("course_id", "rule")
        .order_by()
        .distinct()
    ):
        course = courses.get(course_id)
        if course is not None and course.synced:
            course.blocked_by_rule[rule] += course.synced


def _count_passback(
    courses: dict[int, CourseFigures], in_scope: QuerySet, since: datetime, now: datetime
) -> None:
    """Grade outcomes of the passback runs that finished in the window, per course."""
    runs = SyncRun.objects.filter(
        course_id__in=in_scope, finished_at__gt=since, finished_at__lte=now
    )
    for course_id, count in (
        runs.values("course_id").annotate(n=Count("*")).order_by().values_list("course_id", "n")
    ):
        if course_id in courses:
            courses[course_id].runs = count
    for course_id, status, reason, count in (
        GradeOutcome.objects.filter(run__in=runs.values("pk"))
        .values("run__course_id", "status", "reason")
        .annotate(n=Count("*"))
        .order_by()
        .values_list("run__course_id", "status", "reason", "n")
    ):
        if course_id in courses:
            courses[course_id].grades[(status, reason)] += count


def _teachers(in_scope: QuerySet) -> tuple[dict[int, Teacher], dict[int, list[int]]]:
    """Teachers with an active teacher enrollment in the scope, and the courses each teaches."""
    teacher_courses: dict[int, list[int]] = defaultdict(list)
    for person_id, course_id in (
        Enrollment.objects.filter(
            type=Enrollment.Type.TEACHER, state="active", deleted=False, course_id__in=in_scope
        )
        .values_list("person_id", "course_id")
        .order_by("person_id", "course_id")
        .distinct()
    ):
        teacher_courses[person_id].append(course_id)
    teachers = {
        cid: Teacher(cid, name, sortable or name, (email or "").strip())
        for cid, name, sortable, email in Person.objects.filter(
            canvas_id__in=Enrollment.objects.filter(
                type=Enrollment.Type.TEACHER, state="active", deleted=False, course_id__in=in_scope
            ).values("person_id")
        ).values_list("canvas_id", "name", "sortable_name", "email")
    }
    return teachers, {pid: cids for pid, cids in teacher_courses.items() if pid in teachers}


def _violation_rows(
    open_rows: QuerySet, course_teachers: dict[int, list[str]]
) -> dict[int, list[list]]:
    """The open blocking and warning violations as ROW_COLUMNS rows, grouped by course."""
    fields = (*VIOLATION_FIELDS, "first_seen", "assignment__html_url")
    by_course: dict[int, list[list]] = defaultdict(list)
    ordered = open_rows.order_by(
        "school__name", "course__name", "course_id", "rule", "assignment_id", "section_id"
    )
    for row in ordered.values_list(*fields).iterator(chunk_size=2000):
        course_id = row[4]
        by_course[course_id].append(
            [
                *row[:11],
                sorted(set(course_teachers.get(course_id, []))),
                row[11],
                row[12].isoformat(),
                canvas_url(course_id, row[7], row[9], row[13] or ""),
            ]
        )
    return by_course


def row_as_dict(row: list) -> dict:
    """A stored violation row as a dict keyed by ROW_COLUMNS (teachers a list of names)."""
    return dict(zip(ROW_COLUMNS, row, strict=True))


def row_course(row: list) -> int:
    return row[_COURSE]
