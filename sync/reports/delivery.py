"""E-mailing kept reports: one message per recipient, each delivery recorded and retried alone.

A message is an ``EmailMultiAlternatives`` through Django's configured backend (``EMAIL_URL``):
plain text, the HTML alternative and the report's violations as a CSV attachment. A recipient the
server refuses, or a dropped connection, fails that delivery only: it is recorded with the error,
the connection is reopened for the next one, and a django-q2 task tries it again later with a
growing delay, up to MAX_ATTEMPTS attempts. The retry task runs from a one-off schedule that
exists only while retries are pending (no polling job).
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.validators import validate_email
from django.db.models import Min, Q
from django.utils import timezone
from django_q.models import Schedule

from sync.models import ComplianceReport, ReportDelivery
from sync.reports.render import csv_filename, report_csv, report_rendered

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=5)  # then three times longer each time: 5, 15, 45, 135 minutes
# A queued delivery this old was left behind by a run that died; the retry task takes it over.
STALE_QUEUED = timedelta(hours=1)
SMTP_TIMEOUT = 60  # seconds, unless EMAIL_TIMEOUT says otherwise
RETRY_TASK = "sync.tasks.report_deliveries_retry"
RETRY_SCHEDULE = "Compliance reports: retry failed deliveries"
PENDING = (ReportDelivery.Status.QUEUED, ReportDelivery.Status.RETRYING)


@dataclass
class DeliverySummary:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed

    def line(self) -> str:
        parts = [f"{self.sent} sent"]
        if self.retrying:
            parts.append(f"{self.retrying} failed (will retry)")
        if self.failed:
            parts.append(f"{self.failed} failed for good")
        if self.skipped:
            parts.append(f"{self.skipped} skipped (no usable e-mail address)")
        return ", ".join(parts)


def is_email(address: str) -> bool:
    if len(address) > ReportDelivery._meta.get_field("recipient").max_length:
        return False
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def retry_delay(attempts: int) -> timedelta:
    """Wait before the next attempt, after ``attempts`` failed ones."""
    return FIRST_RETRY * 3 ** max(attempts - 1, 0)


# --- queueing ------------------------------------------------------------------------------------


def deliveries_queue(
    *, report: ComplianceReport, recipients: Iterable[str], now: datetime | None = None
) -> list[ReportDelivery]:
    """A queued delivery of the report per distinct recipient; one that is not an address is
    recorded as skipped (sending it could only fail)."""
    now = now or timezone.now()
    seen, rows = set(), []
    for address in recipients:
        address = address.strip()
        if address and address.lower() not in seen:
            seen.add(address.lower())
            row = ReportDelivery(report=report, recipient=address[:254], created_at=now)
            if not is_email(address):
                row.status = ReportDelivery.Status.SKIPPED
                row.last_error = f"“{address}” is not an e-mail address"
            rows.append(row)
    return ReportDelivery.objects.bulk_create(rows)


def teacher_deliveries_queue(
    *, digests: Iterable[ComplianceReport], now: datetime | None = None
) -> list[ReportDelivery]:
    """Each digest to its teacher's Canvas address; a teacher without one is recorded, skipped."""
    now = now or timezone.now()
    rows = []
    for digest in digests:
        teacher = digest.snapshot.get("teacher") or {}
        address = (teacher.get("email") or "").strip()
        row = ReportDelivery(report=digest, recipient=address[:254], created_at=now)
        if not is_email(address):
            row.status = ReportDelivery.Status.SKIPPED
            row.last_error = (
                f"{teacher.get('name', 'The teacher')} has no e-mail address in Canvas"
                if not address
                else f"“{address}” (from Canvas) is not an e-mail address"
            )
        rows.append(row)
    return ReportDelivery.objects.bulk_create(rows, batch_size=500)


# --- sending -------------------------------------------------------------------------------------


def message_build(
    *, report: ComplianceReport, recipient: str, rendered: tuple[str, str, str], csv_text: str
) -> EmailMultiAlternatives:
    subject, text, html = rendered
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
        headers={"Auto-Submitted": "auto-generated", "X-GPB-Report": str(report.pk)},
    )
    message.attach_alternative(html, "text/html")
    message.attach(csv_filename(report), csv_text, "text/csv")
    return message


def _claim(delivery: ReportDelivery) -> bool:
    """Take the delivery for this attempt; False when another worker already took it."""
    claimed = ReportDelivery.objects.filter(
        pk=delivery.pk, status=delivery.status, attempts=delivery.attempts
    ).update(attempts=delivery.attempts + 1, next_attempt_at=None)
    delivery.attempts += 1
    return bool(claimed)


def _record_failure(delivery: ReportDelivery, error: str, summary: DeliverySummary) -> None:
    now = timezone.now()
    delivery.last_error = error[:2000]
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = ReportDelivery.Status.FAILED
        delivery.next_attempt_at = None
        summary.failed += 1
    else:
        delivery.status = ReportDelivery.Status.RETRYING
        delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        summary.retrying += 1
    summary.errors.append(f"{delivery.recipient}: {error}")
    delivery.save(update_fields=["status", "last_error", "next_attempt_at"])
    log.warning("report #%s to %s failed: %s", delivery.report_id, delivery.recipient, error)


def deliveries_send(
    *,
    deliveries: Iterable[ReportDelivery],
    connection: BaseEmailBackend | None = None,
) -> DeliverySummary:
    """Send each pending delivery over one connection, recording each outcome as it happens."""
    summary = DeliverySummary()
    pending = sorted(
        (d for d in deliveries if d.status in PENDING), key=lambda d: (d.report_id, d.pk)
    )
    # Django waits on an SMTP server forever by default; a report gives up and retries later.
    connection = connection or get_connection(
        timeout=getattr(settings, "EMAIL_TIMEOUT", None) or SMTP_TIMEOUT
    )
    report_id, rendered, csv_text = None, ("", "", ""), ""
    try:
        for delivery in pending:
            if not _claim(delivery):
                continue
            try:
                if delivery.report_id != report_id:  # render a report once for its recipients
                    report = delivery.report
                    rendered, csv_text = report_rendered(report), report_csv(report)
                    report_id = report.pk
                message = message_build(
                    report=delivery.report,
                    recipient=delivery.recipient,
                    rendered=rendered,
                    csv_text=csv_text,
                )
                if connection.send_messages([message]) != 1:
                    raise RuntimeError("the mail backend accepted nothing")
            except Exception as exc:  # noqa: BLE001 - any failure is this recipient's only
                _record_failure(delivery, f"{type(exc).__name__}: {exc}", summary)
                _reset(connection)
                continue
            delivery.status = ReportDelivery.Status.SENT
            delivery.sent_at = timezone.now()
            delivery.last_error = ""
            delivery.save(update_fields=["status", "sent_at", "last_error"])
            summary.sent += 1
    finally:
        _reset(connection)
        retry_schedule_ensure()
    return summary


def _reset(connection: BaseEmailBackend) -> None:
    """Close the connection (the next message reopens it): a refused or dropped session may
    leave the SMTP conversation in a state where nothing more goes through."""
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - closing a broken connection may fail too
        log.debug("closing the mail connection failed", exc_info=True)


def report_send(
    *, report: ComplianceReport, connection: BaseEmailBackend | None = None
) -> DeliverySummary:
    """Send every pending delivery of one report."""
    deliveries = list(report.deliveries.filter(status__in=PENDING).select_related("report"))
    summary = deliveries_send(deliveries=deliveries, connection=connection)
    summary.skipped = report.deliveries.filter(status=ReportDelivery.Status.SKIPPED).count()
    return summary


# --- retrying ------------------------------------------------------------------------------------


def due_deliveries(now: datetime) -> Q:
    return Q(status=ReportDelivery.Status.RETRYING, next_attempt_at__lte=now) | Q(
        status=ReportDelivery.Status.QUEUED, created_at__lte=now - STALE_QUEUED
    )


def deliveries_retry(
    *, now: datetime | None = None, connection: BaseEmailBackend | None = None
) -> DeliverySummary:
    """Try again every delivery whose retry is due (and any a dead run left queued)."""
    now = now or timezone.now()
    due = list(ReportDelivery.objects.filter(due_deliveries(now)).select_related("report"))
    return deliveries_send(deliveries=due, connection=connection)


def retry_schedule_ensure() -> Schedule | None:
    """A one-off django-q2 schedule at the earliest pending retry; none when nothing waits."""
    earliest = ReportDelivery.objects.filter(status=ReportDelivery.Status.RETRYING).aggregate(
        at=Min("next_attempt_at")
    )["at"]
    if earliest is None:
        Schedule.objects.filter(name=RETRY_SCHEDULE, func=RETRY_TASK).delete()
        return None
    schedule, _ = Schedule.objects.update_or_create(
        name=RETRY_SCHEDULE,
        func=RETRY_TASK,
        defaults={"schedule_type": Schedule.ONCE, "next_run": earliest, "repeats": -1},
    )
    return schedule


def deliveries_resend(
    *, delivery_ids: Iterable[int], connection: BaseEmailBackend | None = None
) -> DeliverySummary:
    """Try the chosen failed deliveries again now (one more attempt even past MAX_ATTEMPTS)."""
    ids = list(delivery_ids)
    ReportDelivery.objects.filter(pk__in=ids, status=ReportDelivery.Status.FAILED).update(
        status=ReportDelivery.Status.RETRYING
    )
    chosen = ReportDelivery.objects.filter(pk__in=ids, status__in=PENDING).select_related("report")
    return deliveries_send(deliveries=list(chosen), connection=connection)
