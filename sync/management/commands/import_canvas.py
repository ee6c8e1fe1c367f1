"""`manage.py import_canvas`: import the district from Canvas now, with live progress."""

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sync.importer import Progress, district_import
from sync.models import ImportRun


class Command(BaseCommand):
    help = (
        "Import schools, terms, courses, sections, people, assignments and grades from Canvas "
        "now. Incremental by default (only grades graded since the last import); --full "
        "re-reads every grade."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="Re-read every grade.")
        parser.add_argument(
            "--course",
            type=int,
            nargs="+",
            default=[],
            metavar="CANVAS_ID",
            help="Import only these courses (Canvas ids).",
        )
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")
        parser.add_argument("--concurrency", type=int, default=None, help="Courses at once.")

    def handle(self, *args: Any, **options: Any) -> None:
        live = not options["json"] and sys.stderr.isatty()
        run = district_import(
            full=options["full"],
            course_ids=options["course"],
            concurrency=options["concurrency"],
            requested_by="import_canvas command",
            on_progress=self._show_progress if live else None,
        )
        if live:
            sys.stderr.write("\n")
        if options["json"]:
            self.stdout.write(json.dumps(run_summary(run)))
        else:
            self._print_summary(run)
        if run.status == ImportRun.Status.FAILED:
            raise CommandError(f"Import #{run.pk} failed: {run.message}")
        if run.status == ImportRun.Status.PARTIAL:
            raise CommandError(
                f"Import #{run.pk}: {run.message} Each course's reason is listed above and on "
                f"the import run in the admin; their previously imported data is unchanged."
            )

    def _show_progress(self, progress: Progress) -> None:
        sys.stderr.write(
            f"\r{progress.courses_done + progress.courses_failed} of {progress.courses_total} "
            f"courses · {progress.rows_per_second:,.0f} rows/s · "
            f"{progress.http_requests:,} requests · {progress.courses_failed} errors   "
        )
        sys.stderr.flush()

    def _print_summary(self, run: ImportRun) -> None:
        duration = run.duration_seconds or 0.0
        status = run.get_status_display().lower()
        self.stdout.write(
            f"Import #{run.pk} ({run.kind}) {status} in {duration:.1f} s: "
            f"{run.courses_done} of {run.courses_total} courses imported, "
            f"{run.courses_failed} failed, {run.http_requests:,} Canvas requests."
        )
        if run.counts:
            self.stdout.write(
                "  " + ", ".join(f"{kind} {count:,}" for kind, count in run.counts.items())
            )
        for error in run.errors.all():
            self.stdout.write(f"  course {error.course_canvas_id}: {error.message}")


def run_summary(run: ImportRun) -> dict[str, Any]:
    """The one-object JSON summary of an import run."""
    return {
        "run": run.pk,
        "kind": run.kind,
        "status": run.status,
        "message": run.message,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_seconds": run.duration_seconds,
        "courses": {
            "total": run.courses_total,
            "imported": run.courses_done,
            "failed": run.courses_failed,
        },
        "counts": run.counts,
        "http_requests": run.http_requests,
        "errors": [
            {
                "course_canvas_id": e.course_canvas_id,
                "course_name": e.course_name,
                "message": e.message,
            }
            for e in run.errors.all()
        ],
    }
