"""Routes of the API, mounted at ``/api/v1/``: violations, compliance, passback, reports, docs."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import IsAdminUser
from rest_framework.routers import SimpleRouter

from api.docs import ApiDocsView
from api.reports import ComplianceReportViewSet
from api.views import ComplianceView, CourseSyncView, SyncRunViewSet, ViolationViewSet

app_name = "api"

router = SimpleRouter()
router.register("violations", ViolationViewSet, basename="violation")
router.register("sync-runs", SyncRunViewSet, basename="sync-run")
router.register("reports", ComplianceReportViewSet, basename="report")

urlpatterns = [
    *router.urls,
    path("compliance/", ComplianceView.as_view(), name="compliance"),
    path("courses/<int:canvas_id>/sync/", CourseSyncView.as_view(), name="course-sync"),
    # The schema is staff-only like the rest of the API (drf-spectacular serves it to anyone
    # by default).
    path(
        "schema/",
        SpectacularAPIView.as_view(permission_classes=[IsAdminUser]),
        name="schema",
    ),
    path("docs/", ApiDocsView.as_view(), name="docs"),
]
