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
