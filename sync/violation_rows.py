"""Violations as flat rows (the `gpb_report` columns), for the command, CSV exports and reports."""

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from courses.models import Account, Enrollment
from sync import rules
from sync.models import Violation

COLUMNS = [
    "rule",
    "severity",
    "school_canvas_id",
    "school_name",
    "course_canvas_id",
    "course_sis_id",
    "course_name",
    "section_canvas_id",
    "section_sis_id",
    "assignment_canvas_id",
    "assignment_name",
    "teachers",
    "message",
]
DEFAULT_SEVERITIES = (rules.BLOCKING, rules.WARNING)


def school_and_descendants(school_id: int) -> list[int]:
    """The school's Canvas id and those of every sub-account below it."""
    children = defaultdict(list)
    for cid, parent in Account.objects.values_list("canvas_id", "parent_id"):
        children[parent].append(cid)
    found, todo = [], [school_id]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def open_violations(
    *,
    school_id: int | None = None,
    rule: str | None = None,
    severities: Iterable[str] | None = DEFAULT_SEVERITIES,
) -> QuerySet[Violation]:
    """Unresolved violations, filtered like `gpb_report`, in a stable reading order."""
    rows = Violation.objects.filter(resolved_at__isnull=True)
    if school_id is not None:
        rows = rows.filter(school_id__in=school_and_descendants(school_id))
    if rule:
        rows = rows.filter(rule=rule)
    if severities is not None:
        rows = rows.filter(severity__in=list(severities))
    return rows.order_by(
        "school__name", "course__name", "course_id", "rule", "assignment_id", "section_id"
    )


def teacher_names(course_ids: Iterable[int]) -> dict[int, list[str]]:
    """Names of each course's active teachers, sorted."""
    names: dict[int, set[str]] = defaultdict(set)
    for course_id, name in Enrollment.objects.filter(
        course_id__in=list(course_ids), type="teacher", state="active", deleted=False
    ).values_list("course_id", "person__name"):
        names[course_id].add(name)
    return {course_id: sorted(found) for course_id, found in names.items()}


# What a row of COLUMNS is read from (teachers come from the enrollments, per course).
VIOLATION_FIELDS = (
    "rule",
    "severity",
    "school_id",
    "school__name",
    "course_id",
    "course__sis_course_id",
    "course__name",
    "section_id",
    "section__sis_section_id",
    "assignment_id",
    "assignment__name",
    "message",
)


def violation_rows(violations: QuerySet[Violation], chunk: int = 2000) -> Iterator[dict]:
    """Each violation as a dict keyed by COLUMNS (teachers as a list of names)."""
    fields = VIOLATION_FIELDS
    batch: list[tuple] = []

    def emit(batch: list[tuple]) -> Iterator[dict]:
        teachers = teacher_names({row[4] for row in batch})
        for row in batch:
            yield {
                "rule": row[0],
                "severity": row[1],
                "school_canvas_id": row[2],
                "school_name": row[3],
                "course_canvas_id": row[4],
                "course_sis_id": row[5],
                "course_name": row[6],
                "section_canvas_id": row[7],
                "section_sis_id": row[8],
                "assignment_canvas_id": row[9],
                "assignment_name": row[10],
                "teachers": teachers.get(row[4], []),
                "message": row[11],
            }

    for row in violations.values_list(*fields).iterator(chunk_size=chunk):
        batch.append(row)
        if len(batch) >= chunk:
            yield from emit(batch)
            batch = []
    yield from emit(batch)


def rows_to_csv(rows: Iterable[dict], out: io.TextIOBase) -> int:
    """Write rows as CSV with the COLUMNS header (teachers joined by '; '); returns the count."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(
            [
                "; ".join(row[c]) if c == "teachers" else ("" if row[c] is None else row[c])
                for c in COLUMNS
            ]
        )
        count += 1
    return count
