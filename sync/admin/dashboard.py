"""The district dashboard on the admin index: compliance, open violations by rule, the trend.

A fixed handful of queries whatever the district's size. Compliance is the figure of
``sync.compliance`` (same synced assignments, same test for "blocked"), but counted once, grouped
by school and term, instead of once per grouping: at 40,000 assignments each count costs about
150 ms on PostgreSQL. The rule counts read the open-violation index only.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from courses.models import Account, Term
from sync import rules
from sync.admin.trend_chart import TrendChart, trend_chart
from sync.admin.violations import days_open, rule_title
from sync.compliance import Compliance, synced_assignments
from sync.models import ComplianceSample, ImportRun, Violation

TREND_DAYS = 90
LISTED_VIOLATIONS = 10


@dataclass(frozen=True)
class Row:
    """One line of a compliance table, ready to show."""

    name: str
    synced: int
    compliant: int
    rate: float | None
    url: str = ""

    @property
    def blocked(self) -> int:
        return self.synced - self.compliant

    @property
    def percent(self) -> str:
        return "-" if self.rate is None else f"{100 * self.rate:.1f}%"

    @property
    def bar(self) -> float:
        """Width of the rate bar, in percent of its cell."""
        return 0 if self.rate is None else round(100 * self.rate, 1)


@dataclass(frozen=True)
class RuleRow:
    code: str
    title: str
    severity: str
    open: int
    assignments: int
    rate: float | None
    url: str

    @property
    def percent(self) -> str:
        return "-" if self.rate is None else f"{100 * self.rate:.1f}%"


@dataclass(frozen=True)
class DistrictCompliance:
    district: Compliance
    schools: list[Compliance]
    terms: list[Compliance]


def lowest_first(compliance: Compliance) -> tuple:
    """Where help is needed first: the lowest rate first, then the most blocked, then by name."""
    rate = 2.0 if compliance.rate is None else compliance.rate
    return (rate, -compliance.blocked, compliance.name)


def district_compliance_counted() -> DistrictCompliance:
    """District, per-school and per-term compliance from one grouped count (school x term)."""
    counted = (
        synced_assignments()
        .values("course__account_id", "course__term_id")
        .annotate(synced=Count("canvas_id"), compliant=Count("canvas_id", filter=Q(blocked=False)))
        .order_by()
        .values_list("course__account_id", "course__term_id", "synced", "compliant")
    )
    by_school: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    by_term: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
    for school, term, synced, compliant in counted:
        for totals, key in ((by_school, school), (by_term, term)):
            totals[key][0] += synced
            totals[key][1] += compliant
    school_names = dict(
        Account.objects.filter(canvas_id__in=list(by_school)).values_list("canvas_id", "name")
    )
    term_ids = [key for key in by_term if key is not None]
    term_names = dict(Term.objects.filter(canvas_id__in=term_ids).values_list("canvas_id", "name"))
    schools = [
        Compliance(key, school_names.get(key, f"Account {key}"), *totals)
        for key, totals in by_school.items()
    ]
    terms = [
        Compliance(key, term_names.get(key, "No term"), *totals) for key, totals in by_term.items()
    ]
    synced = sum(c.synced for c in schools)
    compliant = sum(c.compliant for c in schools)
    return DistrictCompliance(
        Compliance(None, "District", synced, compliant),
        sorted(schools, key=lowest_first),
        sorted(terms, key=lowest_first),
    )


def open_by_rule(synced: int) -> list[RuleRow]:
    """``compliance_by_rule``'s rows, given the district's synced count (already counted)."""
    counts = {
        rule: (open_count, affected)
        for rule, open_count, affected in Violation.objects.filter(resolved_at__isnull=True)
        .values("rule")
        # COUNT(*), not COUNT(id): the open-by-rule index alone answers it.
        .annotate(open=Count("*"), assignments=Count("assignment_id", distinct=True))
        .order_by()
        .values_list("rule", "open", "assignments")
    }
    out = []
    for code, spec in rules.RULES.items():
        open_count, affected = counts.get(code, (0, 0))
        rate = (1 - affected / synced) if synced else None
        url = violations_url(rule=code)
        out.append(
            RuleRow(code, spec.title, spec.default_severity, open_count, affected, rate, url)
        )
    return out


def violations_url(**filters: object) -> str:
    url = reverse("admin:sync_violation_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def compliance_row(compliance: Compliance, **filters: object) -> Row:
    url = violations_url(**filters, severity="blocking") if filters else ""
    return Row(compliance.name, compliance.synced, compliance.compliant, compliance.rate, url)


def open_violations_listed(order: str, now: datetime) -> list[Violation]:
    rows = list(
        Violation.objects.filter(resolved_at__isnull=True)
        .select_related("course", "assignment", "section")
        .order_by(order, order.replace("first_seen", "pk"))[:LISTED_VIOLATIONS]
    )
    for row in rows:
        row.days_open = days_open(row, now)
        row.rule_title = rule_title(row)
    return rows


def compliance_trend(now: datetime) -> TrendChart | None:
    """District compliance per day (its last sample) over the last TREND_DAYS days."""
    district = ComplianceSample.objects.filter(
        school__isnull=True, taken_at__gte=now - timedelta(days=TREND_DAYS)
    )
    # A refresh an hour is 2,000 samples in 90 days: the database keeps one per day.
    last_of_each_day = (
        district.annotate(day=TruncDate("taken_at"))
        .values("day")
        .annotate(last=Max("taken_at"))
        .values("last")
    )
    samples = list(
        district.filter(taken_at__in=last_of_each_day)
        .order_by("taken_at")
        .values_list("taken_at", "synced", "compliant")
    )
    if not samples:
        return None
    return trend_chart(samples, last_day=timezone.localtime(now).date(), days=TREND_DAYS)


def dashboard_context(*, now: datetime | None = None) -> dict:
    """Everything the dashboard shows, for the admin index template."""
    now = now or timezone.now()
    compliance = district_compliance_counted()
    district = compliance.district
    rule_rows = open_by_rule(district.synced)
    return {
        "gpb_dashboard": True,
        "district": Row(district.name, district.synced, district.compliant, district.rate),
        "schools": [compliance_row(c, school=c.key) for c in compliance.schools],
        "terms": [
            compliance_row(c, term=c.key) if c.key is not None else compliance_row(c)
            for c in compliance.terms
        ],
        "rules": rule_rows,
        "open_total": sum(row.open for row in rule_rows),
        "newest": open_violations_listed("-first_seen", now),
        "oldest": open_violations_listed("first_seen", now),
        "trend": compliance_trend(now),
        "trend_days": TREND_DAYS,
        "last_import": ImportRun.objects.order_by("-started_at").first(),
        "violations_url": violations_url(),
    }
