"""The compliance trend as SVG geometry: one point per day, drawn by a template, no JavaScript."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 48  # room for the axis labels


def short_date(day: date) -> str:
    """``Mar 7``: what an axis tick has room for."""
    return f"{day:%b} {day.day}"


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    day: date
    percent: float
    synced: int
    compliant: int


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class TrendChart:
    first_day: date
    last_day: date
    points: list[Point]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def x_middle(self) -> float:
        return (self.left + self.right) / 2

    @property
    def y_middle(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def summary(self) -> str:
        if not self.points:
            return "No compliance samples in this period."
        first, last = self.points[0], self.points[-1]
        return (
            f"From {first.percent:.1f}% on {short_date(first.day)} "
            f"to {last.percent:.1f}% on {short_date(last.day)}."
        )


def daily_rates(samples: Iterable[tuple[datetime, int, int]]) -> dict[date, tuple[int, int]]:
    """The last sample of each local day, as (synced, compliant); samples come oldest first."""
    days: dict[date, tuple[int, int]] = {}
    for taken_at, synced, compliant in samples:
        if synced:
            days[timezone.localtime(taken_at).date()] = (synced, compliant)
    return days


def trend_chart(
    samples: Iterable[tuple[datetime, int, int]], *, last_day: date, days: int
) -> TrendChart:
    """The chart of ``days`` days ending on ``last_day``; the y axis is always 0-100%."""
    first_day = last_day - timedelta(days=days - 1)
    span = max(days - 1, 1)
    plot_width, plot_height = WIDTH - RIGHT - LEFT, HEIGHT - BOTTOM - TOP

    def x(day: date) -> float:
        return LEFT + plot_width * (day - first_day).days / span

    def y(percent: float) -> float:
        return TOP + plot_height * (1 - percent / 100)

    points = []
    for day, (synced, compliant) in sorted(daily_rates(samples).items()):
        if first_day <= day <= last_day:
            percent = 100 * compliant / synced
            points.append(Point(x(day), y(percent), day, percent, synced, compliant))
    step = max(span // 6, 1)
    x_ticks = [
        Tick(x(first_day + timedelta(days=offset)), short_date(first_day + timedelta(days=offset)))
        for offset in range(0, span + 1, step)
    ]
    y_ticks = [Tick(y(percent), f"{percent}%") for percent in (0, 25, 50, 75, 100)]
    return TrendChart(first_day, last_day, points, x_ticks, y_ticks)
