"""`manage.py gpb_report`: the district's open GPB violations as JSON or CSV."""

import contextlib
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from courses.models import Account
from sync import rules
from sync.violation_rows import (
    COLUMNS,
    DEFAULT_SEVERITIES,
    open_violations,
    rows_to_csv,
    violation_rows,
)


class Command(BaseCommand):
    help = (
        "List the current (unresolved) GPB violations, blocking and warning by default, as JSON "
        f"or CSV with the columns: {', '.join(COLUMNS)}."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("--output", metavar="PATH", help="Write to this file, not stdout.")
        parser.add_argument("--school", type=int, metavar="CANVAS_ID", help="Only this school.")
        parser.add_argument("--rule", metavar="CODE", help="Only this rule.")
        parser.add_argument(
            "--all-severities", action="store_true", help="Include info-level findings too."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rule"] and options["rule"] not in rules.RULES:
            raise CommandError(
                f"Unknown rule {options['rule']!r}; use one of: {', '.join(rules.RULES)}."
            )
        school = options["school"]
        if school is not None and not Account.objects.filter(canvas_id=school).exists():
            raise CommandError(
                f"No school with Canvas id {school} has been imported; run import_canvas first "
                f"or check the id."
            )
        violations = open_violations(
            school_id=school,
            rule=options["rule"],
            severities=None if options["all_severities"] else DEFAULT_SEVERITIES,
        )
        rows = violation_rows(violations)
        with contextlib.ExitStack() as stack:
            if options["output"]:
                try:
                    stream = stack.enter_context(open(options["output"], "w", newline=""))
                except OSError as exc:
                    raise CommandError(
                        f"Cannot write {options['output']}: {exc.strerror}."
                    ) from exc
            else:
                self.stdout.ending = ""  # the writers below end their own lines
                stream = self.stdout
            if options["format"] == "csv":
                count = rows_to_csv(rows, stream)
            else:
                items = list(rows)
                stream.write(json.dumps(items, ensure_ascii=False, indent=2) + "\n")
                count = len(items)
        if options["output"]:
            self.stderr.write(f"{count} violations written to {Path(options['output']).resolve()}")
