"""The project's admin site: the GPB control tower, opening on the district dashboard."""

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.module_loading import import_string


class ControlTowerSite(admin.AdminSite):
    site_header = "GPB control tower"
    site_title = "GPB control tower"
    index_title = "District dashboard"
    index_template = "admin/gpb_index.html"
    # A dotted path, resolved on each visit: the site is built while the apps' admin modules
    # register, before the module drawing the dashboard can be imported.
    dashboard = "sync.admin.dashboard.dashboard_context"
    dashboard_permission = "sync.view_violation"

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> TemplateResponse:
        context = {}
        if request.user.has_perm(self.dashboard_permission):
            context = import_string(self.dashboard)()
        return super().index(request, {**context, **(extra_context or {})})
