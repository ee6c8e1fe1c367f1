"""Keep each report schedule's django-q2 schedule in step when it is saved or deleted."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from sync.models import ReportSchedule
from sync.reports.schedules import report_schedule_sync, report_schedule_unlink


@receiver(post_save, sender=ReportSchedule, dispatch_uid="report_schedule_saved")
def report_schedule_saved(sender: type, instance: ReportSchedule, raw: bool, **kwargs: object):
    if not raw:  # loaddata writes rows as they are; setup_schedules catches up
        report_schedule_sync(schedule=instance)


@receiver(post_delete, sender=ReportSchedule, dispatch_uid="report_schedule_deleted")
def report_schedule_deleted(sender: type, instance: ReportSchedule, **kwargs: object) -> None:
    report_schedule_unlink(schedule=instance)
