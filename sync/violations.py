"""Evaluate the rule book over the database and keep the history of every violation.

A refresh reads the district in chunks of courses, a handful of queries per chunk whatever the
number of assignments, runs the pure rules over plain data, then reconciles with the open
Violation rows: new findings open rows, findings still there bump ``last_seen`` (and take a new
message or severity), and open rows no longer found get ``resolved_at``.
"""

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from courses.models import Assignment, AssignmentOverride, Course, Section, Submission
from sync import rules
from sync.compliance import compliance_sample_take
from sync.models import SisCategory, Violation
from sync.policy import policy_for_rules, policy_get

COURSES_PER_CHUNK = 500


@dataclass
class RefreshSummary:
    courses: int = 0
    opened: int = 0
    resolved: int = 0
    open: int = 0


def violation_key(finding: rules.Finding) -> str:
    """Identity of a finding across refreshes."""
    return (
        f"{finding.rule}:{finding.course_id}:{finding.assignment_id or ''}"
        f":{finding.section_id or ''}"
    )


def violations_refresh(
    *,
    course_ids: Iterable[int] | None = None,
    now: datetime | None = None,
    already_checked: Collection[int] = (),
) -> RefreshSummary:
    """Re-evaluate every rule for the district (or only ``course_ids``) and persist the result.

    ``already_checked`` are courses evaluated moments ago (an import checks each batch of
    courses as it finishes them): they are left out, and a district refresh still counts as one.
    """
    now = now or timezone.now()
    policy = policy_for_rules(policy_get())
    courses = Course.objects.order_by("canvas_id")
    if course_ids is not None:
        courses = courses.filter(canvas_id__in=list(course_ids))
    skip = set(already_checked)
    all_ids = [cid for cid in courses.values_list("canvas_id", flat=True) if cid not in skip]
    summary = RefreshSummary()
    for start in range(0, len(all_ids), COURSES_PER_CHUNK):
        chunk = all_ids[start : start + COURSES_PER_CHUNK]
        findings: list[tuple[rules.Finding, dict]] = []
        for course, meta in courses_for_rules(chunk):
            findings.extend((f, meta) for f in rules.evaluate_course(course, policy, now))
        _persist(chunk, findings, now, summary)
        summary.courses += len(chunk)
    if course_ids is None:  # one course's refresh (a passback, a fix) does not move the trend
        compliance_sample_take(now)
    return summary


def course_violations_refresh(
    *, course_id: int, now: datetime, policy: rules.Policy
) -> tuple[rules.CourseIn, list[rules.Finding]]:
    """Re-evaluate one course and persist its violations; returns what the rules read and
    found, so that a passback plan of the course need not read and evaluate it again."""
    course, meta = next(courses_for_rules([course_id]))
    findings = rules.evaluate_course(course, policy, now)
    _persist([course_id], [(f, meta) for f in findings], now, RefreshSummary())
    return course, findings


def courses_for_rules(course_ids: list[int]) -> Iterator[tuple[rules.CourseIn, dict]]:
    """The rule book's input for these courses, in a few queries, with each course's school/term."""
    sections = defaultdict(list)
    class_course = {}  # the course of each live class (section with a SIS id)
    for row in (
        Section.objects.filter(course_id__in=course_ids)
        .annotate(
            active_students=Count(
                "enrollments",
                filter=Q(
                    enrollments__type="student",
                    enrollments__state="active",
                    enrollments__deleted=False,
                ),
            )
        )
        .values_list(
            "course_id", "canvas_id", "name", "sis_section_id", "active_students", "deleted"
        )
    ):
        sections[row[0]].append(rules.SectionIn(*row[1:]))
        if row[3] is not None and not row[5]:
            class_course[row[3]] = row[0]

    overrides = defaultdict(list)
    for row in AssignmentOverride.objects.filter(
        assignment__course_id__in=course_ids, deleted=False
    ).values_list(
        "assignment_id", "canvas_id", "target", "section_id", "due_at", "due_at_overridden"
    ):
        overrides[row[0]].append(rules.OverrideIn(*row[1:]))

    grades = {
        row[0]: row[1:]
        for row in Submission.objects.filter(course_id__in=course_ids, deleted=False)
        .filter(Q(score__isnull=False) | Q(excused=True))
        .values("assignment_id")
        .annotate(graded=Count("id"), hidden=Count("id", filter=Q(posted_at__isnull=True)))
        .values_list("assignment_id", "graded", "hidden")
    }

    assignments = defaultdict(list)
    for row in Assignment.objects.filter(course_id__in=course_ids).values_list(
        "course_id",
        "canvas_id",
        "name",
        "published",
        "post_to_sis",
        "due_at",
        "unlock_at",
        "lock_at",
        "grading_type",
        "omit_from_final_grade",
        "only_visible_to_overrides",
        "group__name",
        "deleted",
    ):
        graded, hidden = grades.get(row[1], (0, 0))
        assignments[row[0]].append(
            rules.AssignmentIn(
                *row[1:12],
                overrides=tuple(overrides.get(row[1], ())),
                graded_count=graded,
                hidden_graded_count=hidden,
                deleted=row[12],
            )
        )

    categories = defaultdict(set)
    for class_id, title in SisCategory.objects.filter(
        class_sourced_id__in=list(class_course), status="active"
    ).values_list("class_sourced_id", "title"):
        categories[class_course[class_id]].add(title)

    for row in Course.objects.filter(canvas_id__in=course_ids).values_list(
        "canvas_id",
        "name",
        "workflow_state",
        "sis_course_id",
        "term__start_at",
        "term__end_at",
        "start_at",
        "end_at",
        "deleted",
        "account_id",
        "term_id",
    ):
        course = rules.CourseIn(
            *row[:8],
            sections=tuple(sections.get(row[0], ())),
            assignments=tuple(assignments.get(row[0], ())),
            sis_categories=frozenset(categories[row[0]]) if row[0] in categories else None,
            deleted=row[8],
        )
        yield course, {"school_id": row[9], "term_id": row[10]}


def _persist(
    course_ids: list[int],
    findings: list[tuple[rules.Finding, dict]],
    now: datetime,
    summary: RefreshSummary,
) -> None:
    with transaction.atomic():
        open_rows = {
            key: (pk, severity, message)
            for pk, key, severity, message in Violation.objects.filter(
                course_id__in=course_ids, resolved_at__isnull=True
            ).values_list("pk", "key", "severity", "message")
        }
        found_keys = set()
        new_rows = []
        changed = []
        for finding, meta in findings:
            key = violation_key(finding)
            if key in found_keys:
                continue
            found_keys.add(key)
            existing = open_rows.get(key)
            if existing is None:
                new_rows.append(
                    Violation(
                        key=key,
                        rule=finding.rule,
                        severity=finding.severity,
                        course_id=finding.course_id,
                        assignment_id=finding.assignment_id,
                        section_id=finding.section_id,
                        school_id=meta["school_id"],
                        term_id=meta["term_id"],
                        message=finding.message,
                        first_seen=now,
                        last_seen=now,
                    )
                )
            elif existing[1:] != (finding.severity, finding.message):
                changed.append(
                    Violation(pk=existing[0], severity=finding.severity, message=finding.message)
                )
        gone = [pk for key, (pk, _, _) in open_rows.items() if key not in found_keys]
        for start in range(0, len(gone), 500):
            Violation.objects.filter(pk__in=gone[start : start + 500]).update(resolved_at=now)
        Violation.objects.filter(course_id__in=course_ids, resolved_at__isnull=True).update(
            last_seen=now
        )
        Violation.objects.bulk_update(changed, ["severity", "message"], batch_size=500)
        Violation.objects.bulk_create(new_rows, batch_size=1000)
    summary.opened += len(new_rows)
    summary.resolved += len(gone)
    summary.open += len(found_keys)
