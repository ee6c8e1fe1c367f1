"""The admin app, configured with the project's site; keeps the district admin group current."""

from django.contrib.admin.apps import AdminConfig
from django.db.models.signals import post_migrate


def _district_admin_group_ensure(**kwargs: object) -> None:
    from sync.permissions import district_admin_group_ensure

    district_admin_group_ensure(using=kwargs.get("using", "default"))


class ControlTowerAdminConfig(AdminConfig):
    default_site = "gpbsite.admin.ControlTowerSite"

    def ready(self) -> None:
        super().ready()
        # The data migration makes the group; models added by later migrations get their view
        # permission here, after every migrate (the same moment Django adds their permissions).
        post_migrate.connect(
            _district_admin_group_ensure, sender=self, dispatch_uid="district_admin_group"
        )
