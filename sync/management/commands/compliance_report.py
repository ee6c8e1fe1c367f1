"""`manage.py compliance_report`: take a district compliance report now; send it, write it out."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from sync.models import ComplianceReport
from sync.reports import report_build, report_csv_chunks, report_html, report_send
from sync.reports.delivery import deliveries_queue, is_email

HTML_NAME = "report.html"
CSV_NAME = "violations.csv"


class Command(BaseCommand):
    help = (
        "Take a district compliance report now and keep it (admin: Compliance reports). "
        "--send e-mails it to REPORT_RECIPIENTS; --output DIR also writes report.html and "
        "violations.csv (open blocking and warning violations, gpb_report columns) into DIR."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--send", action="store_true", help="E-mail it to every address of REPORT_RECIPIENTS."
        )
        parser.add_argument("--output", metavar="DIR", help="Write its HTML and CSV here.")

    def handle(self, *args: Any, **options: Any) -> None:
        recipients = list(settings.REPORT_RECIPIENTS)
        if options["send"] and not recipients:
            raise CommandError(
                "--send has nobody to send to: set REPORT_RECIPIENTS (comma-separated addresses)."
            )
        unusable = [address for address in recipients if not is_email(address)]
        if options["send"] and unusable:
            raise CommandError(
                f"REPORT_RECIPIENTS has what is not an e-mail address: {unusable[0]!r}."
            )
        output = Path(options["output"]) if options["output"] else None
        if output is not None:
            try:
                output.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CommandError(f"Cannot create {output}: {exc.strerror}.") from exc
        try:
            report = report_build(requested_by="compliance_report command")
        except DatabaseError as exc:
            first_line = (
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            )
            raise CommandError(f"Cannot read the district: {first_line}") from exc
        self.stdout.write(self._describe(report))
        if output is not None:
            self._write(report, output)
        if options["send"]:
            deliveries_queue(report=report, recipients=recipients)
            summary = report_send(report=report)
            self.stdout.write(f"E-mailed to {len(recipients)} recipient(s): {summary.line()}.")
            if summary.retrying or summary.failed:
                raise CommandError(
                    f"Report #{report.pk} kept, but delivery failed for "
                    f"{summary.retrying + summary.failed} of {summary.attempted} recipients "
                    f"({summary.errors[0]}); failed deliveries are retried automatically."
                )

    def _describe(self, report: ComplianceReport) -> str:
        rate = "-" if report.compliance_rate is None else f"{100 * report.compliance_rate:.1f}%"
        change = ""
        if report.rate_change is not None:
            change = f" ({report.rate_change:+.1f} points since report #{report.previous_id})"
        return (
            f"Report #{report.pk}: {report.title}: {rate} compliant{change}; "
            f"{report.synced:,} synced assignments, {report.blocked:,} blocked, "
            f"{report.open_blocking:,} open blocking violations, {report.open_warning:,} warnings."
        )

    def _write(self, report: ComplianceReport, output: Path) -> None:
        try:
            (output / HTML_NAME).write_text(report_html(report), encoding="utf-8")
            with (output / CSV_NAME).open("w", encoding="utf-8", newline="") as fh:
                for chunk in report_csv_chunks(report):
                    fh.write(chunk)
        except OSError as exc:
            raise CommandError(f"Cannot write into {output}: {exc.strerror}.") from exc
        self.stdout.write(f"Wrote {output / HTML_NAME} and {output / CSV_NAME}.")
