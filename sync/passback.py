"""Grade passback runs: request, plan, send, finish (ARCHITECTURE section 6).

A run covers one course. Planning (``passback_plan``) refreshes the course's Infinite Campus
categories and violations, then writes one AssignmentOutcome per (assignment, assigned section)
and one GradeOutcome per active student of each unblocked pair, before anything is sent: what is
still ``pending`` after a crash is exactly what a resumed run must send. Sending happens per
section (``section_send`` in sync/passback_send.py), one django-q2 task each; the last section to
finish closes the run.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from courses.models import Assignment, Course, Enrollment, Section, Submission
from courses.selectors import school_sis_id
from sync import rules
from sync.bulk import bulk_insert, bulk_insert_returning, relaxed_commits
from sync.models import AssignmentOutcome, GradeOutcome, PassbackState, SisCategory, SyncRun
from sync.oneroster import OneRosterClient, OneRosterError, shared_slot
from sync.passback_changes import run_clean
from sync.passback_payloads import (
    OUTSIDE_WINDOW,
    SAME_AS_SENT,
    GradeInput,
    LineItemInput,
    content_hash,
    grade_value,
    line_item_id,
    line_item_payload,
    parse_line_item_id,
    result_id,
)
from sync.passback_queue import QueueUnavailable, run_dispatch, run_enqueue, run_joined
from sync.policy import policy_for_rules, policy_get
from sync.sis_categories import sis_categories_refresh
from sync.violations import course_violations_refresh

logger = logging.getLogger(__name__)


class PassbackNotConfigured(Exception):
    """The SIS_* settings needed to reach Infinite Campus are missing."""


def sis_client() -> OneRosterClient:
    """A OneRoster client from the SIS_* settings; PassbackNotConfigured says what is missing."""
    missing = [
        name
        for name in ("SIS_BASE_URL", "SIS_TOKEN_URL", "SIS_CLIENT_ID", "SIS_CLIENT_SECRET")
        if not getattr(settings, name)
    ]
    if missing:
        raise PassbackNotConfigured(
            f"Passback to Infinite Campus is not configured: set {', '.join(missing)}."
        )
    return OneRosterClient(
        settings.SIS_BASE_URL,
        settings.SIS_TOKEN_URL,
        settings.SIS_CLIENT_ID,
        settings.SIS_CLIENT_SECRET,
        vendor_key=settings.SIS_VENDOR_KEY,
        vendor_secret=settings.SIS_VENDOR_SECRET,
        version=settings.SIS_ONEROSTER_VERSION,
        token_slot=shared_slot(
            settings.SIS_TOKEN_URL, settings.SIS_CLIENT_ID, settings.SIS_CLIENT_SECRET
        ),
        keep_connections=True,
    )


def passback_request(
    *,
    course_id: int,
    section_ids: Iterable[int] = (),
    assignment_ids: Iterable[int] = (),
    requested_by: str = "",
    scheduled: bool = False,
    enqueue: bool = True,
) -> tuple[SyncRun, bool]:
    """Queue a run for the course; returns (run, created). While a run of the course is queued
    or running, a new request joins it instead: two runs never send for one course at once.

    A run a person asks for goes before scheduled ones (sync/lanes.py). A person joining a
    nightly run that is still queued moves it to the interactive lane; any request for a run
    that has stalled (its tasks lost with their worker) queues it again.
    """
    active = SyncRun.objects.filter(course_id=course_id, status__in=SyncRun.ACTIVE).first()
    if active:
        if enqueue:  # else the caller follows the run as it is
            run_joined(active, scheduled=scheduled)
        return active, False
    try:
        with transaction.atomic():
            run = SyncRun.objects.create(
                course_id=course_id,
                section_ids=sorted(set(section_ids)),
                assignment_ids=sorted(set(assignment_ids)),
                requested_by=requested_by[:150],
                requested_at=timezone.now(),
                scheduled=scheduled,
            )
    except IntegrityError:  # another request won the race: join its run
        return SyncRun.objects.get(course_id=course_id, status__in=SyncRun.ACTIVE), False
    if enqueue:
        try:
            run_enqueue(run)
        except QueueUnavailable as exc:  # nothing will run it: it must not hold the course
            SyncRun.objects.filter(pk=run.pk).update(
                status=SyncRun.Status.FAILED, finished_at=timezone.now(), message=str(exc)
            )
            raise
    return run, True


def passback_plan(*, run: SyncRun, client: OneRosterClient, now: datetime | None = None) -> bool:
    """Refresh what the run depends on and write its outcomes; nothing is sent here. Returns
    False, writing nothing, when another task planned the run meanwhile or it was queued again
    (a later ``dispatch``)."""
    now = now or timezone.now()
    course_id = run.course_id
    sis_categories_refresh(client=client, course_ids=[course_id], now=now)
    policy_row = policy_get()
    policy = policy_for_rules(policy_row)
    course_in, findings = course_violations_refresh(course_id=course_id, now=now, policy=policy)
    scope = rules.blocking_scope(findings)
    plan = _CoursePlan(course_id, now, policy.sync_window_days)

    wanted_sections = set(run.section_ids)
    wanted_assignments = set(run.assignment_ids)
    outcomes: list[_Pair] = []
    grades: list[tuple[_Pair, list[tuple]]] = []
    synced = [a for a in course_in.assignments if rules.is_synced(a, course_in)]
    for assignment in sorted(synced, key=lambda a: a.canvas_id):
        if wanted_assignments and assignment.canvas_id not in wanted_assignments:
            continue
        for section in rules.assigned_sections(assignment, course_in):
            if wanted_sections and section.canvas_id not in wanted_sections:
                continue
            outcome = _Pair(
                run_id=run.pk,
                assignment_id=assignment.canvas_id,
                section_id=section.canvas_id,
                line_item_sourced_id=line_item_id(assignment.canvas_id, section.canvas_id),
            )
            codes = scope.rules_blocking(course_id, assignment.canvas_id, section.canvas_id)
            if not section.sis_section_id and not codes:
                codes = ("section_not_in_sis",)
            line_item = None if codes else plan.line_item(assignment, section)
            if codes or line_item is None:
                outcome.status = AssignmentOutcome.Status.BLOCKED
                outcome.rule_codes = list(codes) or ["category_not_in_sis"]
                outcome.message = "Blocked by " + ", ".join(outcome.rule_codes)
                outcomes.append(outcome)
                continue
            outcome.line_item = line_item
            outcomes.append(outcome)
            grades.append((outcome, plan.grade_outcomes(outcome, section.sis_section_id)))
    outcomes += plan.removals(run.pk, policy_row.remove_unsynced_line_items)

    with transaction.atomic():
        current = SyncRun.objects.select_for_update().filter(pk=run.pk)
        if current.values_list("status", "dispatch").get() != (run.status, run.dispatch):
            return False
        _insert_outcomes(outcomes)
        bulk_insert(
            GradeOutcome,
            GRADE_COLUMNS,
            ((run.pk, outcome.pk, *row) for outcome, rows in grades for row in rows),
        )
        run.status = SyncRun.Status.RUNNING
        run.started_at = run.started_at or now
        run.save(update_fields=["status", "started_at"])
    return True


@dataclass(slots=True)
class _Pair:
    """An AssignmentOutcome as planning builds it (a district run plans tens of thousands:
    model instances cost more than writing them); OUTCOME_COLUMNS are its stored fields."""

    run_id: int
    assignment_id: int
    section_id: int
    line_item_sourced_id: str
    status: str = AssignmentOutcome.Status.PENDING
    rule_codes: list[str] = field(default_factory=list)
    line_item: dict | None = None
    line_item_sent: bool = False
    message: str = ""
    pk: int | None = None


OUTCOME_COLUMNS = (
    "run_id",
    "assignment_id",
    "section_id",
    "status",
    "rule_codes",
    "line_item_sourced_id",
    "line_item",
    "line_item_sent",
    "message",
)


def _insert_outcomes(outcomes: list[_Pair]) -> None:
    """Insert the pairs' outcomes and give each its primary key (a plain INSERT ... RETURNING:
    the ORM's bulk_create prepared each field of each instance, a fifth of a plan's time)."""
    rows = [[getattr(o, column) for column in OUTCOME_COLUMNS] for o in outcomes]
    returned = bulk_insert_returning(
        AssignmentOutcome, OUTCOME_COLUMNS, rows, ("id", "line_item_sourced_id")
    )
    pks = {sourced_id: pk for pk, sourced_id in returned}
    for outcome in outcomes:
        outcome.pk = pks[outcome.line_item_sourced_id]


GRADE_COLUMNS = (
    "run_id",
    "assignment_outcome_id",
    "student_id",
    "submission_canvas_id",
    "result_sourced_id",
    "status",
    "reason",
    "detail",
    "payload",
    "attempts",
    "created_at",
)


class _AssignmentRow(NamedTuple):
    canvas_id: int
    name: str
    description: str
    unlock_at: datetime | None
    points_possible: float | None
    post_to_sis: bool
    deleted: bool
    group_name: str | None


class _CoursePlan:
    """Everything planning reads about one course, loaded in a fixed handful of queries."""

    def __init__(self, course_id: int, now: datetime, window_days: int) -> None:
        self.course_id = course_id
        self.now = now
        self.window_start = now - timedelta(days=window_days)
        course = Course.objects.select_related("term", "account").get(canvas_id=course_id)
        self.course = course
        self.school_sis_id = school_sis_id(course.account)
        self.assignments = {
            row.canvas_id: row
            for row in map(
                _AssignmentRow._make,
                Assignment.objects.filter(course_id=course_id).values_list(
                    *_AssignmentRow._fields[:-1], "group__name"
                ),
            )
        }
        self.students: dict[int, list[tuple[int, str | None]]] = defaultdict(list)
        for section_id, person_id, sis_id in Enrollment.objects.filter(
            course_id=course_id, type="student", state="active", deleted=False
        ).values_list("section_id", "person_id", "person__sis_user_id"):
            self.students[section_id].append((person_id, sis_id))
        self.submissions = {
            (row[0], row[1]): row
            for row in Submission.objects.filter(course_id=course_id, deleted=False).values_list(
                "assignment_id",
                "student_id",
                "canvas_id",
                "score",
                "excused",
                "late",
                "missing",
                "graded_at",
            )
        }
        self.categories: dict[str, dict[str, str]] = defaultdict(dict)
        class_ids = Section.objects.filter(
            course_id=course_id, sis_section_id__isnull=False
        ).values_list("sis_section_id", flat=True)
        for class_id, title, sourced_id in SisCategory.objects.filter(
            class_sourced_id__in=class_ids, status="active"
        ).values_list("class_sourced_id", "title", "sourced_id"):
            self.categories[class_id][title.strip().casefold()] = sourced_id
        self.sent = {
            sourced_id: (value_hash, value)
            for sourced_id, value_hash, value in PassbackState.objects.filter(
                course_canvas_id=course_id
            ).values_list("sourced_id", "value_hash", "value")
        }

    def line_item(self, assignment: rules.AssignmentIn, section: rules.SectionIn) -> dict | None:
        """The lineItem for a pair, or None when IC has no category for its assignment group."""
        row = self.assignments[assignment.canvas_id]
        group = (row.group_name or "").strip().casefold()
        category = self.categories.get(section.sis_section_id, {}).get(group)
        due = rules.effective_due_at(assignment, section)
        # OneRoster 1.2 requires a category; 1.1 makes it optional (and IC 1.1 has none).
        needs_category = settings.SIS_ONEROSTER_VERSION != "1.1"
        if (category is None and needs_category) or due is None or not self.school_sis_id:
            return None
        term_start = self.course.term.start_at if self.course.term else None
        return line_item_payload(
            LineItemInput(
                assignment_id=assignment.canvas_id,
                section_id=section.canvas_id,
                title=row.name,
                description=row.description,
                assign_date=row.unlock_at or self.course.start_at or term_start or due,
                due_date=due,
                class_sourced_id=section.sis_section_id,
                school_sourced_id=self.school_sis_id,
                category_sourced_id=category,
                points_possible=row.points_possible,
            ),
            base_url=settings.SIS_BASE_URL,
            modified=self.now,
        )

    def grade_outcomes(self, outcome: _Pair, class_id: str) -> list[tuple]:
        """One outcome per active student of the section, pending (to send) or final, as a row
        of GRADE_COLUMNS without the run and the assignment outcome (a district run plans a
        million of them: model instances would cost more than the database)."""
        rows = []
        for student_id, sis_id in self.students.get(outcome.section_id, []):
            sub = self.submissions.get((outcome.assignment_id, student_id))
            grade = GradeInput(
                assignment_id=outcome.assignment_id,
                section_id=outcome.section_id,
                student_id=student_id,
                student_sis_id=sis_id,
                class_sourced_id=class_id,
                score=sub[3] if sub else None,
                excused=bool(sub and sub[4]),
                late=bool(sub and sub[5]),
                missing=bool(sub and sub[6]),
                graded_at=sub[7] if sub else None,
            )
            value, reason = grade_value(grade)
            status = GradeOutcome.Status.PENDING
            sourced_id = result_id(outcome.assignment_id, outcome.section_id, student_id)
            payload = None
            if value is None:
                status = GradeOutcome.Status.SKIPPED
            elif grade.graded_at is None or grade.graded_at < self.window_start:
                status, reason = GradeOutcome.Status.UNCHANGED, OUTSIDE_WINDOW
            else:
                payload = {"grade": _grade_json(grade), "value": value}
                if self.sent.get(sourced_id, ("",))[0] == _value_hash(grade, value):
                    status, reason, payload = GradeOutcome.Status.UNCHANGED, SAME_AS_SENT, None
            rows.append(
                (
                    student_id,
                    sub[2] if sub else None,
                    sourced_id,
                    status,
                    reason,
                    "",
                    payload,
                    0,
                    self.now,
                )
            )
        return rows

    def removals(self, run_id: int, enabled: bool) -> list[_Pair]:
        """Line items sent before whose assignment no longer syncs: mark them tobedeleted."""
        if not enabled:
            return []
        out = []
        for sourced_id, (_, value) in self.sent.items():
            ids = parse_line_item_id(sourced_id)
            if ids is None or value.get("status") != "active":
                continue
            assignment = self.assignments.get(ids[0])
            if assignment is not None and assignment.post_to_sis and not assignment.deleted:
                continue
            out.append(
                _Pair(
                    run_id=run_id,
                    assignment_id=ids[0],
                    section_id=ids[1],
                    line_item_sourced_id=sourced_id,
                    line_item={**value, "status": "tobedeleted"},
                    message="No longer set to sync: its line item is marked tobedeleted.",
                )
            )
        return out


def _grade_json(grade: GradeInput) -> dict:
    return {
        "student_sis_id": grade.student_sis_id,
        "class": grade.class_sourced_id,
        "late": grade.late,
        "missing": grade.missing,
        "graded_at": grade.graded_at.isoformat() if grade.graded_at else None,
    }


def _value_hash(grade: GradeInput, value: dict) -> str:
    # The class is part of it: a section whose SIS id changed needs its results sent again.
    return content_hash(
        {**value, "late": grade.late, "missing": grade.missing, "class": grade.class_sourced_id}
    )


# Whether a run still has a pair to send (annotated on the run).
_PENDING = Exists(
    AssignmentOutcome.objects.filter(run=OuterRef("pk"), status=AssignmentOutcome.Status.PENDING)
)


def passback_finish(run_id: int, *, error: Exception | None = None) -> SyncRun:
    """Close the run once nothing is pending (or at once on a run-wide error)."""
    if error is None:
        # Every section's task calls this after its own pairs are settled and committed, so
        # while another section is pending a plain look is enough: the section that settles
        # last finds nothing pending and closes the run under the lock below.
        run = SyncRun.objects.annotate(pending=_PENDING).get(pk=run_id)
        if run.finished_at or run.pending:
            return run
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().get(pk=run_id)
        if run.finished_at:
            return run
        pending = run.assignments.filter(status=AssignmentOutcome.Status.PENDING)
        if error is None and pending.exists():
            return run
        if error is not None:
            run.status, run.message = SyncRun.Status.FAILED, str(error)
            message = f"Run stopped: {error}"
            pending.update(status=AssignmentOutcome.Status.FAILED, message=message[:2000])
            run.grades.filter(status=GradeOutcome.Status.PENDING).update(
                status=GradeOutcome.Status.FAILED, reason="run_failed", detail=str(error)[:2000]
            )
        else:
            run.status = SyncRun.Status.DONE
            if run_clean(run):
                run.inputs_as_of = run.started_at
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "message", "finished_at", "inputs_as_of"])
    return run


def passback_counts(run: SyncRun) -> dict:
    """Outcome counts of a run: {"assignments": {status: n}, "grades": {status: n}}."""
    from django.db.models import Count

    return {
        "assignments": dict(
            run.assignments.values("status").annotate(n=Count("id")).values_list("status", "n")
        ),
        "grades": dict(
            run.grades.values("status").annotate(n=Count("id")).values_list("status", "n")
        ),
    }


__all__ = [
    "OneRosterError",
    "PassbackNotConfigured",
    "QueueUnavailable",
    "passback_counts",
    "passback_finish",
    "passback_plan",
    "passback_request",
    "sis_client",
]


def passback_execute(run_id: int) -> SyncRun:
    """Run (or resume) a run to the end in this process: plan if not planned, send every
    section still pending, close it. Used by `passback --wait`, retries and crash recovery."""
    from sync.passback_send import RunStopped, section_send

    run = SyncRun.objects.get(pk=run_id)
    if run.finished_at:
        return run
    try:
        with sis_client() as client, relaxed_commits():
            if run.status == SyncRun.Status.QUEUED and not passback_plan(run=run, client=client):
                return _followed(run)  # a worker planned it meanwhile and sends it
            for section_id in pending_sections(run_id):
                section_send(run_id=run_id, section_id=section_id, client=client)
    except (PassbackNotConfigured, OneRosterError, RunStopped) as exc:
        return passback_finish(run_id, error=exc)
    return passback_finish(run_id)


def _followed(run: SyncRun, poll: float = 1.0) -> SyncRun:
    """Wait for a run that workers are sending to finish."""
    while not run.finished_at:
        time.sleep(poll)
        run.refresh_from_db()
    return run


def pending_sections(run_id: int) -> list[int]:
    return sorted(
        set(
            AssignmentOutcome.objects.filter(
                run_id=run_id, status=AssignmentOutcome.Status.PENDING
            ).values_list("section_id", flat=True)
        )
    )


def passback_retry(*, run_id: int, failed_only: bool = False, requested_by: str = "") -> SyncRun:
    """Retry a run. A run still active (e.g. its worker died) is queued again in the interactive
    lane: planned if it was still queued, resumed where it stopped if it was running. A
    finished one is requested again with the same selection, or with only the (assignment,
    section) pairs that had failures. Grades confirmed before are never sent twice."""
    run = SyncRun.objects.get(pk=run_id)
    if run.status in SyncRun.ACTIVE:
        return run_dispatch(run, interactive=True)
    sections, assignments = run.section_ids, run.assignment_ids
    if failed_only:
        failed = run.assignments.filter(status=AssignmentOutcome.Status.FAILED)
        sections = sorted(set(failed.values_list("section_id", flat=True)))
        assignments = sorted(set(failed.values_list("assignment_id", flat=True)))
        if not assignments:
            return run
    new_run, _ = passback_request(
        course_id=run.course_id,
        section_ids=sections,
        assignment_ids=assignments,
        requested_by=requested_by or f"retry of #{run.pk}",
    )
    return new_run


def sis_connection_check() -> str:
    """One line saying whether Infinite Campus accepts our settings, or what is wrong."""
    try:
        with sis_client() as client:
            return client.check_connection()
    except PassbackNotConfigured as exc:
        raise OneRosterError(str(exc), kind="auth") from exc
