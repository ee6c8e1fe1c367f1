"""`manage.py passback`: request a grade passback run for a course (and wait for it)."""

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from courses.models import Course
from sync.models import SyncRun
from sync.passback import QueueUnavailable, passback_counts, passback_execute, passback_request


class Command(BaseCommand):
    help = "Pass a course's grades back to Infinite Campus (OneRoster); --wait runs it to the end."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--course", type=int, required=True, metavar="CANVAS_ID")
        parser.add_argument("--section", type=int, nargs="+", default=[], metavar="CANVAS_ID")
        parser.add_argument("--assignment", type=int, nargs="+", default=[], metavar="CANVAS_ID")
        parser.add_argument("--wait", action="store_true", help="Run to the end before returning.")
        parser.add_argument("--json", action="store_true", help="Print the outcome as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        course_id = options["course"]
        if not Course.objects.filter(canvas_id=course_id).exists():
            raise CommandError(
                f"Course {course_id} has not been imported; run import_canvas or check the id."
            )
        try:
            run, created = passback_request(
                course_id=course_id,
                section_ids=options["section"],
                assignment_ids=options["assignment"],
                requested_by="passback command",
                enqueue=not options["wait"],
            )
        except QueueUnavailable as exc:
            raise CommandError(f"{exc} (Or run it here with --wait.)") from exc
        if options["wait"]:
            if created:
                run = passback_execute(run.pk)
            else:  # another process is running it: follow it to the end
                while not run.finished_at:
                    time.sleep(1)
                    run.refresh_from_db()
        summary = {"run": run.pk, "status": run.status, **passback_counts(run)}
        if options["json"]:
            self.stdout.write(json.dumps(summary))
        else:
            joined = "" if created else " (joined the run already in progress)"
            self.stdout.write(f"Passback #{run.pk} of course {course_id}: {run.status}{joined}")
            for kind in ("assignments", "grades"):
                counts = ", ".join(f"{k} {v}" for k, v in sorted(summary[kind].items()))
                self.stdout.write(f"  {kind}: {counts or 'none'}")
        if run.status == SyncRun.Status.FAILED:
            raise CommandError(f"Passback #{run.pk} failed: {run.message}")
