"""Compliance reports on the API: the kept reports as JSON, and each one's violations as CSV.

``GET /api/v1/reports/`` lists them newest first (headline figures only; ``kind`` filters),
``GET /api/v1/reports/{id}/`` is one report in full (every section of its snapshot and its
violation list) and ``GET /api/v1/reports/{id}/csv/`` streams its violations in the
``gpb_report`` columns.
"""

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request

from api.pagination import ViolationPagination
from sync.models import ComplianceReport, ReportKind
from sync.reports.figures import row_as_dict
from sync.reports.render import csv_filename, report_csv_chunks


class CsvRenderer(BaseRenderer):
    """Lets ``Accept: text/csv`` through content negotiation; the action streams the body."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: object, accepted_media_type: str | None = None, renderer_context=None):
        # Only errors reach here (a 404, a 403): the CSV itself is a streaming response.
        return str(data.get("detail", data) if isinstance(data, dict) else data).encode()


class ReportTeacherSerializer(serializers.Serializer):
    canvas_id = serializers.IntegerField()
    name = serializers.CharField()


class ComplianceReportSerializer(serializers.ModelSerializer):
    """A report's headline figures."""

    scope = serializers.SerializerMethodField()
    teacher = serializers.SerializerMethodField()
    blocked = serializers.IntegerField(read_only=True)
    compliance_rate = serializers.FloatField(
        read_only=True, allow_null=True, help_text="compliant / synced; null when nothing syncs."
    )
    rate_change = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="Points of compliance gained since the previous report; null for a first one.",
    )
    previous = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    schedule = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    csv_url = serializers.SerializerMethodField()

    class Meta:
        model = ComplianceReport
        fields = [
            "id",
            "kind",
            "title",
            "taken_at",
            "scope",
            "teacher",
            "synced",
            "compliant",
            "blocked",
            "compliance_rate",
            "rate_change",
            "open_blocking",
            "open_warning",
            "previous",
            "schedule",
            "requested_by",
            "csv_url",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "label": {"type": "string"},
                "school_ids": {"type": "array", "items": {"type": "integer"}},
            },
        }
    )
    def get_scope(self, report: ComplianceReport) -> dict:
        return {"label": report.scope_label, "school_ids": report.school_ids}

    @extend_schema_field(ReportTeacherSerializer(allow_null=True))
    def get_teacher(self, report: ComplianceReport) -> dict | None:
        if report.teacher_id is None:
            return None
        name = report.teacher.name if report.teacher else ""
        return {"canvas_id": report.teacher_id, "name": name}

    @extend_schema_field(serializers.URLField())
    def get_csv_url(self, report: ComplianceReport) -> str:
        url = reverse("api:report-csv", args=[report.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ComplianceReportDetailSerializer(ComplianceReportSerializer):
    """A report in full: its snapshot's sections and every violation it lists."""

    snapshot = serializers.JSONField(
        read_only=True,
        help_text="summary, rules, passback, and schools + teachers (summaries) or courses "
        "(teacher digests), as the report shows them.",
    )
    violations = serializers.SerializerMethodField()

    class Meta(ComplianceReportSerializer.Meta):
        fields = [*ComplianceReportSerializer.Meta.fields, "snapshot", "violations"]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "array",
            "items": {"type": "object", "additionalProperties": True},
            "description": "Open blocking and warning violations: the gpb_report keys plus "
            "first_seen and canvas_url.",
        }
    )
    def get_violations(self, report: ComplianceReport) -> list[dict]:
        return [row_as_dict(row) for row in report.violations.get("rows", [])]


@extend_schema_view(
    list=extend_schema(
        summary="List compliance reports",
        description="Kept compliance reports, newest first: district and school summaries and "
        "teacher digests, with their headline figures. An unknown `kind` answers 400.",
        parameters=[
            OpenApiParameter(
                "kind",
                OpenApiTypes.STR,
                enum=list(ReportKind.values),
                description="Only reports of this kind.",
            )
        ],
    ),
    retrieve=extend_schema(
        summary="One compliance report, in full",
        responses=ComplianceReportDetailSerializer,
    ),
)
class ComplianceReportViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ComplianceReportSerializer
    pagination_class = ViolationPagination
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[ComplianceReport]:
        reports = ComplianceReport.objects.select_related("teacher").order_by("-taken_at", "-id")
        if self.action == "list":
            kind = self.request.query_params.get("kind")
            if kind is not None and kind not in ReportKind.values:
                raise ValidationError({"kind": f"Use one of: {', '.join(ReportKind.values)}."})
            if kind:
                reports = reports.filter(kind=kind)
            return reports.defer("snapshot", "violations")
        return reports

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "retrieve":
            return ComplianceReportDetailSerializer
        return super().get_serializer_class()

    @extend_schema(
        summary="A compliance report's violations as CSV",
        description="The report's open blocking and warning violations, in the `gpb_report` "
        "CSV columns, streamed.",
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV file."),
            404: OpenApiResponse(description="No such report."),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, CsvRenderer])
    def csv(self, request: Request, pk: str | None = None) -> StreamingHttpResponse:
        report = self.get_object()
        response = StreamingHttpResponse(report_csv_chunks(report), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{csv_filename(report)}"'
        return response
