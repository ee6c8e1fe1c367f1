"""Compliance reports taken and kept: district and school summaries, and teacher digests.

A report freezes the figures of ``sync.reports.figures`` into ``ComplianceReport.snapshot`` (JSON,
section by section) and its open violations into ``ComplianceReport.violations``, so that it reads
the same in the admin, the API and the mail whenever it is opened. All teacher digests of a run
come from one reading of the district.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import formats, timezone

from courses.models import Account
from sync import rules
from sync.models import ComplianceReport, ReportKind, ReportSchedule
from sync.reports.figures import ROW_COLUMNS, Figures, Teacher, Totals, figures_read

SNAPSHOT_VERSION = 1
# Passback outcomes are counted since the previous report; a first report looks back this far.
FIRST_WINDOW = timedelta(days=7)


def scope_of(school_ids: Iterable[int]) -> tuple[list[int], str, str]:
    """(sorted school ids, key, label) of a scope; no schools = the whole district."""
    ids = sorted(set(school_ids))
    if not ids:
        return [], "district", "District"
    names = dict(Account.objects.filter(canvas_id__in=ids).values_list("canvas_id", "name"))
    label = ", ".join(sorted(names.get(i, f"Account {i}") for i in ids))
    return ids, "schools:" + ",".join(map(str, ids)), label[:255]


def local_day(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "D M j, Y")


def percent_points(rate: float | None, previous: float | None) -> float | None:
    if rate is None or previous is None:
        return None
    return round(100 * (rate - previous), 2)


# --- the snapshot's sections ---------------------------------------------------------------------


def totals_json(totals: Totals, taken_at: datetime) -> dict:
    oldest = totals.oldest_open
    return {
        "synced": totals.synced,
        "compliant": totals.compliant,
        "blocked": totals.blocked,
        "rate": totals.rate,
        "open_blocking": totals.open_blocking,
        "open_warning": totals.open_warning,
        "open_by_rule": {r: totals.open_by_rule[r] for r in _rule_order(totals.open_by_rule)},
        "oldest_open_at": oldest.isoformat() if oldest else None,
        "oldest_open_days": max((taken_at - oldest).days, 0) if oldest else None,
    }


def _rule_order(counts: Counter) -> list[str]:
    known = [code for code in rules.RULES if counts.get(code)]
    return known + sorted(code for code in counts if code not in rules.RULES and counts[code])


def lowest_first(item: dict) -> tuple:
    """Where help is needed first: lowest rate, then most blocked, then by name."""
    rate = 2.0 if item["rate"] is None else item["rate"]
    return (rate, -item["blocked"], -item["open_blocking"], item["name"].lower())


def rules_json(totals: Totals, severity: dict[str, str]) -> list[dict]:
    """The rules behind the open violations, those that stop most assignments first."""
    out = []
    for code in _rule_order(totals.open_by_rule):
        spec = rules.RULES.get(code)
        blocked = totals.blocked_by_rule.get(code, 0)
        out.append(
            {
                "rule": code,
                "title": spec.title if spec else code,
                "severity": severity.get(code, spec.default_severity if spec else ""),
                "open": totals.open_by_rule[code],
                "assignments_blocked": blocked,
                "share": blocked / totals.synced if totals.synced else None,
            }
        )
    return sorted(out, key=lambda r: (-r["assignments_blocked"], -r["open"], r["rule"]))


def passback_json(totals: Totals) -> dict:
    by_status: Counter = Counter()
    for (status, _reason), count in totals.grades.items():
        by_status[status] += count
    reasons = [
        {"status": status, "reason": reason, "count": count}
        for (status, reason), count in sorted(
            totals.grades.items(), key=lambda item: (item[0][0], -item[1], item[0][1])
        )
        if reason
    ]
    return {
        "runs": totals.runs,
        "grades": {s: by_status.get(s, 0) for s in ("posted", "failed", "skipped", "unchanged")},
        "reasons": reasons,
    }


def _named(name: str, totals: Totals, taken_at: datetime, **extra: object) -> dict:
    return {**extra, "name": name, **totals_json(totals, taken_at)}


def _teacher_rows(figures: Figures, course_ids: set[int] | None = None) -> list[dict]:
    rows = []
    for person_id, courses in figures.teacher_courses.items():
        mine = [c for c in courses if course_ids is None or c in course_ids]
        totals = figures.total(mine)
        if not (totals.synced or totals.open_total):
            continue
        teacher = figures.teachers[person_id]
        rows.append(_named(teacher.name, totals, figures.taken_at, id=person_id))
    return sorted(rows, key=lowest_first)


def _course_rows(figures: Figures, course_ids: Iterable[int]) -> list[dict]:
    rows = []
    for course_id in course_ids:
        course = figures.courses[course_id]
        if course.relevant:
            school = figures.school_names.get(course.school_id, "")
            rows.append(_named(course.name, course, figures.taken_at, id=course_id, school=school))
    return sorted(rows, key=lowest_first)


def _school_rows(figures: Figures) -> list[dict]:
    by_school: dict[int, Totals] = {}
    for course in figures.courses.values():
        if course.relevant:
            by_school.setdefault(course.school_id, Totals()).add(course)
    return sorted(
        (
            _named(figures.school_names.get(sid, f"Account {sid}"), t, figures.taken_at, id=sid)
            for sid, t in by_school.items()
        ),
        key=lowest_first,
    )


def snapshot_json(
    *,
    kind: str,
    title: str,
    scope: tuple[list[int], str, str],
    figures: Figures,
    totals: Totals,
    previous: ComplianceReport | None,
    teacher: Teacher | None = None,
    course_ids: list[int] | None = None,
) -> dict:
    summary = totals_json(totals, figures.taken_at)
    summary["change"] = percent_points(totals.rate, previous.compliance_rate if previous else None)
    snapshot = {
        "version": SNAPSHOT_VERSION,
        "kind": kind,
        "title": title,
        "scope": {"label": scope[2], "school_ids": scope[0]},
        "taken_at": figures.taken_at.isoformat(),
        "since": figures.since.isoformat(),
        "previous": (
            {
                "id": previous.pk,
                "taken_at": previous.taken_at.isoformat(),
                "rate": previous.compliance_rate,
            }
            if previous
            else None
        ),
        "teacher": (
            {"id": teacher.person_id, "name": teacher.name, "email": teacher.email}
            if teacher
            else None
        ),
        "summary": summary,
        "rules": rules_json(totals, figures.rule_severity),
        "passback": passback_json(totals),
    }
    if teacher is None:
        snapshot["schools"] = _school_rows(figures)
        snapshot["teachers"] = _teacher_rows(figures)
    else:
        snapshot["courses"] = _course_rows(figures, course_ids or [])
    return snapshot


def _report(
    *,
    kind: str,
    title: str,
    scope: tuple[list[int], str, str],
    figures: Figures,
    totals: Totals,
    rows: list[list],
    previous: ComplianceReport | None,
    schedule: ReportSchedule | None,
    requested_by: str,
    teacher: Teacher | None = None,
    course_ids: list[int] | None = None,
) -> ComplianceReport:
    snapshot = snapshot_json(
        kind=kind,
        title=title,
        scope=scope,
        figures=figures,
        totals=totals,
        previous=previous,
        teacher=teacher,
        course_ids=course_ids,
    )
    return ComplianceReport(
        kind=kind,
        title=title[:255],
        taken_at=figures.taken_at,
        scope_label=scope[2],
        scope_key=scope[1],
        school_ids=scope[0],
        teacher_id=teacher.person_id if teacher else None,
        schedule=schedule,
        previous=previous,
        requested_by=requested_by[:150],
        synced=totals.synced,
        compliant=totals.compliant,
        compliance_rate=totals.rate,
        rate_change=snapshot["summary"]["change"],
        open_blocking=totals.open_blocking,
        open_warning=totals.open_warning,
        snapshot=snapshot,
        violations={"columns": ROW_COLUMNS, "rows": rows},
    )


def _previous(kind: str, scope_key: str, before: datetime) -> ComplianceReport | None:
    return (
        ComplianceReport.objects.filter(
            kind=kind, scope_key=scope_key, teacher__isnull=True, taken_at__lt=before
        )
        .defer("snapshot", "violations")
        .order_by("-taken_at", "-id")
        .first()
    )


# --- services ------------------------------------------------------------------------------------


def report_build(
    *,
    kind: str = ReportKind.DISTRICT,
    school_ids: Iterable[int] = (),
    schedule: ReportSchedule | None = None,
    requested_by: str = "",
    now: datetime | None = None,
) -> ComplianceReport:
    """Take and keep a district summary (whole district) or a school summary (its schools)."""
    if kind not in (ReportKind.DISTRICT, ReportKind.SCHOOL):
        raise ValueError(f"report_build makes summaries, not {kind!r} reports")
    now = now or timezone.now()
    scope = scope_of(school_ids)
    if kind == ReportKind.SCHOOL and not scope[0]:
        raise ValueError("a school summary needs at least one school")
    previous = _previous(kind, scope[1], now)
    since = previous.taken_at if previous else now - FIRST_WINDOW
    figures = figures_read(school_ids=scope[0], since=since, now=now)
    course_ids = [c.course_id for c in figures.courses.values()]
    which = "District" if kind == ReportKind.DISTRICT else scope[2]
    title = f"{which} grade passback compliance, {local_day(now)}"
    with transaction.atomic():
        report = _report(
            kind=kind,
            title=title,
            scope=scope,
            figures=figures,
            totals=figures.total(course_ids),
            rows=[row for rows in figures.violation_rows.values() for row in rows],
            previous=previous,
            schedule=schedule,
            requested_by=requested_by,
        )
        report.save()
    return report


def teacher_digests_build(
    *,
    school_ids: Iterable[int] = (),
    schedule: ReportSchedule | None = None,
    requested_by: str = "",
    now: datetime | None = None,
) -> tuple[list[ComplianceReport], int]:
    """A digest for every teacher of the scope with open violations in their own courses.

    Returns the digests and how many teachers had nothing to fix (they get no digest).
    """
    now = now or timezone.now()
    scope = scope_of(school_ids)
    kind = ReportKind.TEACHER
    earlier = ComplianceReport.objects.filter(kind=kind, scope_key=scope[1], taken_at__lt=now)
    last_batch = earlier.aggregate(last=Max("taken_at"))["last"]
    figures = figures_read(school_ids=scope[0], since=last_batch or now - FIRST_WINDOW, now=now)
    # Each teacher's previous digest, in two queries whatever the number of teachers.
    latest_ids = (
        earlier.filter(teacher_id__in=list(figures.teacher_courses))
        .values("teacher_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    previous = {
        r.teacher_id: r
        for r in ComplianceReport.objects.filter(pk__in=list(latest_ids)).defer(
            "snapshot", "violations"
        )
    }
    digests, clean = [], 0
    for person_id, course_ids in sorted(
        figures.teacher_courses.items(), key=lambda item: figures.teachers[item[0]].sortable_name
    ):
        totals = figures.total(course_ids)
        if not totals.open_total:
            clean += 1
            continue
        teacher = figures.teachers[person_id]
        digests.append(
            _report(
                kind=kind,
                title=f"Grade passback digest for {teacher.name}, {local_day(now)}",
                scope=scope,
                figures=figures,
                totals=totals,
                rows=figures.rows_of(course_ids),
                previous=previous.get(person_id),
                schedule=schedule,
                requested_by=requested_by,
                teacher=teacher,
                course_ids=course_ids,
            )
        )
    with transaction.atomic():
        ComplianceReport.objects.bulk_create(digests, batch_size=200)
    return digests, clean
