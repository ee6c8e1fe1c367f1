"""Admin for compliance reports: the kept reports (HTML, CSV, the trend), schedules, deliveries.

Reports and deliveries are written by sync/reports, so their pages are read-only (superusers may
prune them); a report's page shows it exactly as it was mailed, framed from its own HTML view.
Schedules are edited here: saving one keeps its django-q2 schedule in step (a signal), and
"Send now" queues a run. District admins view all of it; sending and editing take the change
permissions, which superusers hold.
"""

from datetime import datetime, timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django_q.tasks import async_task

from courses.admin import ReadOnlyInline
from courses.models import Account
from sync.admin.trend_chart import TrendChart, trend_chart
from sync.cron import cron_next_runs, cron_time_zone
from sync.lanes import interactive_queue
from sync.models import ComplianceReport, ReportDelivery, ReportKind, ReportSchedule
from sync.reports.delivery import deliveries_resend
from sync.reports.render import csv_filename, percent, report_csv_chunks, report_html

TREND_MAX_DAYS = 730
TREND_MIN_DAYS = 28


def report_trend(now: datetime) -> tuple[TrendChart | None, int]:
    """District compliance of the district summaries, across the reports of the last two years."""
    rows = list(
        ComplianceReport.objects.filter(
            kind=ReportKind.DISTRICT, taken_at__gte=now - timedelta(days=TREND_MAX_DAYS)
        )
        .order_by("taken_at")
        .values_list("taken_at", "synced", "compliant")
    )
    if not rows:
        return None, 0
    today = timezone.localtime(now).date()
    span = (today - timezone.localtime(rows[0][0]).date()).days + 1
    days = min(max(span, TREND_MIN_DAYS), TREND_MAX_DAYS)
    return trend_chart(rows, last_day=today, days=days), days


def change_label(change: float | None) -> str:
    return "–" if change is None else f"{change:+.1f} pts"


def _deliveries_of(status: tuple[str, ...]) -> Coalesce:
    counted = (
        ReportDelivery.objects.filter(report=OuterRef("pk"), status__in=status)
        .order_by()
        .values("report")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


class DeliveryInline(ReadOnlyInline):
    model = ReportDelivery
    fields = ("recipient", "status", "attempts", "last_error", "sent_at", "next_attempt_at")
    show_change_link = False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)


@admin.register(ComplianceReport)
class ComplianceReportAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "title",
        "kind",
        "taken_at",
        "compliance",
        "change",
        "open_blocking",
        "open_warning",
        "delivered",
    )
    list_display_links = ("number", "title")
    list_filter = ("kind", "schedule", "taken_at")
    list_select_related = ("schedule",)
    search_fields = ("title", "teacher__name", "scope_label")
    search_help_text = "Report title, teacher name or school."
    show_facets = admin.ShowFacets.NEVER
    fieldsets = (
        (None, {"fields": ("title", "kind", "scope_label", "teacher", "taken_at", "links")}),
        (
            "Figures",
            {
                "fields": (
                    "compliance",
                    "change",
                    "previous_link",
                    "synced",
                    "compliant",
                    "open_blocking",
                    "open_warning",
                )
            },
        ),
        ("The report as mailed", {"fields": ("report_frame",)}),
        ("Origin", {"fields": ("schedule", "requested_by")}),
    )
    readonly_fields = ("links", "compliance", "change", "previous_link", "report_frame")
    inlines = (DeliveryInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ComplianceReport]:
        # The list never needs the snapshot or the violations (megabytes for a district).
        reports = super().get_queryset(request).defer("snapshot", "violations")
        return reports.annotate(
            sent=_deliveries_of((ReportDelivery.Status.SENT,)),
            failing=_deliveries_of((ReportDelivery.Status.RETRYING, ReportDelivery.Status.FAILED)),
            pending=_deliveries_of((ReportDelivery.Status.QUEUED,)),
            skipped=_deliveries_of((ReportDelivery.Status.SKIPPED,)),
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        trend, days = report_trend(timezone.now())
        context = {"trend": trend, "trend_days": days, **(extra_context or {})}
        return super().changelist_view(request, context)

    @admin.display(description="report", ordering="pk")
    def number(self, report: ComplianceReport) -> str:
        return f"#{report.pk}"

    @admin.display(description="compliance", ordering="compliance_rate")
    def compliance(self, report: ComplianceReport) -> str:
        return percent(report.compliance_rate)

    @admin.display(description="change", ordering="rate_change")
    def change(self, report: ComplianceReport) -> str:
        return change_label(report.rate_change)

    @admin.display(description="e-mail")
    def delivered(self, report: ComplianceReport) -> str:
        parts = [
            f"{report.sent} sent" if report.sent else "",
            f"{report.failing} failed" if report.failing else "",
            f"{report.pending} queued" if report.pending else "",
            f"{report.skipped} skipped" if report.skipped else "",
        ]
        return ", ".join(p for p in parts if p) or "not sent"

    @admin.display(description="previous report")
    def previous_link(self, report: ComplianceReport) -> str:
        if not report.previous_id:
            return "–"
        url = reverse("admin:sync_compliancereport_change", args=[report.previous_id])
        return format_html('<a href="{}">#{}</a>', url, report.previous_id)

    @admin.display(description="open")
    def links(self, report: ComplianceReport) -> str:
        html = reverse("admin:sync_compliancereport_html", args=[report.pk])
        csv_url = reverse("admin:sync_compliancereport_csv", args=[report.pk])
        return format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            [
                (html, "the report (HTML)"),
                (f"{html}?download=1", "download the HTML"),
                (csv_url, "download the violations (CSV)"),
            ],
        )

    @admin.display(description="")
    def report_frame(self, report: ComplianceReport) -> str:
        url = reverse("admin:sync_compliancereport_html", args=[report.pk])
        return format_html(
            '<iframe src="{}" title="{}" style="width:100%;min-width:700px;height:80vh;'
            'border:1px solid var(--hairline-color, #ccc);background:#fff"></iframe>',
            url,
            report.title,
        )

    def get_urls(self) -> list:
        html = self.admin_site.admin_view(self.html_view)
        csv_view = self.admin_site.admin_view(self.csv_view)
        return [
            path("<int:report_id>/html/", html, name="sync_compliancereport_html"),
            path("<int:report_id>/csv/", csv_view, name="sync_compliancereport_csv"),
            *super().get_urls(),
        ]

    def _report(self, request: HttpRequest, report_id: int) -> ComplianceReport:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(ComplianceReport.objects.select_related("schedule"), pk=report_id)

    @xframe_options_sameorigin  # the report's own page frames it
    def html_view(self, request: HttpRequest, report_id: int) -> HttpResponse:
        report = self._report(request, report_id)
        response = HttpResponse(report_html(report), content_type="text/html; charset=utf-8")
        if request.GET.get("download"):
            name = csv_filename(report).replace("-violations.csv", ".html")
            response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def csv_view(self, request: HttpRequest, report_id: int) -> StreamingHttpResponse:
        report = self._report(request, report_id)
        response = StreamingHttpResponse(report_csv_chunks(report), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{csv_filename(report)}"'
        return response


# --- schedules -----------------------------------------------------------------------------------


class ReportScheduleForm(forms.ModelForm):
    class Meta:
        model = ReportSchedule
        fields = ("name", "kind", "cron", "schools", "recipients", "active")
        widgets = {"recipients": forms.Textarea(attrs={"rows": 3, "cols": 60})}

    def clean(self) -> dict:
        data = super().clean()
        kind, schools = data.get("kind"), data.get("schools")
        if kind == ReportKind.DISTRICT and schools:
            self.add_error(
                "schools",
                "A district summary covers the whole district: leave schools empty, or make it "
                "a school summary.",
            )
        if kind == ReportKind.SCHOOL and schools is not None and not schools:
            self.add_error("schools", "Choose the schools this school summary covers.")
        return data


@admin.register(ReportSchedule)
class ReportScheduleAdmin(admin.ModelAdmin):
    form = ReportScheduleForm
    list_display = (
        "name",
        "kind",
        "cron",
        "next_run",
        "scope",
        "recipients_shown",
        "active",
        "last_run_at",
        "last_result",
    )
    list_filter = ("kind", "active")
    list_select_related = ("q_schedule",)
    search_fields = ("name", "recipients")
    filter_horizontal = ("schools",)
    actions = ("send_now",)
    fieldsets = (
        (None, {"fields": ("name", "kind", "active")}),
        ("When", {"fields": ("cron", "next_runs")}),
        ("What and to whom", {"fields": ("schools", "recipients")}),
        ("Last run", {"fields": ("last_run_at", "last_result", "reports_link")}),
    )
    readonly_fields = ("next_runs", "last_run_at", "last_result", "reports_link")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReportSchedule]:
        return super().get_queryset(request).prefetch_related("schools")

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs: object):
        if db_field.name == "schools":
            kwargs["queryset"] = Account.objects.filter(deleted=False).order_by("name")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="next run")
    def next_run(self, schedule: ReportSchedule) -> str:
        if not schedule.active or schedule.q_schedule is None:
            return "not scheduled"
        moment = timezone.localtime(schedule.q_schedule.next_run, cron_time_zone())
        return formats.date_format(moment, "D M j, H:i T")

    @admin.display(description="next runs")
    def next_runs(self, schedule: ReportSchedule) -> str:
        if not schedule.pk or not schedule.cron:
            return "–"
        runs = cron_next_runs(schedule.cron, after=timezone.now(), count=3)
        shown = [formats.date_format(r, "l M j, Y, H:i T") for r in runs]
        return format_html_join(", ", "{}", ((s,) for s in shown))

    @admin.display(description="scope")
    def scope(self, schedule: ReportSchedule) -> str:
        names = [s.name for s in schedule.schools.all()]
        if schedule.kind == ReportKind.TEACHER:
            return f"teachers of {', '.join(names)}" if names else "every teacher"
        return ", ".join(names) or "district"

    @admin.display(description="recipients")
    def recipients_shown(self, schedule: ReportSchedule) -> str:
        if schedule.kind == ReportKind.TEACHER:
            return "each teacher"
        listed = schedule.recipient_list()
        if not listed:
            return "REPORT_RECIPIENTS"
        return ", ".join(listed[:3]) + (f" and {len(listed) - 3} more" if len(listed) > 3 else "")

    @admin.display(description="reports")
    def reports_link(self, schedule: ReportSchedule) -> str:
        if not schedule.pk:
            return "–"
        url = reverse("admin:sync_compliancereport_changelist")
        count = schedule.reports.count()
        return format_html(
            '<a href="{}?schedule__id__exact={}">{} reports</a>', url, schedule.pk, count
        )

    @admin.action(description="Send now", permissions=["change"])
    def send_now(self, request: HttpRequest, queryset: QuerySet[ReportSchedule]) -> None:
        names = []
        for schedule in queryset.order_by("name"):
            async_task(
                "sync.tasks.compliance_report_scheduled",
                schedule.pk,
                group=f"report-schedule-{schedule.pk}",
                cluster=interactive_queue(),  # asked for now: before scheduled bulk work
            )
            names.append(schedule.name)
        self.message_user(
            request,
            f"Queued: {', '.join(names)}. The task worker builds and sends them; see "
            "Compliance reports and Report deliveries.",
            messages.SUCCESS,
        )


# --- deliveries ----------------------------------------------------------------------------------


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "report_link",
        "recipient",
        "status",
        "attempts",
        "last_error",
        "sent_at",
        "next_attempt_at",
    )
    list_filter = ("status", "report__kind", "created_at")
    list_select_related = ("report",)
    search_fields = ("recipient",)
    ordering = ("-pk",)
    show_facets = admin.ShowFacets.NEVER
    actions = ("retry_now",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReportDelivery]:
        return super().get_queryset(request).defer("report__snapshot", "report__violations")

    @admin.display(description="report", ordering="report")
    def report_link(self, delivery: ReportDelivery) -> str:
        url = reverse("admin:sync_compliancereport_change", args=[delivery.report_id])
        return format_html(
            '<a href="{}">#{} {}</a>', url, delivery.report_id, delivery.report.title
        )

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("sync.change_reportdelivery")

    @admin.action(description="Retry the failed ones now", permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[ReportDelivery]) -> None:
        failing = queryset.filter(
            status__in=[ReportDelivery.Status.RETRYING, ReportDelivery.Status.FAILED]
        )
        summary = deliveries_resend(delivery_ids=list(failing.values_list("pk", flat=True)))
        level = messages.SUCCESS if not (summary.retrying or summary.failed) else messages.WARNING
        if not summary.attempted:
            self.message_user(request, "None of those deliveries had failed.", messages.INFO)
            return
        self.message_user(request, f"Retried: {summary.line()}.", level)
