"""State of the moving parts: import runs and their per-course errors."""

from django.db import models


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
    message = models.TextField(blank=True, default="", help_text="Why the run failed, if it did.")

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
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True, default="", help_text="Why the run failed, if it did.")

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


class AssignmentOutcome(models.Model):
    """What a run did with one (assignment, section) pair: its Infinite Campus line item."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SYNCED = "synced"
        NO_CHANGES = "no_changes", "no changes"
        BLOCKED = "blocked"
        FAILED = "failed"

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="assignments")
    assignment = models.ForeignKey(
        "courses.Assignment", to_field="canvas_id", on_delete=models.CASCADE, related_name="+"
    )
    section = models.ForeignKey(
        "courses.Section", to_field="canvas_id", on_delete=models.CASCADE, related_name="+"
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

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="grades")
    assignment_outcome = models.ForeignKey(
        AssignmentOutcome, on_delete=models.CASCADE, related_name="grades"
    )
    student = models.ForeignKey(
        "courses.Person", to_field="canvas_id", on_delete=models.CASCADE, related_name="+"
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

    sourced_id = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=10)  # "lineItem" or "result"
    course_canvas_id = models.BigIntegerField(db_index=True)
    value_hash = models.CharField(max_length=64)
    value = models.JSONField()
    confirmed_at = models.DateTimeField()
    run = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return self.sourced_id
