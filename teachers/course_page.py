"""Reads for a course's sync page: its sections, synced assignments with their due dates per
section, open problems with their fixes, last sync, and what a sync would send now.

A fixed number of queries whatever the number of assignments or students: the rule book's
definitions (assigned sections, effective due dates) run over the course loaded in a handful of
queries, open violations are read in one, and the grades waiting to be sent are counted in SQL
(sync/grades_to_send.py). A pair (assignment, section) counts as blocked exactly when the
passback would not send it: a blocking violation of the course, section, assignment or pair,
no SIS id for the section, and, once Infinite Campus is configured, no due date, no IC category
matching the assignment group in that class, or no SIS id for the school.
"""

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from django.conf import settings
from django.utils import timezone

from courses.models import Course
from courses.selectors import school_sis_id
from sync import rules
from sync.grades_to_send import changed_grade_counts
from sync.models import AssignmentOutcome, SisCategory, SyncRun, Violation
from sync.policy import policy_get
from sync.violations import courses_for_rules
from teachers.selectors import canvas_assignment_url, natural_key, when

# Rules a teacher fixes right on the sync page; every other rule links to Canvas.
RENAME_RULES = frozenset({"name_too_long", "name_not_unique"})
DUE_DATE_RULES = frozenset({"missing_due_date"})
SHOWN_SEVERITIES = (rules.BLOCKING, rules.WARNING)
SORTS = ("name", "date")
RECENT_RUNS = 5
# A year of nightly runs: an assignment no run covered since is shown as never synced.
RUNS_LOOKED_AT = 400
OUTCOME_WORDS = dict(AssignmentOutcome.Status.choices)


@dataclass(frozen=True)
class SectionOption:
    canvas_id: int
    name: str
    students: int
    in_sis: bool


@dataclass(frozen=True)
class Issue:
    """An open blocking violation or warning, as the teacher reads it."""

    rule: str
    severity: str
    message: str
    section_id: int | None = None
    section_name: str = ""
    label: str = ""
    derived: bool = False  # what the passback would do, not a stored violation

    @property
    def title(self) -> str:
        spec = rules.RULES.get(self.rule)
        return self.label or (spec.title if spec else self.rule.replace("_", " ").capitalize())

    @property
    def is_blocking(self) -> bool:
        return self.severity == rules.BLOCKING

    @property
    def fix(self) -> str:
        """``name`` or ``due_at`` when fixed on the page, else empty (fixed in Canvas)."""
        if self.rule in RENAME_RULES:
            return "name"
        if self.rule in DUE_DATE_RULES and self.section_id is not None:
            return "due_at"
        return ""


@dataclass(frozen=True)
class SectionPlan:
    """One assigned section of an assignment: its due date and what a sync sends there now."""

    section_id: int
    section_name: str
    due_at: datetime | None
    changed: int
    blocked: bool
    due_label: str = "No due date"


@dataclass(frozen=True)
class LastSync:
    run_id: int
    at: datetime | None
    statuses: tuple[tuple[str, int], ...]  # (outcome status, sections), most frequent first

    @property
    def at_label(self) -> str:
        return when(self.at)

    @property
    def label(self) -> str:
        names = OUTCOME_WORDS
        if len(self.statuses) == 1:
            return names.get(self.statuses[0][0], self.statuses[0][0]).capitalize()
        return ", ".join(
            f"{names.get(status, status).capitalize()} ({n})" for status, n in self.statuses
        )

    @property
    def tone(self) -> str:
        seen = {status for status, _ in self.statuses}
        for status, tone in (("failed", "bad"), ("blocked", "bad"), ("pending", "busy")):
            if status in seen:
                return tone
        return "good"


@dataclass
class AssignmentRow:
    canvas_id: int
    name: str
    group_name: str
    canvas_url: str
    plans: list[SectionPlan]
    issues: list[Issue]
    course_blocked: bool
    last_sync: LastSync | None
    shown: list[SectionPlan] = field(default_factory=list)

    @cached_property
    def blocking(self) -> list[Issue]:
        return [i for i in self.issues if i.is_blocking]

    @cached_property
    def stored_blocking(self) -> bool:
        """A stored blocking violation names it: it counts against compliance."""
        return any(i.is_blocking and not i.derived for i in self.issues)

    @cached_property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if not i.is_blocking]

    @cached_property
    def blocked(self) -> bool:
        """Nothing of it goes: a course-wide or assignment-wide block, or every shown section's."""
        if self.course_blocked or any(i.section_id is None for i in self.blocking):
            return True
        return bool(self.shown) and all(p.blocked for p in self.shown)

    @cached_property
    def changed(self) -> int:
        """Changed grades a sync sends now (the sections shown, blocked ones left out)."""
        if self.blocked:
            return 0
        return sum(p.changed for p in self.shown if not p.blocked)

    @cached_property
    def waiting(self) -> int:
        """Changed grades that stay behind because of a block."""
        if self.blocked:
            return sum(p.changed for p in self.shown)
        return sum(p.changed for p in self.shown if p.blocked)

    @cached_property
    def visible(self) -> bool:
        """Shown under the section filter: given to a chosen section (or to no section at all,
        which the teacher should still see)."""
        return bool(self.shown) or not self.plans

    @cached_property
    def state(self) -> str:
        """The row's badge over all its sections (the filter leaves it as it is): ``blocked``,
        ``partly`` (some sections blocked), ``warning`` or ``ready``."""
        whole = self.course_blocked or any(i.section_id is None for i in self.blocking)
        if whole or (self.plans and all(p.blocked for p in self.plans)):
            return "blocked"
        if any(p.blocked for p in self.plans):
            return "partly"
        return "warning" if self.warnings else "ready"

    @cached_property
    def send_text(self) -> str:
        """What a sync sends now, in words (the page's script words it the same way)."""
        if self.blocked:
            waiting = f" \u00b7 {_grades(self.waiting)} waiting" if self.waiting else ""
            return f"Blocked{waiting}"
        if not self.plans:
            return "Not given to any section"
        if not self.changed:
            return "Nothing new to send"
        held = f" ({self.waiting} held back)" if self.waiting else ""
        return f"{_grades(self.changed)}{held}"

    @cached_property
    def rename_needed(self) -> bool:
        return any(i.fix == "name" for i in self.issues)

    @cached_property
    def due_lines(self) -> list[tuple[str, str]]:
        """[("", date)] when the shown sections share a due date, else one line per section."""
        dates = {rules.to_minute(p.due_at) if p.due_at else None for p in self.shown}
        if len(dates) <= 1:
            return [("", self.shown[0].due_label if self.shown else "No due date")]
        return [(p.section_name, p.due_label) for p in self.shown]

    @cached_property
    def first_due(self) -> datetime | None:
        dates = [p.due_at for p in self.shown if p.due_at is not None]
        return min(dates, default=None)

    @cached_property
    def client_data(self) -> str:
        """What the page's script needs to re-filter the row without asking the server."""
        return json.dumps(
            {
                "name": self.name,
                "sections": [
                    {
                        "id": p.section_id,
                        "name": p.section_name,
                        "due": p.due_label,
                        "dueAt": p.due_at.isoformat() if p.due_at else None,
                        "changed": p.changed,
                        "blocked": p.blocked,
                    }
                    for p in self.plans
                ],
                "blockedWhole": self.course_blocked
                or any(i.section_id is None for i in self.blocking),
            },
            separators=(",", ":"),
        )


def _grades(n: int) -> str:
    return f"{n} changed grade" if n == 1 else f"{n} changed grades"


@dataclass
class CoursePage:
    course: Course
    sections: list[SectionOption]
    selected_sections: set[int]
    assignments: list[AssignmentRow]
    course_issues: list[Issue]
    synced: int
    compliant: int
    name_max_length: int
    window_days: int
    sort: str
    descending: bool
    active_run: SyncRun | None
    recent_runs: list[SyncRun]
    sis_configured: bool = True

    @property
    def rate(self) -> int | None:
        return round(100 * self.compliant / self.synced) if self.synced else None

    @property
    def shown(self) -> list[AssignmentRow]:
        return [a for a in self.assignments if a.visible]

    @property
    def changed(self) -> int:
        return sum(a.changed for a in self.shown)

    @property
    def all_sections_selected(self) -> bool:
        return self.selected_sections >= {s.canvas_id for s in self.sections}


def course_page(
    course: Course,
    *,
    section_ids: set[int] | None = None,
    sort: str = "date",
    descending: bool = False,
    now: datetime | None = None,
) -> CoursePage:
    """Everything the course's sync page shows, with the section filter and sort applied."""
    now = now or timezone.now()
    policy = policy_get()
    course_in, _meta = next(courses_for_rules([course.canvas_id]))
    active = sorted(
        rules.active_sections(course_in), key=lambda s: (s.name.casefold(), s.canvas_id)
    )
    sections = [
        SectionOption(s.canvas_id, s.name, s.active_students, bool(s.sis_section_id))
        for s in active
    ]
    known = {s.canvas_id for s in sections}
    selected = (set(section_ids) & known) if section_ids else set(known)
    found = _open_issues(course, {s.canvas_id: s.name for s in course_in.sections})
    sis = _sis_side(course, [s.sis_section_id for s in active if s.sis_section_id])
    if not sis.school_in_sis:
        found.course.append(
            Issue(
                "school_not_in_sis",
                rules.BLOCKING,
                "Your school has no SIS id in Canvas, so Infinite Campus cannot take any line "
                "item of this course: ask your district admin to set it.",
                label="School not in SIS",
                derived=True,
            )
        )
    course_blocked = any(i.is_blocking and i.section_id is None for i in found.course)

    window_start = now - timedelta(days=policy.sync_window_days)
    changed = changed_grade_counts(course_id=course.canvas_id, window_start=window_start)
    synced = [a for a in course_in.assignments if rules.is_synced(a, course_in)]
    last = _last_syncs(course.canvas_id, [a.canvas_id for a in synced])
    labels: dict[datetime | None, str] = {}
    rows = []
    for a in synced:
        issues = list(found.by_assignment.get(a.canvas_id, []))
        plans = []
        for s in sorted(
            rules.assigned_sections(a, course_in), key=lambda s: (s.name.casefold(), s.canvas_id)
        ):
            due = rules.effective_due_at(a, s)
            if sis.missing_category(a, s, issues):
                issues.append(_no_category_issue(a, s))
            blocked = (
                not s.sis_section_id
                or s.canvas_id in found.blocked_sections
                or any(i.is_blocking and i.section_id == s.canvas_id for i in issues)
                or (sis.configured and due is None)
            )
            changes = changed.get((a.canvas_id, s.canvas_id), 0)
            if due not in labels:
                labels[due] = when(due) or "No due date"
            plans.append(SectionPlan(s.canvas_id, s.name, due, changes, blocked, labels[due]))
        row = AssignmentRow(
            canvas_id=a.canvas_id,
            name=a.name,
            group_name=a.group_name or "",
            canvas_url=canvas_assignment_url(course.canvas_id, a.canvas_id),
            plans=plans,
            issues=sorted(issues, key=_issue_order),
            course_blocked=course_blocked,
            last_sync=last.get(a.canvas_id),
        )
        row.shown = [p for p in plans if p.section_id in selected]
        rows.append(row)

    sort = sort if sort in SORTS else "date"
    # As in sync/compliance.py (stored violations only): a blocking violation of the course,
    # a section missing from the SIS included, holds back every assignment.
    held_back = any(i.is_blocking and not i.derived for i in found.course)
    compliant = 0 if held_back else sum(1 for r in rows if not r.stored_blocking)
    runs = list(SyncRun.objects.filter(course_id=course.canvas_id)[:RECENT_RUNS])
    return CoursePage(
        course=course,
        sections=sections,
        selected_sections=selected,
        assignments=_sorted(rows, sort, descending),
        course_issues=sorted(found.course, key=_issue_order),
        synced=len(rows),
        compliant=compliant,
        name_max_length=policy.name_max_length,
        window_days=policy.sync_window_days,
        sort=sort,
        descending=descending,
        active_run=next((r for r in runs if r.status in SyncRun.ACTIVE), None),
        recent_runs=runs,
        sis_configured=sis.configured,
    )


def _issue_order(issue: Issue) -> tuple:
    return (not issue.is_blocking, rules.RULE_ORDER.get(issue.rule, 99), issue.section_name)


def _sorted(rows: list[AssignmentRow], sort: str, descending: bool) -> list[AssignmentRow]:
    rows = sorted(rows, key=lambda r: (natural_key(r.name), r.canvas_id), reverse=descending)
    if sort == "name":
        return rows
    # Undated assignments last whichever way the dates go, as in Canvas.
    dated = sorted((r for r in rows if r.first_due), key=lambda r: r.first_due, reverse=descending)
    return dated + [r for r in rows if not r.first_due]


@dataclass
class _OpenIssues:
    course: list[Issue] = field(default_factory=list)
    by_assignment: dict[int, list[Issue]] = field(default_factory=lambda: defaultdict(list))
    blocked_sections: set[int] = field(default_factory=set)


def _open_issues(course: Course, section_names: dict[int, str]) -> _OpenIssues:
    """The course's open blocking violations and warnings, by what they concern (one query)."""
    found = _OpenIssues()
    for rule, severity, message, assignment_id, section_id in (
        Violation.objects.filter(
            course_id=course.canvas_id, resolved_at__isnull=True, severity__in=SHOWN_SEVERITIES
        )
        .order_by()
        .values_list("rule", "severity", "message", "assignment_id", "section_id")
    ):
        issue = Issue(rule, severity, message, section_id, section_names.get(section_id, ""))
        if assignment_id is not None:
            found.by_assignment[assignment_id].append(issue)
            continue
        found.course.append(issue)
        if severity == rules.BLOCKING and section_id is not None:
            found.blocked_sections.add(section_id)  # section_not_in_sis: every assignment
    return found


@dataclass(frozen=True)
class _SisSide:
    """What Infinite Campus needs of a line item beyond the rule book; checked once passback
    is configured (before that, nothing is known about its categories)."""

    configured: bool
    categories: dict[str, set[str]]
    school_in_sis: bool

    def missing_category(
        self, assignment: rules.AssignmentIn, section: rules.SectionIn, issues: list[Issue]
    ) -> bool:
        """The passback sends no line item to a class without the assignment group's category
        (OneRoster 1.2 requires one). The course-wide rule already says so when no class has it."""
        if not self.configured or settings.SIS_ONEROSTER_VERSION == "1.1":
            return False
        if not section.sis_section_id or any(i.rule == "category_not_in_sis" for i in issues):
            return False
        group = (assignment.group_name or "").strip().casefold()
        return group not in self.categories.get(section.sis_section_id, set())


def _sis_side(course: Course, class_ids: list[str]) -> _SisSide:
    if not settings.SIS_BASE_URL:
        return _SisSide(configured=False, categories={}, school_in_sis=True)
    categories: dict[str, set[str]] = defaultdict(set)
    for class_id, title in SisCategory.objects.filter(
        class_sourced_id__in=class_ids, status="active"
    ).values_list("class_sourced_id", "title"):
        categories[class_id].add(title.strip().casefold())
    return _SisSide(True, dict(categories), school_sis_id(course.account) is not None)


def _no_category_issue(assignment: rules.AssignmentIn, section: rules.SectionIn) -> Issue:
    group = (assignment.group_name or "").strip()
    what = f"a category named \u201c{group}\u201d" if group else "a category for it"
    return Issue(
        "category_not_in_sis",
        rules.BLOCKING,
        f"Infinite Campus has no {what} in this class, so this section gets nothing: move the "
        f"assignment to a group named like one of the class's categories, or ask your district "
        f"admin to add the category.",
        section.canvas_id,
        section.name,
        derived=True,
    )


def _last_syncs(course_id: int, assignment_ids: list[int]) -> dict[int, LastSync]:
    """The latest planned run of the course that covered each assignment, and its outcomes
    there: two queries whatever the history. The course's runs, newest first, say what each
    covered (none listed: every synced assignment); the outcomes of those runs for those
    assignments then come through the (run, assignment, section) index."""
    wanted = set(assignment_ids)
    latest: dict[int, int] = {}
    moments: dict[int, datetime | None] = {}
    runs = (
        SyncRun.objects.filter(course_id=course_id, started_at__isnull=False)
        .order_by("-pk")
        .values_list("pk", "assignment_ids", "finished_at", "requested_at")[:RUNS_LOOKED_AT]
    )
    for run_id, covered, finished, requested in runs:
        for assignment_id in (wanted & set(covered)) if covered else wanted:
            latest.setdefault(assignment_id, run_id)
        moments[run_id] = finished or requested
        if len(latest) == len(wanted):
            break
    statuses: dict[int, Counter] = defaultdict(Counter)
    for assignment_id, run_id, status in AssignmentOutcome.objects.filter(
        run_id__in=set(latest.values()), assignment_id__in=list(latest)
    ).values_list("assignment_id", "run_id", "status"):
        if latest[assignment_id] == run_id:
            statuses[assignment_id][status] += 1
    return {
        aid: LastSync(latest[aid], moments[latest[aid]], tuple(counts.most_common()))
        for aid, counts in statuses.items()
    }
