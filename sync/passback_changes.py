"""Which courses the nightly district passback must plan, and which it may skip.

Planning a course reads its Canvas data, its IC categories and the district policy. A course
whose last clean run (the whole course planned, all of it confirmed by IC; ``inputs_as_of``,
when its planning began) is newer than every change to those inputs has nothing to send, and
planning it would only write a thousand "unchanged" outcomes. Changes are found by timestamps
the importer keeps: ``imported_at`` is set whenever the importer inserts, changes or deletes a
row, and a grade changed in Canvas also carries a new ``graded_at``.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Max, OuterRef, QuerySet, Subquery

from courses.models import (
    Assignment,
    AssignmentGroup,
    AssignmentOverride,
    Course,
    Enrollment,
    Section,
    Submission,
)
from sync.models import AssignmentOutcome, DistrictPolicy, GradeOutcome, SisCategory, SyncRun

# Longer than any one course's import transaction: rows are stamped just before their commit, so
# a course written while a run planned it carries a time a little before the run's start.
IMPORT_MARGIN = timedelta(minutes=1)


def passback_courses() -> QuerySet[Course]:
    """Courses with at least one assignment set to sync: what a district run covers."""
    return (
        Course.objects.filter(deleted=False, assignments__post_to_sis=True)
        .exclude(workflow_state=Course.State.DELETED)
        .values_list("canvas_id", flat=True)
        .distinct()
    )


def courses_changed(course_ids: Iterable[int]) -> list[int]:
    """The courses among ``course_ids`` that may have something to send: no clean run yet, or
    an input changed since their last one. A handful of grouped queries for the district."""
    course_ids = sorted(set(course_ids))
    as_of = clean_as_of()
    if not as_of:
        return course_ids
    imported_at = canvas_changed_at()
    categories_at = dict(_categories_changed_at())
    policy_at = DistrictPolicy.objects.aggregate(at=Max("updated_at"))["at"]
    out = []
    for course_id in course_ids:
        clean = as_of.get(course_id)
        if clean is None:
            out.append(course_id)
            continue
        canvas = imported_at.get(course_id)
        later = [at for at in (categories_at.get(course_id), policy_at) if at is not None]
        if (canvas is not None and canvas >= clean - IMPORT_MARGIN) or any(
            at > clean for at in later
        ):
            out.append(course_id)
    return out


def clean_as_of() -> dict[int, datetime]:
    """Per course, ``inputs_as_of`` of its latest finished run, when that run was clean."""
    latest = SyncRun.objects.filter(
        course_id=OuterRef("canvas_id"), finished_at__isnull=False
    ).order_by("-finished_at")
    return dict(
        Course.objects.annotate(as_of=Subquery(latest.values("inputs_as_of")[:1]))
        .filter(as_of__isnull=False)
        .values_list("canvas_id", "as_of")
    )


def canvas_changed_at() -> dict[int, datetime]:
    """Per course, the latest change the importer (or a regrade) made to what planning reads."""
    out: dict[int, datetime] = {}

    def merge(rows: Iterable[tuple[int, datetime | None]]) -> None:
        for course_id, at in rows:
            if at is not None and (course_id not in out or at > out[course_id]):
                out[course_id] = at

    merge(Course.objects.values_list("canvas_id", "imported_at"))
    for model in (Section, AssignmentGroup, Assignment, Enrollment):
        merge(
            model.objects.values("course_id")
            .annotate(at=Max("imported_at"))
            .values_list("course_id", "at")
        )
    merge(
        AssignmentOverride.objects.values("assignment__course_id")
        .annotate(at=Max("imported_at"))
        .values_list("assignment__course_id", "at")
    )
    grades = Submission.objects.values("course_id").annotate(
        imported=Max("imported_at"), graded=Max("graded_at")
    )
    for course_id, imported, graded in grades.values_list("course_id", "imported", "graded"):
        merge([(course_id, imported), (course_id, graded)])
    # A student's SIS id comes from their Person row, shared between courses.
    merge(
        Enrollment.objects.filter(type="student")
        .values("course_id")
        .annotate(at=Max("person__imported_at"))
        .values_list("course_id", "at")
    )
    return out


def _categories_changed_at() -> list[tuple[int, datetime]]:
    # A course with several classes: the latest wins (dict() keeps the last of sorted rows).
    """Per course, when IC categories of one of its classes last changed."""
    changed = dict(
        SisCategory.objects.values("class_sourced_id")
        .annotate(at=Max("fetched_at"))
        .values_list("class_sourced_id", "at")
    )
    rows = Section.objects.filter(sis_section_id__in=list(changed)).values_list(
        "course_id", "sis_section_id"
    )
    return sorted((course_id, changed[class_id]) for course_id, class_id in rows)


def run_clean(run: SyncRun) -> bool:
    """Whether a finished run planned the whole course and IC confirmed all of it."""
    if run.status != SyncRun.Status.DONE or run.section_ids or run.assignment_ids:
        return False
    return not (
        run.assignments.filter(status=AssignmentOutcome.Status.FAILED).exists()
        or run.grades.filter(status=GradeOutcome.Status.FAILED).exists()
    )
