"""Violations on the course, assignment and person pages of the district data admin.

``courses`` must not import ``sync``, so its admins are replaced here by subclasses that keep all
their behaviour and add the violations: an inline (open first, then the most recently resolved,
at most INLINE_LIMIT rows) and a link to the violation list narrowed to that row.
"""

from django.contrib import admin, messages
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from courses.admin import INLINE_LIMIT, AssignmentAdmin, CourseAdmin, PersonAdmin, ReadOnlyInline
from courses.models import Assignment, Course, Person
from sync.admin.violation_filters import AssignmentChosenFilter, CourseChosenFilter, TeacherFilter
from sync.admin.violations import ViolationColumns
from sync.models import Violation
from sync.passback import QueueUnavailable, passback_request


def violations_link(label: str, **filters: object) -> str:
    url = reverse("admin:sync_violation_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(filters), label)


def violation_links(parameter: str, canvas_id: int, open_count: int) -> str:
    return format_html(
        "{} · {}",
        violations_link(f"{open_count:,} open violations", **{parameter: canvas_id}),
        violations_link("all, with the resolved ones", **{parameter: canvas_id, "status": "all"}),
    )


class ViolationInline(ViolationColumns, ReadOnlyInline):
    model = Violation
    fields = ("rule_title", "severity", "message", "status", "first_seen", "age")
    select_related = ("section",)
    ordering = (F("resolved_at").desc(nulls_first=True), "-first_seen")
    verbose_name_plural = f"violations (open first, then recently resolved; at most {INLINE_LIMIT})"


class CourseViolationInline(ViolationInline):
    fields = ("rule_title", "severity", "assignment", "section", "message", "status", "age")
    select_related = ("section", "assignment")


class AssignmentViolationInline(ViolationInline):
    fields = ("rule_title", "severity", "section", "message", "status", "first_seen", "age")


admin.site.unregister(Course)
admin.site.unregister(Assignment)
admin.site.unregister(Person)


@admin.register(Course)
class CourseWithViolationsAdmin(CourseAdmin):
    inlines = (*CourseAdmin.inlines, CourseViolationInline)
    readonly_fields = (*CourseAdmin.readonly_fields, "violations")

    actions = ("pass_back",)

    @admin.display(description="violations")
    def violations(self, obj: Course) -> str:
        open_count = obj.violations.filter(resolved_at__isnull=True).count()
        return violation_links(CourseChosenFilter.parameter_name, obj.canvas_id, open_count)

    def has_pass_back_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("sync.change_syncrun")

    @admin.action(description="Pass grades back to Infinite Campus", permissions=["pass_back"])
    def pass_back(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        """Queue a passback run per selected course (joining any run already in progress)."""
        started, joined = [], []
        for course_id in queryset.values_list("canvas_id", flat=True):
            try:
                run, created = passback_request(
                    course_id=course_id, requested_by=request.user.get_username()
                )
            except QueueUnavailable as exc:
                self.message_user(request, str(exc), messages.ERROR)
                break  # the next course would meet the same queue
            (started if created else joined).append(f"#{run.pk}")
        if not (started or joined):
            return
        parts = []
        if started:
            parts.append(f"Queued passback runs {', '.join(started)}")
        if joined:
            parts.append(f"already running: {', '.join(joined)}")
        url = reverse("admin:sync_syncrun_changelist")
        self.message_user(
            request,
            format_html('{}. Follow them under <a href="{}">sync runs</a>.', "; ".join(parts), url),
            messages.SUCCESS,
        )


@admin.register(Assignment)
class AssignmentWithViolationsAdmin(AssignmentAdmin):
    inlines = (*AssignmentAdmin.inlines, AssignmentViolationInline)
    readonly_fields = (*AssignmentAdmin.readonly_fields, "violations")

    @admin.display(description="violations")
    def violations(self, obj: Assignment) -> str:
        open_count = obj.violations.filter(resolved_at__isnull=True).count()
        return violation_links(AssignmentChosenFilter.parameter_name, obj.canvas_id, open_count)


@admin.register(Person)
class PersonWithViolationsAdmin(PersonAdmin):
    readonly_fields = (*PersonAdmin.readonly_fields, "violations")

    @admin.display(description="violations in the courses they teach")
    def violations(self, obj: Person) -> str:
        return violations_link("open violations", **{TeacherFilter.parameter_name: obj.canvas_id})
