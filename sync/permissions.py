"""The "district admin" group: staff who view everything imported and change only the policy.

Viewing covers every model of the district data (``courses``), of grade passback (``sync``) and of
the task queue (``django_q``, so that admins see schedules and task results); changing covers only
the district policy and its rule settings. Everything else in the admin stays read-only for them.
"""

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q

DISTRICT_ADMIN_GROUP = "district admin"
VIEWED_APPS = ("courses", "sync", "django_q")
CHANGED_MODELS = (("sync", "districtpolicy"), ("sync", "rulesetting"))


def _permissions_create(apps: Apps, using: str) -> None:
    """Make the apps' model permissions now: Django only makes them after the whole migrate."""
    for label in ("auth", *VIEWED_APPS):
        try:
            app_config = apps.get_app_config(label)
        except LookupError:
            continue
        # Migration state apps have no models module; create_permissions skips those.
        had_module = getattr(app_config, "models_module", None)
        app_config.models_module = had_module or True
        try:
            create_permissions(app_config, verbosity=0, using=using, apps=apps)
        finally:
            app_config.models_module = had_module


def district_admin_permissions(*, apps: Apps = global_apps, using: str = DEFAULT_DB_ALIAS):
    """The permissions the group holds: view on every model of VIEWED_APPS, change on two."""
    permission = apps.get_model("auth", "Permission")
    view = Q(content_type__app_label__in=VIEWED_APPS, codename__startswith="view_")
    change = Q()
    for app_label, model in CHANGED_MODELS:
        change |= Q(content_type__app_label=app_label, codename=f"change_{model}")
    return permission.objects.using(using).filter(view | change)


def district_admin_group_ensure(*, apps: Apps = global_apps, using: str = DEFAULT_DB_ALIAS):
    """Create the group if missing and grant it its permissions (permissions added by hand stay)."""
    _permissions_create(apps, using)
    group_model = apps.get_model("auth", "Group")
    group, _ = group_model.objects.using(using).get_or_create(name=DISTRICT_ADMIN_GROUP)
    group.permissions.add(*district_admin_permissions(apps=apps, using=using))
    return group
