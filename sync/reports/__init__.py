"""Scheduled compliance reports: snapshots taken and kept, rendered, e-mailed, scheduled.

``figures`` counts (SQL, grouped per course), ``snapshot`` takes and keeps reports, ``render``
draws them (subject, HTML, text, CSV), ``delivery`` e-mails them with per-recipient retries, and
``schedules`` ties ``ReportSchedule`` rows to django-q2 and runs them.
"""

from sync.reports.delivery import (
    DeliverySummary,
    deliveries_queue,
    deliveries_retry,
    deliveries_send,
    report_send,
)
from sync.reports.render import report_csv, report_csv_chunks, report_html, report_text, subject
from sync.reports.schedules import (
    RunResult,
    report_schedule_run,
    report_schedule_sync,
    report_schedules_apply,
    summary_send,
    teacher_digests_send,
)
from sync.reports.snapshot import report_build, teacher_digests_build

__all__ = [
    "DeliverySummary",
    "RunResult",
    "deliveries_queue",
    "deliveries_retry",
    "deliveries_send",
    "report_build",
    "report_csv",
    "report_csv_chunks",
    "report_html",
    "report_schedule_run",
    "report_schedule_sync",
    "report_schedules_apply",
    "report_send",
    "report_text",
    "subject",
    "summary_send",
    "teacher_digests_build",
    "teacher_digests_send",
]
