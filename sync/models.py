"""State of the moving parts: import runs and their per-course errors."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models

from sync.cron import validate_cron


class ImportRun(models.Model):
    """One import of the district from Canvas, updated while it runs."""

    class Kind(models.TextChoices):
        FULL = "full"
        INCREMENTAL = "incremental"

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        PARTIAL = "partial", "succeeded with course errors"
        FAILED = "failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    requested_by = models.CharField(max_length=100, blank=True, default="")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    graded_since = models.DateTimeField(
        null=True, blank=True, help_text="Incremental runs fetch grades graded since this moment."
    )
    course_filter = models.JSONField(
        default=list, blank=True, help_text="Canvas ids of the courses asked for; empty = all."
    )
    courses_total = models.IntegerField(default=0)
    courses_done = models.IntegerField(default=0)
    courses_failed = models.IntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True, help_text="Rows written, per kind.")
    http_requests = models.IntegerField(default=0)
    progress_at = models.DateTimeField(
        "last course finished at",
        null=True,
        blank=True,
        help_text="A scheduled import closes a run with no course finished for an hour.",
    )
    message = models.TextField(blank=True, default="", help_text="Why the run failed, if it did.")
    rules_pending = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="Canvas ids of the courses imported whose rules are not checked yet.",
    )

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["status", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if not self.finished_at:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class ImportRunError(models.Model):
    """A course that failed to import in a run; its previously imported data is untouched."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="errors")
    course_canvas_id = models.BigIntegerField(null=True, blank=True)
    course_name = models.TextField(blank=True, default="")
    message = models.TextField()
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at"]

    def __str__(self) -> str:
        return f"course {self.course_canvas_id}: {self.message[:80]}"


class DistrictPolicy(models.Model):
    """The district's GPB policy: one row, edited in the admin; changing it re-evaluates."""

    name_max_length = models.PositiveIntegerField(
        help_text="Longest assignment name Infinite Campus accepts (30 in most districts)."
    )
    sync_window_days = models.PositiveIntegerField(
        help_text="Only grades graded within this many days are passed back."
    )
    allow_section_due_dates = models.BooleanField(
        default=True,
        help_text="Sections of one assignment may have different due dates (each section its "
        "own line item). Off: every assigned section must share one due date.",
    )
    remove_unsynced_line_items = models.BooleanField(
        default=True,
        help_text="When an assignment stops syncing after it was sent, mark its Infinite Campus "
        "line item 'tobedeleted' on the next passback.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "district policy"
        verbose_name_plural = "district policy"

    def __str__(self) -> str:
        return "District GPB policy"


class RuleSetting(models.Model):
    """Per-rule switch and severity override of the district policy."""

    class Severity(models.TextChoices):
        BLOCKING = "blocking"
        WARNING = "warning"
        INFO = "info"

    policy = models.ForeignKey(DistrictPolicy, on_delete=models.CASCADE, related_name="rules")
    rule = models.CharField(max_length=40)
    enabled = models.BooleanField(default=True)
    severity = models.CharField(
        max_length=10,
        choices=Severity.choices,
        blank=True,
        default="",
        help_text="Leave blank for the rule book's default severity.",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "rule"], name="one_setting_per_rule")
        ]

    def __str__(self) -> str:
        return self.rule


class Violation(models.Model):
    """One GPB rule firing on a course, an assignment or one section of an assignment.

    A row is open while the rule keeps firing (``last_seen`` bumps on every refresh) and gets
    ``resolved_at`` when it stops; if it fires again later, a new row opens. ``key`` identifies
    the finding across refreshes; at most one open row per key.
    """

    key = models.CharField(max_length=120)
    rule = models.CharField(max_length=40)
    severity = models.CharField(max_length=10, choices=RuleSetting.Severity.choices)
    course = models.ForeignKey(
        "courses.Course", to_field="canvas_id", on_delete=models.CASCADE, related_name="violations"
    )
    assignment = models.ForeignKey(
        "courses.Assignment",
        to_field="canvas_id",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="violations",
    )
    section = models.ForeignKey(
        "courses.Section",
        to_field="canvas_id",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="violations",
    )
    # Copied from the course so the admin filters on one table, without joins, at a million rows.
    school = models.ForeignKey(
        "courses.Account", to_field="canvas_id", on_delete=models.CASCADE, related_name="+"
    )
    term = models.ForeignKey(
        "courses.Term",
        to_field="canvas_id",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    message = models.TextField()
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-first_seen"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_violation_per_key",
            )
        ]
        indexes = [
            models.Index(fields=["resolved_at", "rule"]),
            models.Index(fields=["resolved_at", "severity"]),
            models.Index(fields=["school", "resolved_at"]),
            models.Index(fields=["term", "resolved_at"]),
            models.Index(fields=["course", "resolved_at"]),
            # The changelist's order (newest first, id breaking ties) over the whole history.
            models.Index(fields=["-first_seen", "-id"], name="violation_newest_first"),
            # Compliance asks "has this assignment (or its course) an open blocking violation?"
            # for every synced assignment; these partial indexes answer it without the history.
            models.Index(
                fields=["assignment"],
                condition=models.Q(resolved_at__isnull=True, severity="blocking"),
                name="open_blocking_by_assignment",
            ),
            # Searching the changelist by assignment name looks up thousands of assignments.
            models.Index(
                fields=["assignment"],
                condition=models.Q(resolved_at__isnull=True),
                name="open_by_assignment",
            ),
            models.Index(
                fields=["course"],
                condition=models.Q(
                    resolved_at__isnull=True, severity="blocking", assignment__isnull=True
                ),
                name="open_blocking_course_wide",
            ),
            # The admin lists open violations newest first (and the dashboard the oldest too):
            # read in index order, no sort. A (resolved_at, first_seen) index cannot do that, as
            # PostgreSQL does not order by a column that follows an IS NULL test.
            models.Index(
                fields=["first_seen", "id"],
                condition=models.Q(resolved_at__isnull=True),
                name="open_by_first_seen",
            ),
            # Open violations per rule and the assignments they affect, from the index alone.
            models.Index(
                fields=["rule", "assignment"],
                condition=models.Q(resolved_at__isnull=True),
                name="open_by_rule",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} on course {self.course_id}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class ComplianceSample(models.Model):
    """Compliance at one refresh, for the district (school empty) or one school: the trend."""

    taken_at = models.DateTimeField(db_index=True)
    school = models.ForeignKey(
        "courses.Account",
        to_field="canvas_id",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    synced = models.IntegerField(help_text="Synced assignments.")
    compliant = models.IntegerField(help_text="Synced assignments with no blocking violation.")

    class Meta:
        ordering = ["taken_at"]
        indexes = [models.Index(fields=["school", "taken_at"])]

    def __str__(self) -> str:
        return f"{self.compliant}/{self.synced} at {self.taken_at:%Y-%m-%d %H:%M}"

    @property
    def rate(self) -> float | None:
        return self.compliant / self.synced if self.synced else None


class SisCategory(models.Model):
    """An Infinite Campus gradebook category of one class (section), as IC last reported it."""

    class_sourced_id = models.CharField(max_length=255, db_index=True)
    sourced_id = models.CharField(max_length=255)
    title = models.CharField(max_length=255)
    status = models.CharField(max_length=20, default="active")
    fetched_at = models.DateTimeField()

    class Meta:
        verbose_name = "IC category"
        verbose_name_plural = "IC categories"
        ordering = ["class_sourced_id", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["class_sourced_id", "sourced_id"], name="one_category_per_class_and_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.class_sourced_id})"


class SyncRun(models.Model):
    """One passback of a course's grades to Infinite Campus, and its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    course = models.ForeignKey(
        "courses.Course", to_field="canvas_id", on_delete=models.CASCADE, related_name="sync_runs"
    )
    section_ids = models.JSONField(default=list, blank=True, help_text="Empty = all sections.")
    assignment_ids = models.JSONField(
        default=list, blank=True, help_text="Empty = every synced assignment."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.CharField(max_length=150, blank=True, default="")
    requested_at = models.DateTimeField()
    scheduled = models.BooleanField(
        default=False,
        help_text="Queued by the nightly schedule: its tasks wait while runs a person asked for "
        "go first.",
    )
    dispatch = models.PositiveIntegerField(
        default=1,
        help_text="Raised each time the run is queued again (a person asking for a queued run, "
        "a retry, the nightly resuming a stalled run): tasks queued before find nothing to do.",
    )
    dispatched_at = models.DateTimeField(
        "queued again at",
        null=True,
        blank=True,
        help_text="When the run was last queued again, if it was.",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True, default="", help_text="Why the run failed, if it did.")
    inputs_as_of = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when the run planned the whole course and IC confirmed all of it: the "
        "nightly district run skips the course until something it reads changes after this.",
    )

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            # Two runs of one course would race on the same line items and results.
            models.UniqueConstraint(
                fields=["course"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_active_sync_run_per_course",
            )
        ]
        indexes = [models.Index(fields=["status", "-requested_at"])]

    def __str__(self) -> str:
        return f"Passback #{self.pk} of course {self.course_id} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if not (self.started_at and self.finished_at):
            return None
        return (self.finished_at - self.started_at).total_seconds()


class SisSlot(models.Model):
    """One of the ``SIS_MAX_CONCURRENCY`` permits to have requests in flight to Infinite Campus.

    Workers on any host lease permits here (sync/sis_slots.py) before sending, so the bound holds
    district-wide; a lease that is not renewed expires, so a killed worker frees its permits.
    """

    number = models.PositiveSmallIntegerField(unique=True)
    holder = models.CharField(max_length=100, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "IC request permit"
        ordering = ["number"]

    def __str__(self) -> str:
        return f"permit {self.number}"


class AssignmentOutcome(models.Model):
    """What a run did with one (assignment, section) pair: its Infinite Campus line item."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SYNCED = "synced"
        NO_CHANGES = "no_changes", "no changes"
        BLOCKED = "blocked"
        FAILED = "failed"

    # (run, assignment, section) is unique: that index serves lookups by run. A district run
    # plans a hundred thousand pairs, for a run, assignments and sections the plan has just
    # read in its own transaction: the database does not check their keys again (three
    # lookups per pair at commit). Deletes still cascade: Django does that.
    run = models.ForeignKey(
        SyncRun,
        on_delete=models.CASCADE,
        related_name="assignments",
        db_index=False,
        db_constraint=False,
    )
    assignment = models.ForeignKey(
        "courses.Assignment",
        to_field="canvas_id",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    section = models.ForeignKey(
        "courses.Section",
        to_field="canvas_id",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    rule_codes = models.JSONField(default=list, blank=True, help_text="Blocking rules, if any.")
    line_item_sourced_id = models.CharField(max_length=100)
    line_item = models.JSONField(null=True, blank=True, help_text="The lineItem to send.")
    line_item_sent = models.BooleanField(default=False)
    send_started_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when sending began; set already = a resumed send."
    )
    http_status = models.IntegerField(null=True, blank=True)
    message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["run", "assignment", "section"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "assignment", "section"], name="one_outcome_per_pair_and_run"
            )
        ]
        indexes = [models.Index(fields=["run", "section", "status"])]

    def __str__(self) -> str:
        return f"{self.line_item_sourced_id}: {self.status}"


class GradeOutcome(models.Model):
    """What a run did with one student's grade on one line item."""

    class Status(models.TextChoices):
        PENDING = "pending"
        POSTED = "posted"
        UNCHANGED = "unchanged"
        SKIPPED = "skipped"
        FAILED = "failed"

    # A district run writes half a million of these. Their keys carry no database constraint:
    # the plan writes the rows in the transaction that creates their run and pair, for students
    # it has just read, and PostgreSQL checking each key of each row at commit cost twice the
    # insert (deletes still cascade: Django does that). Run and pair need no index of their own:
    # the (run, status) and (assignment_outcome, status) indexes below serve those lookups.
    run = models.ForeignKey(
        SyncRun,
        on_delete=models.CASCADE,
        related_name="grades",
        db_index=False,
        db_constraint=False,
    )
    assignment_outcome = models.ForeignKey(
        AssignmentOutcome,
        on_delete=models.CASCADE,
        related_name="grades",
        db_index=False,
        db_constraint=False,
    )
    student = models.ForeignKey(
        "courses.Person",
        to_field="canvas_id",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    submission_canvas_id = models.BigIntegerField(null=True, blank=True)
    result_sourced_id = models.CharField(max_length=120)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=60, blank=True, default="")
    detail = models.TextField(blank=True, default="", help_text="The SIS's own words, if any.")
    payload = models.JSONField(null=True, blank=True, help_text="The value to send.")
    http_status = models.IntegerField(null=True, blank=True)
    attempts = models.IntegerField(default=0)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "id"]
        indexes = [
            models.Index(fields=["run", "status"]),
            models.Index(fields=["assignment_outcome", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.result_sourced_id}: {self.status}"


class PassbackState(models.Model):
    """The last value Infinite Campus confirmed for one line item or result (by sourcedId)."""

    sourced_id = models.CharField(max_length=120)
    kind = models.CharField(max_length=10)  # "lineItem" or "result"
    course_canvas_id = models.BigIntegerField(db_index=True)
    value_hash = models.CharField(max_length=64)
    value = models.JSONField()
    confirmed_at = models.DateTimeField()
    # Informative (the run that last confirmed it); Django sets it to null when that run is
    # deleted. Not checked by the database, which did so for every confirmed send.
    run = models.ForeignKey(
        SyncRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )

    class Meta:
        # A constraint rather than unique=True: on PostgreSQL, unique=True also builds a
        # pattern-matching (LIKE) index, which nothing queries and every confirmed send wrote.
        constraints = [
            models.UniqueConstraint(fields=["sourced_id"], name="passbackstate_sourced_id_unique")
        ]

    def __str__(self) -> str:
        return self.sourced_id


# --- compliance reports (issue 6) ----------------------------------------------------------------


class ReportKind(models.TextChoices):
    DISTRICT = "district", "district summary"
    SCHOOL = "school", "school summary"
    TEACHER = "teacher", "teacher digest"


class ReportSchedule(models.Model):
    """A recurring compliance report: what to build, for which schools, when, and for whom.

    Saving or deleting one keeps its django-q2 schedule in step (sync/reports/schedules.py).
    """

    name = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=10, choices=ReportKind.choices, default=ReportKind.DISTRICT)
    cron = models.CharField(
        max_length=100,
        validators=[validate_cron],
        help_text="When to send, as a cron expression (minute hour day-of-month month "
        "day-of-week) in the district's time zone, e.g. “0 6 * * 1” = Mondays at 06:00.",
    )
    schools = models.ManyToManyField(
        "courses.Account",
        blank=True,
        related_name="+",
        help_text="District summary: leave empty (the whole district). School summary: the "
        "schools it covers (and their sub-accounts). Teacher digest: only the teachers of "
        "these schools' courses; empty = every teacher.",
    )
    recipients = models.TextField(
        blank=True,
        default="",
        help_text="E-mail addresses, one per line or separated by commas. Empty: the "
        "REPORT_RECIPIENTS setting. Teacher digests ignore it: each teacher gets their own "
        "digest at their Canvas e-mail address.",
    )
    active = models.BooleanField(
        default=True,
        help_text="Off: the schedule is kept but does not run (“send now” still works).",
    )
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_result = models.CharField(max_length=255, blank=True, default="")
    q_schedule = models.ForeignKey(
        "django_q.Schedule",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The django-q2 schedule that runs it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def recipient_list(self) -> list[str]:
        """The recipients as typed, split on commas, semicolons and white space."""
        return [address for address in re.split(r"[\s,;]+", self.recipients) if address]

    def clean(self) -> None:
        bad = [address for address in self.recipient_list() if not _is_email(address)]
        if bad:
            raise ValidationError({"recipients": f"Not an e-mail address: {', '.join(bad)}."})
        if self.kind == ReportKind.TEACHER and self.recipient_list():
            raise ValidationError(
                {
                    "recipients": "Teacher digests go to each teacher's own Canvas e-mail "
                    "address; leave recipients empty."
                }
            )


class ComplianceReport(models.Model):
    """Grade passback compliance at one moment, kept as it was sent.

    ``snapshot`` holds every figure of the report (section by section, as JSON) and
    ``violations`` the open blocking and warning violations of its scope (the ``gpb_report``
    columns plus when each was first seen and where to fix it in Canvas); the columns beside them
    repeat the headline figures so that lists, filters and the trend query them directly.
    """

    Kind = ReportKind

    kind = models.CharField(max_length=10, choices=ReportKind.choices)
    title = models.CharField(max_length=255)
    taken_at = models.DateTimeField()
    scope_label = models.CharField(max_length=255, default="District")
    scope_key = models.CharField(
        max_length=255, default="district", help_text="“district”, or the school ids covered."
    )
    school_ids = models.JSONField(
        default=list, blank=True, help_text="Canvas ids of the schools covered; empty = district."
    )
    teacher = models.ForeignKey(
        "courses.Person",
        to_field="canvas_id",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The teacher of a teacher digest.",
    )
    schedule = models.ForeignKey(
        ReportSchedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    previous = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The report of the same kind, scope (and teacher) before this one.",
    )
    requested_by = models.CharField(max_length=150, blank=True, default="")
    synced = models.IntegerField(default=0, help_text="Synced assignments.")
    compliant = models.IntegerField(
        default=0, help_text="Synced assignments with no blocking violation."
    )
    compliance_rate = models.FloatField(null=True, blank=True, help_text="compliant / synced.")
    rate_change = models.FloatField(
        null=True,
        blank=True,
        help_text="Change of compliance since the previous report, in points.",
    )
    open_blocking = models.IntegerField(default=0)
    open_warning = models.IntegerField(default=0)
    snapshot = models.JSONField(default=dict)
    violations = models.JSONField(default=dict)

    class Meta:
        ordering = ["-taken_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "-taken_at"]),
            # "The previous report": the latest of a kind, scope and teacher.
            models.Index(fields=["kind", "scope_key", "teacher", "-taken_at"]),
        ]

    def __str__(self) -> str:
        return f"Report #{self.pk}: {self.title}"

    @property
    def blocked(self) -> int:
        return self.synced - self.compliant


class ReportDelivery(models.Model):
    """One report e-mailed to one recipient: each is sent, failed and retried on its own."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        SENT = "sent"
        RETRYING = "retrying", "failed, will retry"
        FAILED = "failed", "failed for good"
        SKIPPED = "skipped", "skipped (no usable address)"

    report = models.ForeignKey(
        ComplianceReport, on_delete=models.CASCADE, related_name="deliveries"
    )
    recipient = models.CharField(max_length=254, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.IntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "report deliveries"
        ordering = ["report", "id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"Report #{self.report_id} to {self.recipient or '(nobody)'}: {self.status}"


def _is_email(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True
