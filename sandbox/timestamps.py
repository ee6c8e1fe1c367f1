"""Canvas-style timestamps ("YYYY-MM-DDTHH:MM:SSZ") built fast from epoch seconds."""

import math
import time
from datetime import UTC, datetime

# The generated district is frozen at this moment: grades, due dates and "past due" are relative
# to it, so the same seed always yields the same data whatever the wall clock says.
REFERENCE_NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
REFERENCE_EPOCH = int(REFERENCE_NOW.timestamp())
DAY = 86_400

_day_prefixes: dict[int, str] = {}


def iso(epoch: int) -> str:
    """Format whole epoch seconds; a day-prefix cache keeps this cheap for millions of rows."""
    day, rest = divmod(epoch, DAY)
    prefix = _day_prefixes.get(day)
    if prefix is None:
        prefix = _day_prefixes[day] = time.strftime("%Y-%m-%dT", time.gmtime(day * DAY))
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{prefix}{hours:02d}:{minutes:02d}:{seconds:02d}Z"


def epoch(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


def iso_ceil(moment: datetime) -> str:
    """Round up to the whole second, so the stamp is never earlier than the moment itself."""
    return iso(math.ceil(moment.timestamp()))


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 query value; naive times are taken as UTC, like Canvas does."""
    moment = datetime.fromisoformat(value.strip().replace(" ", "+"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
