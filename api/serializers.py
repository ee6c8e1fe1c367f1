"""How violations, compliance figures and passback runs look on the wire, and sync requests."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from courses.models import Account, Assignment, Course, Person, Section
from sync import rules
from sync.models import GradeOutcome, SyncRun, Violation


class SchoolRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["canvas_id", "name"]


class CourseRefSerializer(serializers.ModelSerializer):
    canvas_url = serializers.SerializerMethodField()

    class Meta:
        model = Course
        fields = ["canvas_id", "name", "sis_course_id", "canvas_url"]

    @extend_schema_field(serializers.URLField())
    def get_canvas_url(self, course: Course) -> str:
        return f"{settings.CANVAS_BASE_URL.rstrip('/')}/courses/{course.canvas_id}"


class AssignmentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Assignment
        fields = ["canvas_id", "name", "html_url"]


class SectionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Section
        fields = ["canvas_id", "name", "sis_section_id"]


class ViolationSerializer(serializers.ModelSerializer):
    """One violation with the school, course, assignment and section it names."""

    rule_title = serializers.SerializerMethodField()
    school = SchoolRefSerializer(read_only=True)
    term = serializers.IntegerField(
        source="term_id", read_only=True, allow_null=True, help_text="Term Canvas id."
    )
    course = CourseRefSerializer(read_only=True)
    assignment = AssignmentRefSerializer(read_only=True, allow_null=True)
    section = SectionRefSerializer(read_only=True, allow_null=True)
    open = serializers.BooleanField(source="is_open", read_only=True)

    class Meta:
        model = Violation
        fields = [
            "id",
            "rule",
            "rule_title",
            "severity",
            "message",
            "school",
            "term",
            "course",
            "assignment",
            "section",
            "first_seen",
            "last_seen",
            "resolved_at",
            "open",
        ]
        read_only_fields = fields

    def get_rule_title(self, violation: Violation) -> str:
        spec = rules.RULES.get(violation.rule)
        # A code the rule book has since dropped still shows, under its own name.
        return spec.title if spec else violation.rule


class ComplianceFiguresSerializer(serializers.Serializer):
    """Synced assignments, how many have no blocking violation, and the share (null if none)."""

    synced = serializers.IntegerField()
    compliant = serializers.IntegerField()
    blocked = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, min_value=0, max_value=1)


class GroupComplianceSerializer(serializers.Serializer):
    """Compliance of one school or term (``canvas_id`` null for courses without a term)."""

    canvas_id = serializers.IntegerField(source="key", allow_null=True)
    name = serializers.CharField()
    synced = serializers.IntegerField()
    compliant = serializers.IntegerField()
    blocked = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, min_value=0, max_value=1)


class RuleComplianceSerializer(serializers.Serializer):
    rule = serializers.CharField()
    title = serializers.CharField()
    severity = serializers.ChoiceField(choices=list(rules.SEVERITIES))
    open = serializers.IntegerField(help_text="Open violations of this rule.")
    assignments = serializers.IntegerField(help_text="Assignments with an open violation.")
    rate = serializers.FloatField(
        allow_null=True, help_text="Share of synced assignments this rule leaves clean."
    )


class ComplianceSerializer(serializers.Serializer):
    district = ComplianceFiguresSerializer()
    schools = GroupComplianceSerializer(many=True)
    terms = GroupComplianceSerializer(many=True)
    rules = RuleComplianceSerializer(many=True)


# --- passback ------------------------------------------------------------------------------------


class PersonRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Person
        fields = ["canvas_id", "name", "sis_user_id"]


class AssignmentCountsSerializer(serializers.Serializer):
    """Line items of a run per status: one per (assignment, section) pair."""

    pending = serializers.IntegerField()
    synced = serializers.IntegerField()
    no_changes = serializers.IntegerField()
    blocked = serializers.IntegerField()
    failed = serializers.IntegerField()


class GradeCountsSerializer(serializers.Serializer):
    """Grades of a run per status: one per student of each unblocked line item."""

    pending = serializers.IntegerField()
    posted = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    skipped = serializers.IntegerField()
    failed = serializers.IntegerField()


class SyncRunSerializer(serializers.ModelSerializer):
    """One passback run of a course to Infinite Campus."""

    course = CourseRefSerializer(read_only=True)
    section_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="Section Canvas ids; empty means all."
    )
    assignment_ids = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Assignment Canvas ids; empty means every synced assignment.",
    )
    duration_seconds = serializers.FloatField(
        read_only=True, allow_null=True, help_text="From start to finish; null until finished."
    )

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "course",
            "status",
            "section_ids",
            "assignment_ids",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
            "duration_seconds",
            "message",
        ]
        read_only_fields = fields


class SyncRunDetailSerializer(SyncRunSerializer):
    """A run with its outcome counts (every status, zero when none); give it ``context["counts"]``
    as ``api.selectors.sync_run_counts`` returns them."""

    assignments = serializers.SerializerMethodField()
    grades = serializers.SerializerMethodField()

    class Meta(SyncRunSerializer.Meta):
        fields = [*SyncRunSerializer.Meta.fields, "assignments", "grades"]
        read_only_fields = fields

    @extend_schema_field(AssignmentCountsSerializer)
    def get_assignments(self, run: SyncRun) -> dict:
        return self.context["counts"]["assignments"]

    @extend_schema_field(GradeCountsSerializer)
    def get_grades(self, run: SyncRun) -> dict:
        return self.context["counts"]["grades"]


class SyncRequestedSerializer(SyncRunDetailSerializer):
    """The run a sync request started, or the active run of the course it joined."""

    joined = serializers.SerializerMethodField(
        help_text="True when a run of the course was already queued or running: the request "
        "joined it, and that run's selection of sections and assignments stands."
    )

    class Meta(SyncRunDetailSerializer.Meta):
        fields = [*SyncRunDetailSerializer.Meta.fields, "joined"]
        read_only_fields = fields

    def get_joined(self, run: SyncRun) -> bool:
        return self.context["joined"]


class SyncRequestSerializer(serializers.Serializer):
    """What to pass back: some sections and assignments of the course, or (empty) all of them.

    Needs ``context["course_id"]``: ids that are not the course's answer 400.
    """

    sections = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        default=list,
        help_text="Section Canvas ids of the course; empty or absent means all sections.",
    )
    assignments = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        default=list,
        help_text="Assignment Canvas ids of the course; empty or absent means every synced one.",
    )

    def _of_course(self, model: type, ids: list[int], what: str) -> list[int]:
        found = set(
            model.objects.filter(
                course_id=self.context["course_id"], canvas_id__in=ids
            ).values_list("canvas_id", flat=True)
        )
        unknown = sorted(set(ids) - found)
        if unknown:
            listed = ", ".join(str(i) for i in unknown)
            raise serializers.ValidationError(f"Not {what} of this course: {listed}.")
        return ids

    def validate_sections(self, ids: list[int]) -> list[int]:
        return self._of_course(Section, ids, "sections")

    def validate_assignments(self, ids: list[int]) -> list[int]:
        return self._of_course(Assignment, ids, "assignments")


class GradeOutcomeSerializer(serializers.ModelSerializer):
    """What a run did with one student's grade on one line item."""

    assignment_canvas_id = serializers.IntegerField(
        source="assignment_outcome.assignment_id", read_only=True
    )
    section_canvas_id = serializers.IntegerField(
        source="assignment_outcome.section_id", read_only=True
    )
    student = PersonRefSerializer(read_only=True)
    reason = serializers.CharField(
        read_only=True,
        help_text="Why it was not sent (no_grade, student_not_in_sis, outside_window, "
        "same_as_sent, invalid_score) or why it failed (sis_rejected, sis_unavailable, "
        "line_item_failed, run_failed); empty when posted.",
    )
    detail = serializers.CharField(read_only=True, help_text="Infinite Campus's own words, if any.")

    class Meta:
        model = GradeOutcome
        fields = [
            "id",
            "result_sourced_id",
            "assignment_canvas_id",
            "section_canvas_id",
            "student",
            "status",
            "reason",
            "detail",
            "http_status",
            "attempts",
            "sent_at",
        ]
        read_only_fields = fields
