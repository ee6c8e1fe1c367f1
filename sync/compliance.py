"""Compliance: the share of synced assignments with no blocking violation, by any grouping.

An assignment counts as blocked when an open blocking violation names it (the assignment or one
of its sections) or applies to its whole course (course rules, and a section of the course
missing from the SIS, which stops that section's line items for every assignment).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from courses.models import Account, Assignment, Enrollment, Term
from sync import rules
from sync.models import ComplianceSample, Violation


@dataclass(frozen=True)
class Compliance:
    key: object
    name: str
    synced: int
    compliant: int

    @property
    def blocked(self) -> int:
        return self.synced - self.compliant

    @property
    def rate(self) -> float | None:
        return self.compliant / self.synced if self.synced else None


def synced_assignments() -> QuerySet[Assignment]:
    """Synced assignments (section 5), each annotated with ``blocked``."""
    open_blocking = Violation.objects.filter(resolved_at__isnull=True, severity=rules.BLOCKING)
    return (
        Assignment.objects.filter(post_to_sis=True, deleted=False, course__deleted=False)
        .exclude(course__workflow_state="deleted")
        .annotate(
            blocked=Exists(open_blocking.filter(assignment_id=OuterRef("canvas_id")))
            | Exists(open_blocking.filter(course_id=OuterRef("course_id"), assignment__isnull=True))
        )
    )


def _grouped(field: str | None, assignments: QuerySet | None = None) -> list[tuple]:
    assignments = synced_assignments() if assignments is None else assignments
    totals = Count("canvas_id"), Count("canvas_id", filter=Q(blocked=False))
    if field is None:
        row = assignments.aggregate(synced=totals[0], compliant=totals[1])
        return [(None, row["synced"], row["compliant"])]
    return list(
        assignments.values(field)
        .annotate(synced=totals[0], compliant=totals[1])
        .values_list(field, "synced", "compliant")
        .order_by(field)
    )


def district_compliance() -> Compliance:
    _, synced, compliant = _grouped(None)[0]
    return Compliance(None, "District", synced, compliant)


def compliance_by_school() -> list[Compliance]:
    names = dict(Account.objects.values_list("canvas_id", "name"))
    return [
        Compliance(school, names.get(school, f"Account {school}"), synced, compliant)
        for school, synced, compliant in _grouped("course__account_id")
    ]


def compliance_by_term() -> list[Compliance]:
    names = dict(Term.objects.values_list("canvas_id", "name"))
    return [
        Compliance(term, names.get(term, "No term"), synced, compliant)
        for term, synced, compliant in _grouped("course__term_id")
    ]


def compliance_by_teacher(course_ids: Iterable[int] | None = None) -> list[Compliance]:
    """Per teacher (Person canvas id): the synced assignments of the courses they teach."""
    teaching = Enrollment.objects.filter(type="teacher", state="active", deleted=False)
    assignments = synced_assignments()
    if course_ids is not None:
        assignments = assignments.filter(course_id__in=list(course_ids))
    rows = list(
        assignments.filter(course__enrollments__in=teaching)
        .values("course__enrollments__person_id", "course__enrollments__person__name")
        .annotate(
            synced=Count("canvas_id", distinct=True),
            compliant=Count("canvas_id", filter=Q(blocked=False), distinct=True),
        )
        .values_list(
            "course__enrollments__person_id",
            "course__enrollments__person__name",
            "synced",
            "compliant",
        )
    )
    return sorted((Compliance(*row) for row in rows), key=lambda c: c.name)


def compliance_by_rule() -> list[dict]:
    """For every rule: open violations, assignments it affects, and the share it leaves clean."""
    synced = district_compliance().synced
    open_rows = Violation.objects.filter(resolved_at__isnull=True)
    counts = {
        row["rule"]: row
        for row in open_rows.values("rule").annotate(
            open=Count("id"), assignments=Count("assignment_id", distinct=True)
        )
    }
    out = []
    for code, spec in rules.RULES.items():
        row = counts.get(code, {})
        affected = row.get("assignments", 0)
        out.append(
            {
                "rule": code,
                "title": spec.title,
                "severity": spec.default_severity,
                "open": row.get("open", 0),
                "assignments": affected,
                "rate": (1 - affected / synced) if synced else None,
            }
        )
    return out


def compliance_sample_take(now: datetime) -> None:
    """Record the district's and each school's compliance now (the dashboard's trend)."""
    district = district_compliance()
    samples = [
        ComplianceSample(
            taken_at=now, school=None, synced=district.synced, compliant=district.compliant
        )
    ]
    samples += [
        ComplianceSample(taken_at=now, school_id=c.key, synced=c.synced, compliant=c.compliant)
        for c in compliance_by_school()
    ]
    ComplianceSample.objects.bulk_create(samples)
