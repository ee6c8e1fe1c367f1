"""Send one section's pending line items and results to Infinite Campus, recording every outcome.

Results go out ``SIS_MAX_CONCURRENCY`` at a time. Each confirmed send is written back (outcome
``posted`` and the new PassbackState) in small batches, so a crash loses at most one batch of
confirmations: those grades are sent once more by the resumed run, an idempotent PUT by sourcedId.
"""

import logging
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from sync.models import AssignmentOutcome, GradeOutcome, PassbackState, SyncRun
from sync.oneroster import OneRosterClient, OneRosterError, Sent
from sync.passback_payloads import GradeInput, content_hash, result_payload, utc_iso

logger = logging.getLogger(__name__)

RECORD_EVERY = 50  # confirmations written per batch
RECORD_EVERY_SECONDS = 0.5


class RunStopped(Exception):
    """A run-wide failure (the SIS refused our credentials): stop sending for this run."""


def section_send(*, run_id: int, section_id: int, client: OneRosterClient) -> None:
    """Send everything still pending for one section of a run; safe to call again after a crash."""
    run = SyncRun.objects.get(pk=run_id)
    if run.finished_at:
        return
    outcomes = run.assignments.filter(
        section_id=section_id, status=AssignmentOutcome.Status.PENDING
    ).order_by("assignment_id")
    for outcome in outcomes:
        _send_pair(run, outcome, client)


def _send_pair(run: SyncRun, outcome: AssignmentOutcome, client: OneRosterClient) -> None:
    now = timezone.now()
    # Sending this pair began before and never finished: its worker died. What IC confirmed
    # in the meantime may not be recorded here, so each pending grade is checked first.
    resumed = outcome.send_started_at is not None
    if not resumed:
        outcome.send_started_at = now
        outcome.save(update_fields=["send_started_at"])
    line_item = {**outcome.line_item, "dateLastModified": utc_iso(now)}
    sent_before = PassbackState.objects.filter(sourced_id=outcome.line_item_sourced_id).first()
    if sent_before is None or sent_before.value_hash != content_hash(line_item):
        try:
            answer = client.put_line_item(outcome.line_item_sourced_id, line_item)
        except OneRosterError as exc:
            _line_item_failed(outcome, exc)
            if exc.kind == "auth":
                raise RunStopped(str(exc)) from exc
            return
        _confirm(run, [(outcome.line_item_sourced_id, "lineItem", line_item)], now)
        outcome.line_item_sent = True
        outcome.http_status = answer.status

    if line_item.get("status") == "tobedeleted":
        outcome.status = AssignmentOutcome.Status.SYNCED
        outcome.save(update_fields=["status", "line_item_sent", "http_status"])
        return
    _send_results(run, outcome, client, verify=resumed)
    counts = dict(
        outcome.grades.values("status").annotate(n=Count("id")).values_list("status", "n")
    )
    failed = counts.get(GradeOutcome.Status.FAILED, 0)
    posted = counts.get(GradeOutcome.Status.POSTED, 0)
    if failed:
        outcome.status = AssignmentOutcome.Status.FAILED
        outcome.message = f"{failed} grades failed, {posted} posted."
    elif posted or outcome.line_item_sent:
        outcome.status = AssignmentOutcome.Status.SYNCED
    else:
        outcome.status = AssignmentOutcome.Status.NO_CHANGES
    outcome.save(update_fields=["status", "message", "line_item_sent", "http_status"])


def _send_results(
    run: SyncRun, outcome: AssignmentOutcome, client: OneRosterClient, *, verify: bool
) -> None:
    pending = list(outcome.grades.filter(status=GradeOutcome.Status.PENDING).order_by("id"))
    if not pending:
        return
    version = settings.SIS_ONEROSTER_VERSION
    base_url = settings.SIS_BASE_URL
    confirmed: list[tuple[GradeOutcome, dict, Sent]] = []
    failed: list[tuple[GradeOutcome, OneRosterError]] = []
    last_flush = time.monotonic()
    stop: OneRosterError | None = None

    def send(grade: GradeOutcome) -> tuple[dict, Sent]:
        payload = _result(grade, outcome, base_url=base_url, version=version)
        if verify and _holds(client.get_result(grade.result_sourced_id), payload):
            return payload, Sent(status=200, attempts=0)  # confirmed before the crash
        return payload, client.put_result(grade.result_sourced_id, payload)

    with ThreadPoolExecutor(max_workers=max(1, settings.SIS_MAX_CONCURRENCY)) as pool:
        todo = iter(pending)
        running: dict[Future, GradeOutcome] = {}
        while True:
            while stop is None and len(running) < max(1, settings.SIS_MAX_CONCURRENCY):
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
            if (
                len(confirmed) >= RECORD_EVERY
                or time.monotonic() - last_flush > RECORD_EVERY_SECONDS
            ):
                _record(run, confirmed, failed)
                confirmed, failed = [], []
                last_flush = time.monotonic()
    _record(run, confirmed, failed)
    if stop is not None:
        raise RunStopped(str(stop)) from stop


def _holds(current: dict | None, payload: dict) -> bool:
    """Whether IC already holds this payload's value (what a resumed send would write)."""
    if not current:
        return False
    keys = ("scoreStatus", "score", "status", "late", "missing")
    return all(current.get(k) == payload.get(k) for k in keys)


def _result(
    grade: GradeOutcome, outcome: AssignmentOutcome, *, base_url: str, version: str
) -> dict:
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
    confirmed: list[tuple[GradeOutcome, dict, Sent]],
    failed: list[tuple[GradeOutcome, OneRosterError]],
) -> None:
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
        GradeOutcome.objects.bulk_update(
            [g for g, *_ in confirmed] + [g for g, _ in failed],
            ["status", "http_status", "attempts", "sent_at", "reason", "detail"],
            batch_size=500,
        )
        _confirm(
            run,
            [(g.result_sourced_id, "result", _state_value(g)) for g, *_ in confirmed],
            now,
        )


def _state_value(grade: GradeOutcome) -> dict:
    info, value = grade.payload["grade"], grade.payload["value"]
    return {**value, "late": info["late"], "missing": info["missing"], "class": info["class"]}


def _confirm(run: SyncRun, sent: list[tuple[str, str, dict]], now: datetime) -> None:
    """Remember what IC confirmed, so that the next run sends only what changed."""
    if not sent:
        return
    PassbackState.objects.bulk_create(
        [
            PassbackState(
                sourced_id=sourced_id,
                kind=kind,
                course_canvas_id=run.course_id,
                value_hash=content_hash(value),
                value=value,
                confirmed_at=now,
                run=run,
            )
            for sourced_id, kind, value in sent
        ],
        update_conflicts=True,
        unique_fields=["sourced_id"],
        update_fields=["value_hash", "value", "confirmed_at", "run", "kind"],
        batch_size=500,
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
