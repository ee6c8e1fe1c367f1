"""A kept report as people read it: the e-mail's subject, HTML and plain text, and its CSV.

Everything is drawn from the stored snapshot, so a report reads the same in the admin as in the
mail it was sent as. The HTML is made for mail clients: tables for layout, inline styles, the bar
chart as table cells, nothing loaded from elsewhere (Outlook, Gmail and Apple Mail all render it).
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from django.template.loader import render_to_string
from django.utils import formats, timezone

from sync import rules
from sync.models import ComplianceReport, ReportKind
from sync.violation_rows import COLUMNS

# How many open blocking violations a mail lists; the attached CSV always has all of them.
LISTED_IN_SUMMARY = 100
LISTED_IN_DIGEST = 200
TEACHERS_IN_DISTRICT_SUMMARY = 20
TEACHERS_IN_SCHOOL_SUMMARY = 100
BARS = 40
CSV_ROWS_PER_CHUNK = 500

GREEN, AMBER, RED, GREY = "#1a7f37", "#b7791f", "#c53030", "#8a94a6"


def percent(rate: float | None) -> str:
    if rate is None:
        return "–"
    value = 100 * rate
    # 99.96% is not 100%: never round a blocked assignment away.
    if value < 100 and f"{value:.1f}" == "100.0":
        return "99.9%"
    return f"{value:.1f}%"


def rate_color(rate: float | None) -> str:
    if rate is None:
        return GREY
    return GREEN if rate >= 0.95 else AMBER if rate >= 0.8 else RED


def when(iso: str, fmt: str = "M j, Y") -> str:
    return formats.date_format(timezone.localtime(datetime.fromisoformat(iso)), fmt)


def change_text(change: float | None, previous: dict | None) -> str:
    if previous is None:
        return "first report"
    if change is None:
        return "no compliance figure to compare"
    since = when(previous["taken_at"], "M j")
    if abs(change) < 0.05:
        return f"no change since {since}"
    arrow = "up" if change > 0 else "down"
    return f"{arrow} {abs(change):.1f} points since {since}"


def change_short(change: float | None) -> str:
    if change is None or abs(change) < 0.05:
        return ""
    return f" ({change:+.1f} pts)"


@dataclass(frozen=True)
class Bar:
    name: str
    detail: str
    percent: str
    width: int
    color: str


def bars(items: list[dict]) -> list[Bar]:
    out = []
    for item in items[:BARS]:
        rate = item["rate"]
        width = 0 if rate is None else max(round(100 * rate), 1 if rate else 0)
        detail = f"{item['blocked']:,} of {item['synced']:,} blocked"
        out.append(Bar(item["name"], detail, percent(rate), width, rate_color(rate)))
    return out


def with_display(item: dict) -> dict:
    return {**item, "percent": percent(item["rate"]), "color": rate_color(item["rate"])}


def subject(report: ComplianceReport) -> str:
    snapshot = report.snapshot
    summary = snapshot["summary"]
    day = when(snapshot["taken_at"])
    if report.kind == ReportKind.TEACHER:
        blocking, warning = summary["open_blocking"], summary["open_warning"]
        if blocking:
            things = f"{blocking} problem{'s' if blocking != 1 else ''} to fix"
            return f"Grade passback: {things} in your Canvas courses ({day})"
        things = f"{warning} warning{'s' if warning != 1 else ''}"
        return f"Grade passback: {things} in your Canvas courses ({day})"
    label = snapshot["scope"]["label"]
    figure = percent(summary["rate"])
    tail = " – nothing to fix" if summary["synced"] and not summary["open_blocking"] else ""
    return f"GPB compliance {figure}{change_short(summary['change'])}: {label}, {day}{tail}"


def listed_violations(report: ComplianceReport) -> tuple[list[dict], int]:
    """The open blocking violations the mail lists (a capped number) and how many there are."""
    columns = report.violations.get("columns", [])
    rows = [dict(zip(columns, row, strict=True)) for row in report.violations.get("rows", [])]
    blocking = [r for r in rows if r["severity"] == rules.BLOCKING]
    if report.kind == ReportKind.TEACHER:
        blocking.sort(key=lambda r: (r["course_name"], r["assignment_name"] or "", r["rule"]))
        cap = LISTED_IN_DIGEST
    else:
        blocking.sort(key=lambda r: (r["first_seen"], r["course_name"]))  # the oldest first
        cap = LISTED_IN_SUMMARY
    taken_at = datetime.fromisoformat(report.snapshot["taken_at"])
    listed = []
    for row in blocking[:cap]:
        spec = rules.RULES.get(row["rule"])
        if row["assignment_name"]:
            what = row["assignment_name"]
        elif row["section_canvas_id"]:
            what = f"Section {row['section_sis_id'] or row['section_canvas_id']}"
        else:
            what = "The whole course"
        listed.append(
            {
                **row,
                "rule_title": spec.title if spec else row["rule"],
                "what": what,
                "days_open": max((taken_at - datetime.fromisoformat(row["first_seen"])).days, 0),
                "teacher_names": ", ".join(row["teachers"]),
            }
        )
    return listed, len(blocking)


def context(report: ComplianceReport) -> dict:
    snapshot = report.snapshot
    summary = with_display(snapshot["summary"])
    summary["change_text"] = change_text(summary["change"], snapshot["previous"])
    teacher_digest = report.kind == ReportKind.TEACHER
    violations, blocking_total = listed_violations(report)
    if teacher_digest:
        bar_items, bars_heading = snapshot["courses"], "Your courses, lowest compliance first"
        teachers, teachers_more = [], 0
    else:
        bar_items, bars_heading = snapshot["schools"], "Compliance by school, lowest first"
        cap = (
            TEACHERS_IN_DISTRICT_SUMMARY
            if report.kind == ReportKind.DISTRICT
            else TEACHERS_IN_SCHOOL_SUMMARY
        )
        # Who must act first: the most assignments kept from Infinite Campus.
        acting = sorted(
            (t for t in snapshot["teachers"] if t["blocked"] or t["open_blocking"]),
            key=lambda t: (-t["blocked"], -t["open_blocking"], t["name"].lower()),
        )
        teachers = [with_display(t) for t in acting[:cap]]
        teachers_more = len(acting) - len(teachers)
    passback = snapshot["passback"]
    return {
        "report": report,
        "snapshot": snapshot,
        "subject": subject(report),
        "teacher_digest": teacher_digest,
        "teacher": snapshot.get("teacher"),
        "taken_at": when(snapshot["taken_at"], "l, F j, Y, P T"),
        "since": when(snapshot["since"], "M j"),
        "summary": summary,
        "nothing_synced": not summary["synced"],
        "congratulate": bool(summary["synced"]) and not summary["open_blocking"],
        "bars": bars(bar_items),
        "bars_more": max(len(bar_items) - BARS, 0),
        "bars_heading": bars_heading,
        "teachers": teachers,
        "teachers_more": teachers_more,
        "rules": [
            {**r, "share_text": percent(r["share"]) if r["share"] is not None else "–"}
            for r in snapshot["rules"]
        ],
        "passback": passback,
        "passback_any": bool(passback["runs"] or any(passback["grades"].values())),
        "violations": violations,
        "violations_total": blocking_total,
        "violations_more": blocking_total - len(violations),
        "csv_rows": len(report.violations.get("rows", [])),
        "csv_name": csv_filename(report),
    }


def report_html(report: ComplianceReport) -> str:
    return render_to_string("reports/compliance_report.html", context(report))


def report_text(report: ComplianceReport) -> str:
    return render_to_string("reports/compliance_report.txt", context(report))


def report_rendered(report: ComplianceReport) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of the report's mail, from one context."""
    values = context(report)
    return (
        values["subject"],
        render_to_string("reports/compliance_report.txt", values),
        render_to_string("reports/compliance_report.html", values),
    )


# --- CSV -----------------------------------------------------------------------------------------


def csv_filename(report: ComplianceReport) -> str:
    taken_at = timezone.localtime(report.taken_at)
    return f"gpb-report-{report.pk}-{taken_at:%Y%m%d}-violations.csv"


def _csv_lines(rows: list[list], columns: list[str], header: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(COLUMNS)
    index = [columns.index(c) for c in COLUMNS]
    teachers = columns.index("teachers")
    for row in rows:
        writer.writerow(
            [
                "; ".join(row[i]) if i == teachers else ("" if row[i] is None else row[i])
                for i in index
            ]
        )
    return out.getvalue()


def report_csv_chunks(report: ComplianceReport) -> Iterator[str]:
    """The report's open blocking and warning violations as ``gpb_report`` CSV, in chunks."""
    columns = report.violations.get("columns", [])
    rows = iter(report.violations.get("rows", []))
    yield _csv_lines([], columns or list(COLUMNS), header=True)
    while chunk := list(islice(rows, CSV_ROWS_PER_CHUNK)):
        yield _csv_lines(chunk, columns, header=False)


def report_csv(report: ComplianceReport) -> str:
    return "".join(report_csv_chunks(report))
