"""List filters of the passback pages: runs by school; outcomes by run, course, school, reason.

The grade outcome table grows by a course's roster on every run (about a million rows after a
school year), so no filter here joins it to the course tables: each one is a condition on the
outcome's own indexed columns, reaching school and course through the small run table. Choices
are fixed lists or a few rows of the small tables, never a DISTINCT over the outcomes.
"""

from django.contrib.admin import ModelAdmin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Q
from django.http import HttpRequest

from courses.admin import SchoolFilter
from sync.admin.violation_filters import ChosenRowFilter, ConditionFilter, canvas_id
from sync.models import SyncRun
from sync.passback_payloads import (
    INVALID_SCORE,
    NO_GRADE,
    OUTSIDE_WINDOW,
    SAME_AS_SENT,
    STUDENT_NOT_IN_SIS,
)

# GradeOutcome.reason: why a grade was not sent (sync/passback_payloads.py), or why it failed
# (sync/passback_send.py and passback_finish).
GRADE_REASONS = [
    (NO_GRADE, "No grade in Canvas"),
    (STUDENT_NOT_IN_SIS, "Student not in the SIS"),
    (OUTSIDE_WINDOW, "Graded outside the sync window"),
    (SAME_AS_SENT, "Same as the value sent before"),
    (INVALID_SCORE, "Invalid score"),
    ("sis_rejected", "Rejected by Infinite Campus"),
    ("sis_unavailable", "Infinite Campus unavailable"),
    ("line_item_failed", "Its line item failed"),
    ("run_failed", "The run stopped"),
]


class RunSchoolFilter(ConditionFilter, SchoolFilter):
    """The course admin's school choices, for runs (joined to their course for its name anyway)."""

    def condition(self, value: str) -> Q:
        return Q(course__account_id=canvas_id(value))


class RunRequesterFilter(ConditionFilter):
    """Nightly runs, or runs a person asked for (a teacher, an admin, the API, a command)."""

    title = "requested by"
    parameter_name = "requester"

    def lookups(self, request: HttpRequest, model_admin: ModelAdmin) -> list[tuple[str, str]]:
        return [("schedule", "The nightly schedule"), ("person", "A person")]

    def condition(self, value: str) -> Q:
        if value not in ("schedule", "person"):
            raise IncorrectLookupParameters(f"Unknown requester {value!r}.")
        return Q(scheduled=value == "schedule")


class OutcomeSchoolFilter(ConditionFilter, SchoolFilter):
    """Outcomes of the school's runs: the runs are found first, then the outcomes by run index."""

    facets = False

    def condition(self, value: str) -> Q:
        runs = SyncRun.objects.filter(course__account_id=canvas_id(value)).values("pk")
        return Q(run__in=runs)


class OutcomeCourseFilter(ChosenRowFilter):
    """Outcomes of one course's runs, chosen by a link: ``?course=<Canvas id>``."""

    title = "course"
    parameter_name = "course"
    facets = False

    def condition(self, value: str) -> Q:
        return Q(run__in=SyncRun.objects.filter(course_id=canvas_id(value)).values("pk"))


class RunChosenFilter(ConditionFilter):
    """Outcomes of one run, chosen by the run page's links: ``?run=<id>``."""

    title = "run"
    parameter_name = "run"
    facets = False

    def lookups(self, request, model_admin):
        value = self.used_parameters.get(self.parameter_name)
        return [(canvas_id(value), f"#{value}")] if value else []

    def condition(self, value: str) -> Q:
        return Q(run_id=canvas_id(value))


class HttpStatusFilter(ConditionFilter):
    """What Infinite Campus answered, by class of HTTP status (the column has few values)."""

    title = "HTTP status"
    parameter_name = "http"
    facets = False
    BUCKETS = {
        "2xx": ("2xx accepted", Q(http_status__gte=200, http_status__lt=300)),
        "4xx": ("4xx rejected", Q(http_status__gte=400, http_status__lt=500)),
        "429": ("429 throttled", Q(http_status=429)),
        "5xx": ("5xx server error", Q(http_status__gte=500)),
        "none": ("Not sent", Q(http_status__isnull=True)),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _) in self.BUCKETS.items()]

    def condition(self, value: str) -> Q:
        if value not in self.BUCKETS:
            raise IncorrectLookupParameters(f"Unknown HTTP status class: {value!r}")
        return self.BUCKETS[value][1]


class ReasonFilter(ConditionFilter):
    title = "reason"
    parameter_name = "reason"
    facets = False

    def lookups(self, request, model_admin):
        return GRADE_REASONS

    def condition(self, value: str) -> Q:
        return Q(reason=value)
