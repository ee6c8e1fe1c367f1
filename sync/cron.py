"""Cron expressions of report schedules: checked with croniter, read in the cron time zone.

django-q2 evaluates a ``Schedule.CRON`` expression in its own time zone setting
(``Q_CLUSTER["time_zone"]``), which falls back to Django's ``TIME_ZONE``; ``cron_time_zone``
is that zone, so that what the admin shows as "next runs" is what the worker will do.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import CroniterError, croniter
from django.conf import settings
from django.core.exceptions import ValidationError

# Nicknames croniter understands; anything else must be the classic five fields.
NICKNAMES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
EXAMPLE = "0 6 * * 1 (Mondays at 06:00)"


def validate_cron(value: str) -> None:
    """Accept five-field cron expressions (minute hour day-of-month month day-of-week)."""
    expression = (value or "").strip()
    if expression.lower() in NICKNAMES:
        return
    fields = expression.split()
    if len(fields) != 5:
        raise ValidationError(
            "“%(value)s” is not a cron expression: use five fields separated by spaces "
            "(minute hour day-of-month month day-of-week), e.g. %(example)s.",
            code="invalid_cron",
            params={"value": expression, "example": EXAMPLE},
        )
    try:
        croniter(expression)
    except (CroniterError, ValueError, KeyError) as exc:
        raise ValidationError(
            "“%(value)s” is not a valid cron expression (%(reason)s); e.g. %(example)s.",
            code="invalid_cron",
            params={"value": expression, "reason": str(exc).strip(), "example": EXAMPLE},
        ) from exc


def cron_time_zone() -> ZoneInfo:
    """The zone django-q2 reads cron expressions in (its own setting, else TIME_ZONE)."""
    name = getattr(settings, "Q_CLUSTER", {}).get("time_zone") or settings.TIME_ZONE
    return ZoneInfo(name)


def cron_next_runs(expression: str, *, after: datetime, count: int = 3) -> list[datetime]:
    """The next ``count`` moments the expression fires after ``after``, in the cron zone."""
    runs = croniter(expression, after.astimezone(cron_time_zone()))
    return [runs.get_next(datetime) for _ in range(count)]
