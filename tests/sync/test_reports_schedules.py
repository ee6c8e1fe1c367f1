"""Report schedules: the default set, django-q2 kept in step, cron checked, runs as tasks."""

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django_q.models import Schedule

from courses.models import Account
from sync import tasks
from sync.cron import cron_next_runs, validate_cron
from sync.models import ComplianceReport, ReportDelivery, ReportKind, ReportSchedule
from sync.reports.schedules import TASK, report_schedules_apply
from tests.sync.report_district import build_district

pytestmark = pytest.mark.django_db

DISTRICT_SCHEDULE = "Compliance report: Weekly district summary"
TEACHER_SCHEDULE = "Compliance report: Weekly teacher digests"


def q_schedule(name: str) -> Schedule:
    return Schedule.objects.get(name=name)


# --- the default set, idempotently ---------------------------------------------------------------


def test_setup_schedules_creates_the_weekly_district_summary_and_teacher_digests():
    out = StringIO()
    call_command("setup_schedules", stdout=out)

    district = ReportSchedule.objects.get(name="Weekly district summary")
    teachers = ReportSchedule.objects.get(name="Weekly teacher digests")
    assert (district.kind, district.cron, district.active) == ("district", "0 6 * * 1", True)
    assert (teachers.kind, teachers.cron) == ("teacher", "15 6 * * 1")
    q = q_schedule(DISTRICT_SCHEDULE)
    assert (q.func, q.schedule_type, q.cron, q.repeats) == (TASK, Schedule.CRON, "0 6 * * 1", -1)
    assert q.kwargs == f"{{'schedule_id': {district.pk}}}"
    assert district.q_schedule_id == q.pk
    assert f"created: {DISTRICT_SCHEDULE}" in out.getvalue()


def test_setup_schedules_twice_changes_nothing():
    call_command("setup_schedules", stdout=StringIO())
    before = list(
        Schedule.objects.order_by("pk").values("pk", "name", "cron", "kwargs", "next_run")
    )
    schedules = list(ReportSchedule.objects.order_by("pk").values("pk", "name", "q_schedule"))
    out = StringIO()

    call_command("setup_schedules", stdout=out)

    after = list(Schedule.objects.order_by("pk").values("pk", "name", "cron", "kwargs", "next_run"))
    assert after == before
    assert (
        list(ReportSchedule.objects.order_by("pk").values("pk", "name", "q_schedule")) == schedules
    )
    assert f"up to date: {DISTRICT_SCHEDULE}" in out.getvalue()


def test_setup_schedules_keeps_what_the_admin_changed_in_a_default_schedule():
    report_schedules_apply()
    district = ReportSchedule.objects.get(name="Weekly district summary")
    district.cron = "30 7 * * 5"
    district.save()

    report_schedules_apply()

    assert ReportSchedule.objects.get(pk=district.pk).cron == "30 7 * * 5"
    assert q_schedule(DISTRICT_SCHEDULE).cron == "30 7 * * 5"


def test_monday_six_oclock_means_six_oclock_in_the_district_time_zone():
    report_schedules_apply()

    next_run = q_schedule(DISTRICT_SCHEDULE).next_run.astimezone(ZoneInfo(settings.TIME_ZONE))

    assert (next_run.weekday(), next_run.hour, next_run.minute) == (0, 6, 0)


def test_setup_schedules_drops_the_django_q_schedule_of_a_deleted_report_schedule():
    report_schedules_apply()
    Schedule.objects.create(
        name="Compliance report: gone",
        func=TASK,
        kwargs="{'schedule_id': 999}",
        cron="0 6 * * 1",
        schedule_type=Schedule.CRON,
    )

    report_schedules_apply()

    assert set(Schedule.objects.filter(func=TASK).values_list("name", flat=True)) == {
        DISTRICT_SCHEDULE,
        TEACHER_SCHEDULE,
    }


# --- kept in step on save and delete -------------------------------------------------------------


def test_a_new_schedule_gets_its_django_q_schedule_on_save():
    schedule = ReportSchedule.objects.create(name="Principals", kind="district", cron="0 7 * * 1-5")

    q = q_schedule("Compliance report: Principals")
    assert q.cron == "0 7 * * 1-5" and schedule.q_schedule_id == q.pk


def test_changing_the_cron_moves_the_next_run_and_renaming_renames():
    schedule = ReportSchedule.objects.create(name="Weekly", kind="district", cron="0 6 * * 1")
    q = q_schedule("Compliance report: Weekly")

    schedule.name, schedule.cron = "Daily", "0 18 * * *"
    schedule.save()

    moved = Schedule.objects.get(pk=q.pk)
    assert (moved.name, moved.cron) == ("Compliance report: Daily", "0 18 * * *")
    local = moved.next_run.astimezone(ZoneInfo(settings.TIME_ZONE))
    assert (local.hour, local.minute) == (18, 0)
    assert not Schedule.objects.filter(name="Compliance report: Weekly").exists()


def test_an_inactive_schedule_has_no_django_q_schedule_until_switched_back_on():
    schedule = ReportSchedule.objects.create(name="Weekly", kind="district", cron="0 6 * * 1")

    schedule.active = False
    schedule.save()
    assert not Schedule.objects.filter(func=TASK).exists()

    schedule.active = True
    schedule.save()
    assert Schedule.objects.filter(func=TASK).count() == 1


def test_deleting_a_schedule_deletes_its_django_q_schedule():
    schedule = ReportSchedule.objects.create(name="Weekly", kind="district", cron="0 6 * * 1")
    ReportSchedule.objects.create(name="Other", kind="district", cron="0 6 * * 2")

    ReportSchedule.objects.filter(pk=schedule.pk).delete()  # a queryset delete, as the admin does

    assert list(Schedule.objects.filter(func=TASK).values_list("name", flat=True)) == [
        "Compliance report: Other"
    ]


# --- cron expressions ----------------------------------------------------------------------------


@pytest.mark.parametrize("expression", ["0 6 * * 1", "*/15 7-17 * * MON-FRI", "@weekly"])
def test_valid_cron_expressions_are_accepted(expression):
    validate_cron(expression)


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("0 6 * * 8", "not a valid cron expression"),
        ("61 6 * * 1", "not a valid cron expression"),
        ("every monday", "use five fields"),
        ("0 6 * * 1 2026", "use five fields"),
    ],
)
def test_invalid_cron_expressions_are_refused_with_a_clear_message(expression, says):
    schedule = ReportSchedule(name="Bad", kind="district", cron=expression)

    with pytest.raises(ValidationError) as raised:
        schedule.full_clean()

    message = " ".join(raised.value.message_dict["cron"])
    assert says in message and "0 6 * * 1 (Mondays at 06:00)" in message


def test_the_next_runs_are_read_in_the_district_time_zone():
    after = datetime(2026, 3, 4, 12, 0, tzinfo=ZoneInfo("UTC"))  # a Wednesday

    runs = cron_next_runs("0 6 * * 1", after=after, count=2)

    assert [(r.isoformat()) for r in runs] == [
        "2026-03-09T06:00:00-05:00",  # Chicago switched to daylight time on March 8
        "2026-03-16T06:00:00-05:00",
    ]


def test_recipients_must_be_addresses_and_teacher_digests_take_none():
    with pytest.raises(ValidationError, match="Not an e-mail address: nobody"):
        ReportSchedule(
            name="A", kind="district", cron="0 6 * * 1", recipients="nobody"
        ).full_clean()
    with pytest.raises(ValidationError, match="leave recipients empty"):
        ReportSchedule(
            name="B", kind="teacher", cron="0 6 * * 1", recipients="a@example.org"
        ).full_clean()
    schedule = ReportSchedule(name="C", cron="0 6 * * 1", recipients="a@x.org, b@x.org\nc@x.org")
    assert schedule.recipient_list() == ["a@x.org", "b@x.org", "c@x.org"]


# --- runs ----------------------------------------------------------------------------------------


def test_the_scheduled_task_builds_and_sends_a_district_summary(mailoutbox, settings):
    build_district()
    settings.REPORT_RECIPIENTS = ["board@district.example.org"]
    schedule = ReportSchedule.objects.create(name="Weekly", kind="district", cron="0 6 * * 1")

    result = tasks.compliance_report_scheduled(schedule.pk)

    assert [m.to for m in mailoutbox] == [["board@district.example.org"]]
    report = ComplianceReport.objects.get()
    assert report.schedule == schedule and report.requested_by == "schedule"
    assert result.startswith(f"Weekly: report #{report.pk} (54.5% compliant); 1 sent")
    schedule.refresh_from_db()
    assert schedule.last_run_at and schedule.last_result == result


def test_a_schedules_own_recipients_win_over_the_setting(mailoutbox, settings):
    build_district()
    settings.REPORT_RECIPIENTS = ["board@district.example.org"]
    schedule = ReportSchedule.objects.create(
        name="Weekly", kind="district", cron="0 6 * * 1", recipients="a@x.org; b@x.org"
    )

    tasks.compliance_report_scheduled(schedule.pk)

    assert sorted(m.to[0] for m in mailoutbox) == ["a@x.org", "b@x.org"]


def test_a_school_summary_schedule_reports_on_its_schools(mailoutbox):
    build_district()
    schedule = ReportSchedule.objects.create(
        name="South", kind="school", cron="0 6 * * 1", recipients="principal@south.example.org"
    )
    schedule.schools.set(Account.objects.filter(canvas_id=20))

    tasks.compliance_report_scheduled(schedule.pk)

    report = ComplianceReport.objects.get()
    assert (report.kind, report.scope_label, report.synced) == ("school", "South Middle", 4)
    assert mailoutbox[0].to == ["principal@south.example.org"]


def test_a_teacher_digest_schedule_mails_each_teacher_their_own(mailoutbox):
    build_district()
    schedule = ReportSchedule.objects.create(name="Digests", kind="teacher", cron="15 6 * * 1")

    result = tasks.compliance_report_scheduled(schedule.pk)

    assert sorted(m.to[0] for m in mailoutbox) == ["ada@north.example.org", "ben@north.example.org"]
    assert ComplianceReport.objects.filter(kind=ReportKind.TEACHER, schedule=schedule).count() == 3
    assert ReportDelivery.objects.filter(status="skipped").count() == 1
    assert "3 teacher digests" in result


def test_a_schedule_deleted_before_its_task_ran_is_skipped():
    assert tasks.compliance_report_scheduled(12345) == (
        "skipped: report schedule #12345 no longer exists"
    )
