"""`manage.py compliance_report [--send] [--output DIR]`: take, keep, send and write a report."""

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from sync.models import ComplianceReport, ReportDelivery
from sync.violation_rows import COLUMNS
from tests.sync.report_district import build_district
from tests.sync.smtp_server import SmtpServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def district():
    return build_district()


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("compliance_report", *args, stdout=out)
    return out.getvalue()


def test_it_takes_and_keeps_a_district_report_and_says_so_in_one_line(district, mailoutbox):
    out = run()

    report = ComplianceReport.objects.get()
    assert report.kind == "district" and report.requested_by == "compliance_report command"
    assert out.startswith(f"Report #{report.pk}: District grade passback compliance, ")
    assert "54.5% compliant; 11 synced assignments, 5 blocked, 4 open blocking" in out
    assert mailoutbox == []


def test_a_second_run_says_how_compliance_changed(district):
    run()
    district.violations["differentiated"].delete()

    out = run()

    assert "63.6% compliant (+9.1 points since report #" in out


def test_output_writes_the_html_and_the_gpb_report_csv(district, tmp_path: Path):
    target = tmp_path / "reports" / "week-10"

    out = run("--output", str(target))

    html = (target / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "North High" in html
    written = (target / "violations.csv").read_text()
    assert next(csv.reader(io.StringIO(written))) == COLUMNS
    gpb_report = io.StringIO()
    call_command("gpb_report", "--format", "csv", stdout=gpb_report)
    assert written.replace("\r\n", "\n") == gpb_report.getvalue().replace("\r\n", "\n")
    assert f"Wrote {target / 'report.html'} and {target / 'violations.csv'}." in out


def test_send_mails_every_report_recipient(district, mailoutbox, settings):
    settings.REPORT_RECIPIENTS = ["a@district.example.org", "b@district.example.org"]

    out = run("--send")

    assert sorted(m.to[0] for m in mailoutbox) == settings.REPORT_RECIPIENTS
    assert "E-mailed to 2 recipient(s): 2 sent." in out


def test_send_without_recipients_fails_before_taking_a_report(district, settings):
    settings.REPORT_RECIPIENTS = []

    with pytest.raises(CommandError, match="set REPORT_RECIPIENTS"):
        run("--send")
    assert not ComplianceReport.objects.exists()


def test_a_failed_delivery_fails_the_command_with_one_line_and_is_retried(district, settings):
    settings.REPORT_RECIPIENTS = ["a@district.example.org", "bounce@district.example.org"]
    with SmtpServer() as smtp:
        smtp.state.refused["bounce@district.example.org"] = "550 No such user"
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False

        with pytest.raises(CommandError) as raised:
            run("--send")

    message = str(raised.value)
    assert "\n" not in message
    assert "delivery failed for 1 of 2 recipients" in message and "retried automatically" in message
    assert ReportDelivery.objects.get(recipient="a@district.example.org").status == "sent"
    assert ReportDelivery.objects.get(recipient="bounce@district.example.org").status == "retrying"


def test_an_output_that_cannot_be_a_directory_fails_with_one_line(district, tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("")

    with pytest.raises(CommandError, match=r"^Cannot create .*file/out: Not a directory\.$"):
        run("--output", str(blocker / "out"))


def test_send_refuses_recipients_that_are_not_addresses(district, settings):
    settings.REPORT_RECIPIENTS = ["a@district.example.org", "board"]

    with pytest.raises(CommandError, match="not an e-mail address: 'board'"):
        run("--send")
