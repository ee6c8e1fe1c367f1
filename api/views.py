"""The district API for staff: violations and compliance (read-only), passback runs, sync requests.

Authentication is a staff session (log in at ``/admin/``) or a token. To give a staff user a
token, an operator runs::

    python manage.py drf_create_token <username>

and the client sends ``Authorization: Token <key>`` with every request. ``drf_create_token -r``
replaces a leaked key. Users who are not staff get 403. Requests without valid credentials get
403 too: DRF answers 401 only when the first authentication class (session, in settings) can
send a ``WWW-Authenticate`` challenge.
"""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import (
    GradeOutcomeQuerySerializer,
    SyncRunFilters,
    SyncRunQuerySerializer,
    ViolationFilters,
    ViolationQuerySerializer,
)
from api.pagination import ViolationPagination
from api.selectors import (
    compliance_overview,
    run_grades,
    sync_run_counts,
    sync_runs_filtered,
    sync_runs_with_course,
    violations_filtered,
    violations_with_relations,
)
from api.serializers import (
    ComplianceSerializer,
    GradeOutcomeSerializer,
    SyncRequestedSerializer,
    SyncRequestSerializer,
    SyncRunDetailSerializer,
    SyncRunSerializer,
    ViolationSerializer,
)
from courses.models import Course
from sync.models import SyncRun, Violation
from sync.passback import QueueUnavailable, passback_request


@extend_schema_view(
    list=extend_schema(
        summary="List violations",
        description="Violations of the GPB rule book, newest first. Open ones only unless "
        "`open` says otherwise. Unknown `rule`, `severity` or `open` values answer 400.",
        parameters=[ViolationQuerySerializer],
        responses={
            200: ViolationSerializer(many=True),
            400: OpenApiResponse(
                description="A filter has an invalid value; the body names the filter and "
                "lists the valid values."
            ),
        },
    ),
    retrieve=extend_schema(summary="One violation, open or resolved"),
)
class ViolationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ViolationSerializer
    pagination_class = ViolationPagination
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Violation]:
        if self.action == "list":
            return violations_filtered(ViolationFilters.from_query(self.request.query_params))
        return violations_with_relations()


class ComplianceView(APIView):
    @extend_schema(
        summary="District compliance",
        description="The share of synced assignments with no open blocking violation: for the "
        "district, per school, per term, and what each rule costs. `rate` is null when "
        "nothing is synced.",
        responses=ComplianceSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response(ComplianceSerializer(compliance_overview()).data)


@extend_schema_view(
    list=extend_schema(
        summary="List passback runs",
        description="Runs of grade passback to Infinite Campus, newest first. An unknown "
        "`status` answers 400.",
        parameters=[SyncRunQuerySerializer],
        responses={
            200: SyncRunSerializer(many=True),
            400: OpenApiResponse(description="A filter has an invalid value."),
        },
    ),
    retrieve=extend_schema(
        summary="One passback run, with its outcome counts",
        description="`assignments` counts the run's line items (one per assignment and "
        "section) and `grades` its grades, per status; every status is present.",
        responses=SyncRunDetailSerializer,
    ),
)
class SyncRunViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SyncRunSerializer
    pagination_class = ViolationPagination
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[SyncRun]:
        if self.action == "list":
            return sync_runs_filtered(SyncRunFilters.from_query(self.request.query_params))
        return sync_runs_with_course()

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        run = self.get_object()
        context = {**self.get_serializer_context(), "counts": sync_run_counts(run)}
        return Response(SyncRunDetailSerializer(run, context=context).data)

    @extend_schema(
        summary="The grades of a passback run",
        description="One row per student grade the run considered, in the order it planned "
        "them. `status=failed` lists what Infinite Campus refused or could not take; an "
        "unknown `status` answers 400.",
        parameters=[GradeOutcomeQuerySerializer],
        responses={
            200: GradeOutcomeSerializer(many=True),
            400: OpenApiResponse(description="`status` has an invalid value."),
            404: OpenApiResponse(description="No such run."),
        },
    )
    @action(detail=True, methods=["get"], serializer_class=GradeOutcomeSerializer)
    def grades(self, request: Request, pk: str | None = None) -> Response:
        run = self.get_object()
        wanted = GradeOutcomeQuerySerializer.status_from_query(request.query_params)
        page = self.paginate_queryset(run_grades(run=run, status=wanted))
        return self.get_paginated_response(GradeOutcomeSerializer(page, many=True).data)


class CourseSyncView(APIView):
    @extend_schema(
        summary="Pass a course's grades back to Infinite Campus",
        description="Queues a passback run of the course (all sections and synced assignments "
        "unless the body names some) and answers 202 with it; a worker sends the grades. While "
        "a run of the course is queued or running, the request joins that run instead "
        "(`joined` is true) and its selection stands: two runs never send for one course.",
        request=SyncRequestSerializer,
        responses={
            202: SyncRequestedSerializer,
            400: OpenApiResponse(description="Sections or assignments not of this course."),
            404: OpenApiResponse(description="No course with this Canvas id."),
            503: OpenApiResponse(
                description="The task queue did not take the run: nothing was queued or sent."
            ),
        },
    )
    def post(self, request: Request, canvas_id: int) -> Response:
        course = get_object_or_404(Course, canvas_id=canvas_id)
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"detail": "Send a JSON object."})
        body = SyncRequestSerializer(data=request.data, context={"course_id": course.canvas_id})
        body.is_valid(raise_exception=True)
        try:
            run, created = passback_request(
                course_id=course.canvas_id,
                section_ids=body.validated_data["sections"],
                assignment_ids=body.validated_data["assignments"],
                requested_by=request.user.get_username(),
            )
        except QueueUnavailable as exc:
            return Response({"detail": str(exc)}, status.HTTP_503_SERVICE_UNAVAILABLE)
        run = sync_runs_with_course().get(pk=run.pk)  # as it is now, past the enqueue
        context = {"counts": sync_run_counts(run), "joined": not created}
        return Response(
            SyncRequestedSerializer(run, context=context).data, status.HTTP_202_ACCEPTED
        )
