"""Admin for Canvas import runs (with their progress) and their course errors."""

import json

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from courses.admin import INLINE_LIMIT, ReadOnlyInline
from sync.models import ImportRun, ImportRunError


def run_progress(run: ImportRun) -> str:
    """Courses done out of the total, e.g. ``312 / 1000 (31%)``; never rounds up to 100%."""
    if not run.courses_total:
        return f"{run.courses_done} / {run.courses_total}"
    percent = run.courses_done * 100 // run.courses_total
    return f"{run.courses_done} / {run.courses_total} ({percent}%)"


def rows_written(counts: dict) -> int:
    """Rows the run wrote: every count except the ``*_skipped`` ones."""
    return sum(
        value
        for key, value in (counts or {}).items()
        if isinstance(value, int) and not isinstance(value, bool) and not key.endswith("_skipped")
    )


def format_duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


class ImportRunErrorInline(ReadOnlyInline):
    model = ImportRunError
    fields = ("course_canvas_id", "course_name", "message", "occurred_at")
    show_change_link = False
    verbose_name_plural = f"course errors (first {INLINE_LIMIT})"


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "kind",
        "status",
        "started_at",
        "duration",
        "progress",
        "courses_failed",
        "requests",
        "rows",
        "requested_by",
    )
    list_filter = ("kind", "status")
    search_fields = ("requested_by", "message")
    fieldsets = (
        (None, {"fields": ("kind", "status", "requested_by", "message")}),
        (
            "Progress",
            {
                "fields": (
                    "started_at",
                    "progress_at",
                    "finished_at",
                    "duration",
                    "progress",
                    "courses_failed",
                )
            },
        ),
        ("Scope", {"fields": ("graded_since", "course_filter")}),
        ("Work done", {"fields": ("requests", "rows", "counts_table")}),
    )
    readonly_fields = ("duration", "progress", "requests", "rows", "counts_table")
    inlines = (ImportRunErrorInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs are created by the importer

    def has_change_permission(self, request: HttpRequest, obj: ImportRun | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ImportRun | None = None) -> bool:
        # Superusers may prune old history; the runs cascade to their errors.
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    @admin.display(description="run", ordering="pk")
    def number(self, run: ImportRun) -> str:
        return f"#{run.pk}"

    @admin.display(description="duration")
    def duration(self, run: ImportRun) -> str:
        if run.finished_at:
            return format_duration(run.duration_seconds)
        if run.status == ImportRun.Status.RUNNING:
            return f"{format_duration((timezone.now() - run.started_at).total_seconds())} so far"
        return "-"

    @admin.display(description="courses done")
    def progress(self, run: ImportRun) -> str:
        return run_progress(run)

    @admin.display(description="HTTP requests", ordering="http_requests")
    def requests(self, run: ImportRun) -> str:
        return f"{run.http_requests:,}"

    @admin.display(description="rows written")
    def rows(self, run: ImportRun) -> str:
        return f"{rows_written(run.counts):,}"

    @admin.display(description="counts")
    def counts_table(self, run: ImportRun) -> str:
        return format_html("<pre>{}</pre>", json.dumps(run.counts, indent=2, sort_keys=True))
