"""The district API: violations and compliance, read-only, for staff.

Authentication is a staff session (log in at ``/admin/``) or a token. To give a staff user a
token, an operator runs::

    python manage.py drf_create_token <username>

and the client sends ``Authorization: Token <key>`` with every request. ``drf_create_token -r``
replaces a leaked key. Users who are not staff get 403. Requests without valid credentials get
403 too: DRF answers 401 only when the first authentication class (session, in settings) can
send a ``WWW-Authenticate`` challenge.
"""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import ViolationFilters, ViolationQuerySerializer
from api.pagination import ViolationPagination
from api.selectors import compliance_overview, violations_filtered, violations_with_relations
from api.serializers import ComplianceSerializer, ViolationSerializer
from sync.models import Violation


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
