"""Send one section's pending line items and results to Infinite Campus, recording every outcome.

Requests go out as many at a time as the permits the sender holds (sync/sis_slots.py: at most
``SIS_MAX_CONCURRENCY`` across every worker). Each confirmed send is written back (outcome
``posted`` and the new PassbackState) in small batches; a crash can lose at most one batch of
confirmations, and a resumed section asks IC for those results before sending them again.
"""

import logging
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Executor, Future, as_completed, wait
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from sync.bulk import bulk_update_by_pk, bulk_upsert
from sync.models import AssignmentOutcome, GradeOutcome, PassbackState, SyncRun
from sync.oneroster import OneRosterClient, OneRosterError, Sent
from sync.passback_payloads import GradeInput, content_hash, result_payload, utc_iso
from sync.sis_slots import Permits, sis_permits

logger = logging.getLogger(__name__)

RECORD_EVERY = 200  # confirmations written per batch
RECORD_EVERY_SECONDS = 1.0


class RunStopped(Exception):
    """A run-wide failure (the SIS refused our credentials): stop sending for this run."""


@dataclass(slots=True)
class _Pending:
    """A pending GradeOutcome as sending reads and records it: a district run sends about
    a hundred thousand, and model instances cost a good part of what sending them does."""

    pk: int
    assignment_outcome_id: int
    student_id: int
    result_sourced_id: str
    payload: dict
    detail: str
    sent_at: datetime | None
    status: str = GradeOutcome.Status.PENDING
    http_status: int | None = None
    attempts: int = 0
    reason: str = ""


_PENDING_COLUMNS = (
    "id",
    "assignment_outcome_id",
    "student_id",
    "result_sourced_id",
    "payload",
    "detail",
    "sent_at",
)


def section_send(
    *, run_id: int, section_id: int, client: OneRosterClient, dispatch: int | None = None
) -> None:
    """Send everything still pending for one section of a run; safe to call again after a crash.
    A task of an earlier ``dispatch`` of the run sends nothing.

    The section goes as one batch: its changed line items first, then every pending result of
    the pairs whose line item IC holds, ``SIS_MAX_CONCURRENCY`` requests at a time, then each
    pair's status from what its grades became.
    """
    outcomes = list(
        AssignmentOutcome.objects.filter(
            run_id=run_id,
            run__finished_at__isnull=True,
            section_id=section_id,
            status=AssignmentOutcome.Status.PENDING,
        )
        .select_related("run")
        .order_by("assignment_id")
    )
    if not outcomes:
        return  # sent already, or the run was closed
    run = outcomes[0].run
    now = timezone.now()
    # Pairs whose sending began before and never finished: their worker died. What IC
    # confirmed in the meantime may not be recorded here, so their grades are checked first.
    resumed = {o.pk for o in outcomes if o.send_started_at is not None}
    if not _begin(run, [o.pk for o in outcomes if o.pk not in resumed], dispatch, now):
        return  # the run was queued again since: its newer tasks send this section
    with sis_permits() as permits, permits.pool() as pool:
        ready = _send_line_items(run, outcomes, client, pool, now)
        sendable = [o for o in ready if o.line_item.get("status") != "tobedeleted"]
        tally = _send_results(run, sendable, client, pool, resumed, permits)
    _settle(outcomes, tally, resumed)


def _begin(run: SyncRun, pair_ids: list[int], dispatch: int | None, now: datetime) -> bool:
    """Mark the pairs begun, unless the run was queued again after this task was (a later
    ``dispatch``). Under the run's lock: a run moved ahead (sync/passback_queue.py) sends again
    only the sections no task had begun, so no section is ever sent by two tasks at once."""
    if dispatch is None:  # a task queued before dispatch numbers, or passback_execute
        AssignmentOutcome.objects.filter(pk__in=pair_ids).update(send_started_at=now)
        return True
    if dispatch != run.dispatch:
        return False
    with transaction.atomic():
        locked = SyncRun.objects.select_for_update().filter(pk=run.pk)
        if locked.values_list("dispatch", flat=True).get() != dispatch:
            return False
        AssignmentOutcome.objects.filter(pk__in=pair_ids).update(send_started_at=now)
    return True


def _send_line_items(
    run: SyncRun,
    outcomes: list[AssignmentOutcome],
    client: OneRosterClient,
    pool: Executor,
    now: datetime,
) -> list[AssignmentOutcome]:
    """PUT the line items IC does not hold as they are; returns the pairs ready for results."""
    stamp = utc_iso(now)
    items = {o.pk: {**o.line_item, "dateLastModified": stamp} for o in outcomes}
    hashes = {pk: content_hash(item) for pk, item in items.items()}
    held = dict(
        PassbackState.objects.filter(
            sourced_id__in=[o.line_item_sourced_id for o in outcomes]
        ).values_list("sourced_id", "value_hash")
    )
    changed = [o for o in outcomes if held.get(o.line_item_sourced_id) != hashes[o.pk]]
    ready = [o for o in outcomes if held.get(o.line_item_sourced_id) == hashes[o.pk]]
    futures = {
        pool.submit(client.put_line_item, o.line_item_sourced_id, items[o.pk]): o for o in changed
    }
    confirmed, stop = [], None
    for future in as_completed(futures):
        outcome = futures[future]
        try:
            answer = future.result()
        except OneRosterError as exc:
            _line_item_failed(outcome, exc)
            if exc.kind == "auth":
                stop = stop or exc
            continue
        outcome.line_item_sent, outcome.http_status = True, answer.status
        confirmed.append(
            (outcome.line_item_sourced_id, "lineItem", items[outcome.pk], hashes[outcome.pk])
        )
        ready.append(outcome)
    _confirm(run, confirmed, now)
    if stop is not None:
        raise RunStopped(str(stop)) from stop
    return ready


def _send_results(
    run: SyncRun,
    outcomes: list[AssignmentOutcome],
    client: OneRosterClient,
    pool: Executor,
    resumed: set[int],
    permits: Permits,
) -> Counter[tuple[int, str]]:
    """Send the pending results of these pairs; returns how many of each pair's grades ended
    posted and failed here, as {(pair, status): n}."""
    by_pk = {o.pk: o for o in outcomes}
    tally: Counter[tuple[int, str]] = Counter()
    pending = [
        _Pending(*row)
        for row in GradeOutcome.objects.filter(
            assignment_outcome__in=list(by_pk), status=GradeOutcome.Status.PENDING
        )
        .order_by("id")
        .values_list(*_PENDING_COLUMNS)
    ]
    if not pending:
        return tally
    version = settings.SIS_ONEROSTER_VERSION
    base_url = settings.SIS_BASE_URL
    confirmed: list[tuple[_Pending, dict, Sent]] = []
    failed: list[tuple[_Pending, OneRosterError]] = []
    last_flush = time.monotonic()
    stop: OneRosterError | None = None

    def send(grade: _Pending) -> tuple[dict, Sent]:
        outcome = by_pk[grade.assignment_outcome_id]
        payload = _result(grade, outcome, base_url=base_url, version=version)
        if outcome.pk in resumed and _holds(client.get_result(grade.result_sourced_id), payload):
            return payload, Sent(status=200, attempts=0)  # confirmed before the crash
        return payload, client.put_result(grade.result_sourced_id, payload)

    workers = permits.count
    todo = iter(pending)
    running: dict[Future, _Pending] = {}
    while True:
        # A few more in the pool than it runs, so that no worker waits for the next one (the
        # pool's size, the permits held, bounds what is in flight).
        while stop is None and len(running) < 2 * workers:
            grade = next(todo, None)
            if grade is None:
                break
            running[pool.submit(send, grade)] = grade
        if not running:
            break
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            grade = running.pop(future)
            try:
                payload, answer = future.result()
            except OneRosterError as exc:
                failed.append((grade, exc))
                if exc.kind == "auth":
                    stop = stop or exc
            else:
                confirmed.append((grade, payload, answer))
        if len(confirmed) >= RECORD_EVERY or time.monotonic() - last_flush > RECORD_EVERY_SECONDS:
            permits.keep()
            _record(run, confirmed, failed, tally)
            confirmed, failed = [], []
            last_flush = time.monotonic()
    _record(run, confirmed, failed, tally)
    if stop is not None:
        raise RunStopped(str(stop)) from stop
    return tally


def _settle(
    outcomes: list[AssignmentOutcome], tally: Counter[tuple[int, str]], resumed: set[int]
) -> None:
    """Each pair's final status from what its grades became. Every grade sent for a pair
    whose sending began here is in ``tally``; a resumed pair's grades may have been posted
    before the crash, so those pairs are counted in the database."""
    if resumed:  # the database holds this call's outcomes too: its counts replace the tally
        for pk, status, n in (
            GradeOutcome.objects.filter(
                assignment_outcome__in=[o.pk for o in outcomes if o.pk in resumed],
                status__in=(GradeOutcome.Status.POSTED, GradeOutcome.Status.FAILED),
            )
            .values("assignment_outcome", "status")
            .annotate(n=Count("id"))
            .values_list("assignment_outcome", "status", "n")
        ):
            tally[pk, status] = n
    settled = []
    for outcome in outcomes:
        if outcome.status == AssignmentOutcome.Status.FAILED:  # its line item failed
            continue
        failed = tally[outcome.pk, GradeOutcome.Status.FAILED]
        posted = tally[outcome.pk, GradeOutcome.Status.POSTED]
        if failed:
            outcome.status = AssignmentOutcome.Status.FAILED
            outcome.message = f"{failed} grades failed, {posted} posted."
        elif posted or outcome.line_item_sent:
            outcome.status = AssignmentOutcome.Status.SYNCED
        else:
            outcome.status = AssignmentOutcome.Status.NO_CHANGES
        settled.append(outcome)
    bulk_update_by_pk(
        AssignmentOutcome,
        ["status", "message", "line_item_sent", "http_status"],
        [(o.pk, o.status, o.message, o.line_item_sent, o.http_status) for o in settled],
    )


def _holds(current: dict | None, payload: dict) -> bool:
    """Whether IC already holds this payload's value (what a resumed send would write)."""
    if not current:
        return False
    keys = ("scoreStatus", "score", "status", "late", "missing")
    return all(current.get(k) == payload.get(k) for k in keys)


def _result(grade: _Pending, outcome: AssignmentOutcome, *, base_url: str, version: str) -> dict:
    info, value = grade.payload["grade"], grade.payload["value"]
    graded_at = info.get("graded_at")
    return result_payload(
        GradeInput(
            assignment_id=outcome.assignment_id,
            section_id=outcome.section_id,
            student_id=grade.student_id,
            student_sis_id=info["student_sis_id"],
            class_sourced_id=info["class"],
            score=value.get("score"),
            excused=value["scoreStatus"] == "exempt",
            late=info["late"],
            missing=info["missing"],
            graded_at=datetime.fromisoformat(graded_at) if graded_at else None,
        ),
        value,
        base_url=base_url,
        version=version,
        modified=timezone.now(),
    )


def _record(
    run: SyncRun,
    confirmed: list[tuple[_Pending, dict, Sent]],
    failed: list[tuple[_Pending, OneRosterError]],
    tally: Counter[tuple[int, str]],
) -> None:
    """Write these outcomes (and what IC now holds) and add them to ``tally``."""
    if not confirmed and not failed:
        return
    now = timezone.now()
    for grade, _, answer in confirmed:
        grade.status, grade.http_status, grade.attempts = (
            GradeOutcome.Status.POSTED,
            answer.status,
            answer.attempts,
        )
        grade.sent_at, grade.reason = now, ""
    for grade, exc in failed:
        grade.status, grade.http_status = GradeOutcome.Status.FAILED, exc.status
        grade.attempts = exc.attempts
        grade.reason = "sis_rejected" if exc.status and exc.status < 500 else "sis_unavailable"
        grade.detail = (exc.description or str(exc))[:2000]
    with transaction.atomic():
        bulk_update_by_pk(
            GradeOutcome,
            ["status", "http_status", "attempts", "sent_at", "reason", "detail"],
            [
                (g.pk, g.status, g.http_status, g.attempts, g.sent_at, g.reason, g.detail)
                for g in [g for g, *_ in confirmed] + [g for g, _ in failed]
            ],
        )
        states = [(g.result_sourced_id, _state_value(g)) for g, *_ in confirmed]
        _confirm(run, [(sid, "result", v, content_hash(v)) for sid, v in states], now)
    tally.update((g.assignment_outcome_id, g.status) for g, *_ in confirmed)
    tally.update((g.assignment_outcome_id, g.status) for g, _ in failed)


def _state_value(grade: _Pending) -> dict:
    info, value = grade.payload["grade"], grade.payload["value"]
    return {**value, "late": info["late"], "missing": info["missing"], "class": info["class"]}


def _confirm(run: SyncRun, sent: list[tuple[str, str, dict, str]], now: datetime) -> None:
    """Remember what IC confirmed, as (sourcedId, kind, value, its content_hash), so that the
    next run sends only what changed."""
    if not sent:
        return
    bulk_upsert(
        PassbackState,
        ["sourced_id", "kind", "course_canvas_id", "value_hash", "value", "confirmed_at", "run_id"],
        [
            (sourced_id, kind, run.course_id, value_hash, value, now, run.pk)
            for sourced_id, kind, value, value_hash in sent
        ],
        compare=["value_hash", "confirmed_at", "run_id", "kind"],
        touch=None,
        key="sourced_id",
    )


def _line_item_failed(outcome: AssignmentOutcome, exc: OneRosterError) -> None:
    outcome.status = AssignmentOutcome.Status.FAILED
    outcome.http_status = exc.status
    outcome.message = str(exc)[:2000]
    outcome.save(update_fields=["status", "http_status", "message"])
    outcome.grades.filter(status=GradeOutcome.Status.PENDING).update(
        status=GradeOutcome.Status.FAILED,
        reason="line_item_failed",
        detail=(exc.description or str(exc))[:2000],
        http_status=exc.status,
    )
