"""How findings are phrased: quoted names, dates a teacher reads, counted nouns, short lists."""

from collections.abc import Sequence
from datetime import datetime, tzinfo

from sync.rules.definitions import to_minute

# Spelled out rather than strftime("%b") so messages do not depend on the process locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def quoted(name: str) -> str:
    """A name between typographic quotes, as teachers see titles in Canvas."""
    return f"\u201c{name}\u201d"


def when(moment: datetime | None, zone: tzinfo) -> str:
    """``Oct 3, 2025 11:59 PM`` in ``zone``, or ``no due date``."""
    if moment is None:
        return "no due date"
    local = to_minute(moment).astimezone(zone)
    hour = local.hour % 12 or 12
    half = "AM" if local.hour < 12 else "PM"
    return f"{_MONTHS[local.month - 1]} {local.day}, {local.year} {hour}:{local.minute:02d} {half}"


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``1 student override``, ``2 student overrides``."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def short_list(items: Sequence[str], limit: int = 5) -> str:
    """``a, b, c`` or, past ``limit`` items, ``a, b, c, d, e …``."""
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + " \u2026"
