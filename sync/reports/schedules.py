"""Report schedules: their django-q2 schedules kept in step, the default set, and one run.

Every active ``ReportSchedule`` has one django-q2 ``Schedule`` of type CRON named after it, which
calls ``sync.tasks.compliance_report_scheduled`` with its id. ``report_schedule_sync`` makes that
so after every save (a signal calls it) and ``report_schedules_apply`` for all of them (from
``setup_schedules``), which also creates the default schedules when missing and drops django-q2
schedules left by deleted report schedules. django-q2 reads cron in ``cron_time_zone()`` (the
district's ``TIME_ZONE`` unless Q_CLUSTER says otherwise), so "0 6 * * 1" is Monday 06:00 there.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from sync.models import ComplianceReport, ReportKind, ReportSchedule
from sync.reports.delivery import (
    DeliverySummary,
    deliveries_queue,
    deliveries_send,
    report_send,
    teacher_deliveries_queue,
)
from sync.reports.snapshot import report_build, teacher_digests_build

TASK = "sync.tasks.compliance_report_scheduled"


@dataclass(frozen=True)
class DefaultSchedule:
    name: str
    kind: str
    cron: str


# Created by setup_schedules when missing; after that the admin's version is the one that counts
# (switch one off with "active" rather than deleting it, or setup_schedules brings it back).
DEFAULTS = (
    DefaultSchedule("Weekly district summary", ReportKind.DISTRICT, "0 6 * * 1"),
    DefaultSchedule("Weekly teacher digests", ReportKind.TEACHER, "15 6 * * 1"),
)


def q_schedule_name(schedule: ReportSchedule) -> str:
    return f"Compliance report: {schedule.name}"[:100]


def _kwargs(schedule: ReportSchedule) -> str:
    return repr({"schedule_id": schedule.pk})  # django-q2 reads kwargs with ast.literal_eval


def _linked(schedule: ReportSchedule) -> Schedule | None:
    if schedule.q_schedule_id:
        found = Schedule.objects.filter(pk=schedule.q_schedule_id).first()
        if found:
            return found
    return Schedule.objects.filter(func=TASK, kwargs=_kwargs(schedule)).first()


@transaction.atomic
def report_schedule_sync(*, schedule: ReportSchedule) -> bool:
    """Create, update or remove the schedule's django-q2 schedule; True when it was created."""
    found = _linked(schedule)
    if not schedule.active:
        if found:
            found.delete()
        ReportSchedule.objects.filter(pk=schedule.pk).update(q_schedule=None)
        schedule.q_schedule = None
        return False
    created = found is None
    if created:
        found = Schedule(func=TASK, schedule_type=Schedule.CRON, repeats=-1)
    old_cron = found.cron
    found.name = q_schedule_name(schedule)
    found.kwargs = _kwargs(schedule)
    found.cron = schedule.cron
    found.schedule_type = Schedule.CRON
    found.repeats = -1
    if not created and old_cron != schedule.cron:
        # django-q2 computes next_run only when a schedule is created.
        found.next_run = found.calculate_next_run()
    found.save()  # a new CRON schedule gets its next_run here
    if schedule.q_schedule_id != found.pk:
        ReportSchedule.objects.filter(pk=schedule.pk).update(q_schedule=found)
        schedule.q_schedule = found
    return created


def report_schedule_unlink(*, schedule: ReportSchedule) -> None:
    """Remove the django-q2 schedule of a report schedule being deleted."""
    Schedule.objects.filter(func=TASK, kwargs=_kwargs(schedule)).delete()
    if schedule.q_schedule_id:
        Schedule.objects.filter(pk=schedule.q_schedule_id, func=TASK).delete()


def report_schedules_apply() -> list[tuple[str, bool]]:
    """The default schedules when missing, then every report schedule's django-q2 schedule."""
    applied, new_defaults = [], set()
    for default in DEFAULTS:
        _, made = ReportSchedule.objects.get_or_create(  # its signal schedules it
            name=default.name, defaults={"kind": default.kind, "cron": default.cron}
        )
        if made:
            new_defaults.add(default.name)
    for schedule in ReportSchedule.objects.order_by("name"):
        created = report_schedule_sync(schedule=schedule) or schedule.name in new_defaults
        state = "" if schedule.active else " (inactive: not scheduled)"
        applied.append((q_schedule_name(schedule) + state, created))
    live = [
        _kwargs(ReportSchedule(pk=pk)) for pk in ReportSchedule.objects.values_list("pk", flat=True)
    ]
    Schedule.objects.filter(func=TASK).exclude(kwargs__in=live).delete()
    return applied


# --- running a schedule --------------------------------------------------------------------------


@dataclass
class RunResult:
    reports: list[ComplianceReport]
    delivery: DeliverySummary
    clean_teachers: int = 0
    no_recipients: bool = False

    def line(self) -> str:
        if not self.reports:
            if self.clean_teachers:
                return f"no digest: none of the {self.clean_teachers} teachers has anything to fix"
            return "no teacher in scope"
        if len(self.reports) == 1 and self.reports[0].kind != ReportKind.TEACHER:
            report = self.reports[0]
            rate = "-" if report.compliance_rate is None else f"{100 * report.compliance_rate:.1f}%"
            head = f"report #{report.pk} ({rate} compliant)"
        else:
            head = f"{len(self.reports)} teacher digests"
            if self.clean_teachers:
                teachers = "teacher" if self.clean_teachers == 1 else "teachers"
                head += f" ({self.clean_teachers} {teachers} had nothing to fix)"
        if self.no_recipients:
            return (
                f"{head}; not sent: no recipients (set them on the schedule or REPORT_RECIPIENTS)"
            )
        return f"{head}; {self.delivery.line()}"


def summary_send(
    *,
    kind: str = ReportKind.DISTRICT,
    school_ids: list[int] | tuple = (),
    recipients: list[str],
    schedule: ReportSchedule | None = None,
    requested_by: str = "",
    connection: BaseEmailBackend | None = None,
    now: datetime | None = None,
) -> RunResult:
    """Take a district or school summary, keep it, and e-mail it to each recipient."""
    report = report_build(
        kind=kind, school_ids=school_ids, schedule=schedule, requested_by=requested_by, now=now
    )
    if not recipients:
        return RunResult([report], DeliverySummary(), no_recipients=True)
    deliveries_queue(report=report, recipients=recipients, now=now)
    return RunResult([report], report_send(report=report, connection=connection))


def teacher_digests_send(
    *,
    school_ids: list[int] | tuple = (),
    schedule: ReportSchedule | None = None,
    requested_by: str = "",
    connection: BaseEmailBackend | None = None,
    now: datetime | None = None,
) -> RunResult:
    """Take every teacher's digest, keep them, and e-mail each to its teacher only."""
    digests, clean = teacher_digests_build(
        school_ids=school_ids, schedule=schedule, requested_by=requested_by, now=now
    )
    deliveries = teacher_deliveries_queue(digests=digests, now=now)
    summary = deliveries_send(deliveries=deliveries, connection=connection)
    summary.skipped = sum(1 for d in deliveries if d.status == d.Status.SKIPPED)
    return RunResult(digests, summary, clean_teachers=clean)


def report_schedule_run(
    *,
    schedule_id: int,
    requested_by: str = "schedule",
    connection: BaseEmailBackend | None = None,
    now: datetime | None = None,
) -> str:
    """Build and send what a report schedule asks for; records and returns a one-line result."""
    schedule = ReportSchedule.objects.filter(pk=schedule_id).first()
    if schedule is None:
        return f"skipped: report schedule #{schedule_id} no longer exists"
    now = now or timezone.now()
    school_ids = list(schedule.schools.values_list("canvas_id", flat=True))
    if schedule.kind == ReportKind.SCHOOL and not school_ids:
        line = f"{schedule.name}: skipped: a school summary needs at least one school"
        ReportSchedule.objects.filter(pk=schedule.pk).update(last_run_at=now, last_result=line)
        return line
    if schedule.kind == ReportKind.TEACHER:
        result = teacher_digests_send(
            school_ids=school_ids,
            schedule=schedule,
            requested_by=requested_by,
            connection=connection,
            now=now,
        )
    else:
        result = summary_send(
            kind=schedule.kind,
            school_ids=school_ids if schedule.kind == ReportKind.SCHOOL else (),
            recipients=schedule.recipient_list() or list(settings.REPORT_RECIPIENTS),
            schedule=schedule,
            requested_by=requested_by,
            connection=connection,
            now=now,
        )
    line = f"{schedule.name}: {result.line()}"
    # update(), not save(): saving would re-sync the django-q2 schedule for nothing.
    ReportSchedule.objects.filter(pk=schedule.pk).update(last_run_at=now, last_result=line[:255])
    return line
