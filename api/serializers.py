"""How violations and compliance figures look on the wire (read-only)."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from courses.models import Account, Assignment, Course, Section
from sync import rules
from sync.models import Violation


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
