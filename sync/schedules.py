"""Every recurring job, declared once and applied idempotently by `manage.py setup_schedules`."""

from dataclasses import dataclass, field

from django_q.models import Schedule


@dataclass(frozen=True)
class Job:
    name: str
    func: str
    cron: str
    kwargs: dict = field(default_factory=dict)


JOBS = [
    Job("Canvas import (incremental, hourly)", "sync.tasks.import_canvas", "15 * * * *"),
    Job("Canvas import (full, nightly)", "sync.tasks.import_canvas", "30 1 * * *", {"full": True}),
    Job("Passback to Infinite Campus (nightly)", "sync.tasks.passback_district", "30 3 * * *"),
]


def schedules_apply() -> list[tuple[str, bool]]:
    """Create or update every job's schedule; returns (name, created) for each."""
    applied = []
    for job in JOBS:
        before = Schedule.objects.filter(name=job.name).values_list("cron", flat=True).first()
        schedule, created = Schedule.objects.update_or_create(
            name=job.name,
            defaults={
                "func": job.func,
                # django-q2 keeps kwargs as text and reads it back with ast.literal_eval.
                "kwargs": repr(job.kwargs) if job.kwargs else None,
                "schedule_type": Schedule.CRON,
                "cron": job.cron,
                "repeats": -1,
            },
        )
        if not created and before != job.cron:
            # django-q2 computes next_run only when a schedule is created: a new time must
            # take effect now, not after one more run at the old time.
            schedule.next_run = schedule.calculate_next_run()
            schedule.save(update_fields=["next_run"])
        applied.append((job.name, created))
    # Compliance reports: the default report schedules, then one per ReportSchedule row.
    from sync.reports.schedules import report_schedules_apply

    applied += report_schedules_apply()
    return applied
