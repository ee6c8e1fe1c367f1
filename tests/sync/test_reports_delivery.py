"""E-mailing reports: one message per recipient with HTML, text and CSV; failures retried alone."""

import csv
import io
from datetime import timedelta
from email import message_from_bytes

import pytest
from django.core import mail
from django_q.models import Schedule

from sync.models import ReportDelivery, ReportKind, Violation
from sync.reports import deliveries_retry, summary_send, teacher_digests_send
from sync.reports.delivery import MAX_ATTEMPTS, RETRY_SCHEDULE, RETRY_TASK, retry_delay
from sync.violation_rows import COLUMNS
from tests.sync.report_district import NOW, build_district
from tests.sync.smtp_server import SmtpServer

pytestmark = pytest.mark.django_db

LEADERS = ["superintendent@district.example.org", "it@district.example.org"]


@pytest.fixture
def district():
    return build_district()


@pytest.fixture
def smtp(settings):
    with SmtpServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5
        yield server


def parts(message: mail.EmailMultiAlternatives) -> tuple[str, str, tuple]:
    (html, html_type), *_ = message.alternatives
    assert html_type == "text/html"
    (attachment,) = message.attachments
    return message.body, html, attachment


def csv_rows(content: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(content))
    assert reader.fieldnames == COLUMNS
    return list(reader)


# --- the district summary ------------------------------------------------------------------------


def test_each_recipient_gets_their_own_message_with_html_text_and_the_csv(district, mailoutbox):
    result = summary_send(recipients=LEADERS, now=NOW)

    assert [m.to for m in mailoutbox] == [[LEADERS[0]], [LEADERS[1]]]
    message = mailoutbox[0]
    assert message.subject == "GPB compliance 54.5%: District, Mar 2, 2026"
    assert message.from_email == "gpb-dashboard@localhost"
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    text, html, (filename, content, mimetype) = parts(message)
    assert "COMPLIANCE: 54.5% (first report)" in text
    assert (
        "Fix in Canvas" not in text
        and "https://canvas.example.edu/courses/100/assignments/1002" in text
    )
    assert "54.5%" in html and "North High" in html and "Ben Franklin" in html
    assert 'href="https://canvas.example.edu/courses/100/assignments/1002"' in html
    assert (filename, mimetype) == (
        f"gpb-report-{result.reports[0].pk}-20260302-violations.csv",
        "text/csv",
    )
    rows = csv_rows(content)
    assert len(rows) == 5
    assert {r["rule"] for r in rows} == {
        "name_too_long",
        "due_date_outside_term",
        "section_not_in_sis",
        "missing_due_date",
        "differentiated",
    }
    deliveries = list(ReportDelivery.objects.order_by("recipient"))
    assert [(d.recipient, d.status, d.attempts) for d in deliveries] == [
        ("it@district.example.org", "sent", 1),
        ("superintendent@district.example.org", "sent", 1),
    ]
    assert all(d.sent_at for d in deliveries)
    assert result.line().endswith("2 sent")


def test_the_html_loads_nothing_from_elsewhere_and_styles_inline(district, mailoutbox):
    summary_send(recipients=LEADERS[:1], now=NOW)

    _, html, _ = parts(mailoutbox[0])
    lowered = html.lower()
    assert "<script" not in lowered and "<link" not in lowered and "<style" not in lowered
    assert "<img" not in lowered and "url(" not in lowered
    assert 'style="' in html
    # Who must act: the most blocked assignments first (Ben 3, Ada 2, Cy 1).
    assert html.index("Ben Franklin") < html.index("Ada Lovelace") < html.index("Cy Young")
    # The bar chart is table cells: North High at 43%, South Middle at 75%.
    assert 'width="43%"' in html and 'width="75%"' in html


def test_the_summary_lists_the_open_blocking_violations_oldest_first(district, mailoutbox):
    summary_send(recipients=LEADERS[:1], now=NOW)

    _, html, _ = parts(mailoutbox[0])
    positions = [
        html.index(message) for message in ("Fix differentiated.", "Fix section_not_in_sis.")
    ]
    assert positions == sorted(positions)
    assert "Fix due_date_outside_term." not in html  # a warning: in the CSV, not the list
    assert "open 40 days" in html


def test_a_district_with_no_violations_gets_a_congratulating_report(district, mailoutbox):
    Violation.objects.update(resolved_at=NOW - timedelta(hours=1))

    summary_send(recipients=LEADERS[:1], now=NOW)

    message = mailoutbox[0]
    text, html, (_, content, _) = parts(message)
    assert message.subject == "GPB compliance 100.0%: District, Mar 2, 2026 – nothing to fix"
    assert "Congratulations!" in html and "Every one of the 11 synced assignments" in html
    assert "No teacher needs to act" in text
    # Not an empty report: the figures, the schools and the passback are all there.
    assert "North High" in html and "Grades passed back since" in html
    assert csv_rows(content) == []


def test_a_report_without_recipients_is_kept_but_not_sent(district, mailoutbox):
    result = summary_send(recipients=[], now=NOW)

    assert mailoutbox == []
    assert result.reports[0].pk and "no recipients" in result.line()


# --- teacher digests -----------------------------------------------------------------------------


def test_teacher_digests_reach_only_their_own_teacher(district, mailoutbox):
    result = teacher_digests_send(now=NOW)

    assert sorted(m.to[0] for m in mailoutbox) == ["ada@north.example.org", "ben@north.example.org"]
    ada = next(m for m in mailoutbox if m.to == ["ada@north.example.org"])
    text, html, (_, content, _) = parts(ada)
    assert ada.subject == "Grade passback: 2 problems to fix in your Canvas courses (Mar 2, 2026)"
    assert "Hello Ada Lovelace," in html and "Hello Ada Lovelace," in text
    assert "Algebra" in html and "Chemistry" in html
    assert "Biology" not in html and "Drama" not in html and "Ben Franklin" not in html
    assert {r["course_canvas_id"] for r in csv_rows(content)} == {"100", "300"}
    ben = next(m for m in mailoutbox if m.to == ["ben@north.example.org"])
    assert {r["course_canvas_id"] for r in csv_rows(parts(ben)[2][1])} == {"200"}
    assert "Algebra" not in parts(ben)[1]
    # Cy has violations but no e-mail address: recorded, skipped. Dee has nothing: no digest.
    skipped = ReportDelivery.objects.get(status=ReportDelivery.Status.SKIPPED)
    assert skipped.report.teacher_id == 9003 and "no e-mail address" in skipped.last_error
    assert not ReportDelivery.objects.filter(report__teacher_id=9004).exists()
    assert result.line() == (
        "3 teacher digests (1 teacher had nothing to fix); 2 sent, "
        "1 skipped (no usable e-mail address)"
    )


def test_a_teacher_with_only_warnings_is_told_nothing_blocks_their_grades(district, mailoutbox):
    for key in ("name_too_long", "differentiated"):
        district.violations[key].resolved_at = NOW - timedelta(hours=1)
        district.violations[key].save()

    teacher_digests_send(now=NOW)

    ada = next(m for m in mailoutbox if m.to == ["ada@north.example.org"])
    assert ada.subject == "Grade passback: 1 warning in your Canvas courses (Mar 2, 2026)"
    assert "Nothing stops your grades from reaching Infinite Campus" in parts(ada)[1]


# --- failures and retries ------------------------------------------------------------------------


def test_an_smtp_refusal_for_one_recipient_is_recorded_and_retried_without_stopping_the_others(
    district, smtp
):
    smtp.state.refused["bounce@district.example.org"] = "550 5.1.1 No such user"
    recipients = [LEADERS[0], "bounce@district.example.org", LEADERS[1]]

    result = summary_send(recipients=recipients, now=NOW)

    assert sorted(r for m in smtp.state.received for r in m.recipients) == sorted(LEADERS)
    received = message_from_bytes(smtp.state.received[0].data)
    assert received["Subject"].startswith("GPB compliance")
    assert {p.get_content_type() for p in received.walk()} >= {
        "text/plain",
        "text/html",
        "text/csv",
    }
    failed = ReportDelivery.objects.get(recipient="bounce@district.example.org")
    assert failed.status == ReportDelivery.Status.RETRYING and failed.attempts == 1
    assert "550" in failed.last_error and "No such user" in failed.last_error
    assert ReportDelivery.objects.filter(status="sent").count() == 2
    assert result.delivery.retrying == 1 and result.delivery.sent == 2
    retry = Schedule.objects.get(name=RETRY_SCHEDULE)
    assert retry.func == RETRY_TASK and retry.schedule_type == Schedule.ONCE
    assert retry.next_run == failed.next_attempt_at

    # The mailbox exists now; the retry, once due, delivers it and removes its schedule.
    del smtp.state.refused["bounce@district.example.org"]
    assert deliveries_retry(now=failed.next_attempt_at - timedelta(seconds=1)).attempted == 0
    summary = deliveries_retry(now=failed.next_attempt_at + timedelta(seconds=1))

    failed.refresh_from_db()
    assert (summary.sent, failed.status, failed.attempts) == (1, "sent", 2)
    assert smtp.state.received[-1].recipients == ["bounce@district.example.org"]
    assert not Schedule.objects.filter(name=RETRY_SCHEDULE).exists()


def test_retries_back_off_and_stop_after_a_bounded_number_of_attempts(district, smtp):
    smtp.state.refused["bounce@district.example.org"] = "451 4.3.0 Try again later"
    summary_send(recipients=["bounce@district.example.org"], now=NOW)
    delivery = ReportDelivery.objects.get()
    delays = []
    while delivery.status == ReportDelivery.Status.RETRYING:
        delays.append(delivery.next_attempt_at)
        deliveries_retry(now=delivery.next_attempt_at + timedelta(seconds=1))
        delivery.refresh_from_db()

    assert delivery.status == ReportDelivery.Status.FAILED
    assert delivery.attempts == MAX_ATTEMPTS
    assert [retry_delay(n) for n in range(1, MAX_ATTEMPTS)] == [
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(minutes=45),
        timedelta(minutes=135),
    ]
    assert len(delays) == MAX_ATTEMPTS - 1
    assert not Schedule.objects.filter(name=RETRY_SCHEDULE).exists()


def test_an_unreachable_mail_server_fails_every_delivery_on_its_own(district, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False

    result = summary_send(recipients=LEADERS, now=NOW)

    assert result.delivery.retrying == 2
    assert set(ReportDelivery.objects.values_list("status", flat=True)) == {"retrying"}
    assert all(
        "ConnectionRefusedError" in e
        for e in ReportDelivery.objects.values_list("last_error", flat=True)
    )


def test_a_delivery_another_worker_already_took_is_not_sent_twice(district, mailoutbox):
    result = summary_send(recipients=[], now=NOW)
    report = result.reports[0]
    from sync.reports import deliveries_queue, deliveries_send

    (delivery,) = deliveries_queue(report=report, recipients=[LEADERS[0]])
    stale = ReportDelivery.objects.get(pk=delivery.pk)
    deliveries_send(deliveries=[delivery])

    deliveries_send(deliveries=[stale])  # a copy read before the first send claimed it

    assert len(mailoutbox) == 1
    assert ReportDelivery.objects.get().attempts == 1


def test_teacher_digest_kind_is_recorded_on_each_digest(district, mailoutbox):
    result = teacher_digests_send(now=NOW)

    assert {r.kind for r in result.reports} == {ReportKind.TEACHER}


def test_a_recipient_that_is_not_an_address_is_recorded_as_skipped(district, mailoutbox):
    result = summary_send(recipients=[LEADERS[0], "the board"], now=NOW)

    assert [m.to for m in mailoutbox] == [[LEADERS[0]]]
    skipped = ReportDelivery.objects.get(recipient="the board")
    assert skipped.status == "skipped" and "not an e-mail address" in skipped.last_error
    assert result.delivery.line() == "1 sent, 1 skipped (no usable e-mail address)"
