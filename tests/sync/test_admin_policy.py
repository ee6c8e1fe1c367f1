"""The district policy page, and the district admin group that may change only the policy."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from sync import rules
from sync.models import DistrictPolicy, RuleSetting, Violation
from sync.permissions import (
    DISTRICT_ADMIN_GROUP,
    district_admin_group_ensure,
    district_admin_permissions,
)
from sync.policy import policy_get
from sync.violations import violations_refresh
from tests.courses.test_admin import (
    make_assignment,
    make_course,
    make_district,
    make_enrollment,
    make_person,
    make_section,
)
from tests.sync.test_admin_violations import make_district_admin, make_violation

pytestmark = pytest.mark.django_db

LONG_NAME = "Unit 4 test: quadratic equations"  # 32 characters


def policy_url() -> str:
    return reverse("admin:sync_districtpolicy_change", args=[policy_get().pk])


def form_data(client: Client, **changes: object) -> dict:
    """What the policy page would post back unchanged, with ``changes`` applied.

    ``changes`` names policy fields, or ``<rule>__enabled`` / ``<rule>__severity`` for a rule row.
    """
    context = client.get(policy_url()).context
    data = {}
    for name, field in context["adminform"].form.fields.items():
        value = context["adminform"].form.initial.get(name, field.initial)
        if value is not False and value is not None:
            data[name] = "on" if value is True else value
    (inline,) = context["inline_admin_formsets"]
    formset = inline.formset
    data.update({f"{formset.prefix}-{k}": v for k, v in formset.management_form.initial.items()})
    for index, form in enumerate(formset.forms):
        prefix = f"{formset.prefix}-{index}"
        data[f"{prefix}-id"] = form.instance.pk
        data[f"{prefix}-policy"] = form.instance.policy_id
        data[f"{prefix}-severity"] = form.instance.severity
        if form.instance.enabled:
            data[f"{prefix}-enabled"] = "on"
        for change, value in changes.items():
            rule, _, field = change.partition("__")
            if rule == form.instance.rule:
                data.pop(f"{prefix}-{field}", None)
                if value is not False:
                    data[f"{prefix}-{field}"] = "on" if value is True else value
    for change, value in changes.items():
        if "__" not in change:
            data[change] = value
    return data


def district_with_a_long_name() -> None:
    """One clean synced assignment but for its name, 32 characters long."""
    course = make_course(sis_course_id="ALG-1")
    section = make_section(course, sis_section_id="ALG-1-01")
    make_enrollment(make_person("A Student"), section, state="active")
    make_assignment(course, name=LONG_NAME, due_at=timezone.now() + timedelta(days=3))
    violations_refresh()


# --- the policy page -----------------------------------------------------------------------------


def test_the_policy_list_goes_straight_to_the_one_policy(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:sync_districtpolicy_changelist"))

    assert response.status_code == 302
    assert response["Location"] == policy_url()
    assert DistrictPolicy.objects.count() == 1


def test_the_policy_cannot_be_added_or_deleted(admin_client: Client) -> None:
    policy = policy_get()

    assert admin_client.get(reverse("admin:sync_districtpolicy_add")).status_code == 403
    delete = reverse("admin:sync_districtpolicy_delete", args=[policy.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert DistrictPolicy.objects.count() == 1


def test_the_policy_page_lists_every_rule_with_its_title_and_default_severity(
    admin_client: Client,
) -> None:
    response = admin_client.get(policy_url())

    (inline,) = response.context["inline_admin_formsets"]
    assert [form.instance.rule for form in inline.formset.forms] == list(rules.RULES)
    page = " ".join(response.content.decode().split())
    assert "Name too long" in page
    assert "Rule book default" in page
    assert '<td class="field-default_severity"> <p>warning</p> </td>' in page


def test_the_policy_page_adds_rows_for_rules_that_had_none(admin_client: Client) -> None:
    policy_get()
    RuleSetting.objects.filter(rule="differentiated").delete()

    admin_client.get(policy_url())

    assert RuleSetting.objects.filter(rule="differentiated").exists()


def test_raising_the_name_limit_resolves_the_name_violation_and_says_so(
    admin_client: Client,
) -> None:
    district_with_a_long_name()
    assert Violation.objects.filter(rule="name_too_long", resolved_at__isnull=True).exists()

    response = admin_client.post(
        policy_url(), form_data(admin_client, name_max_length=40), follow=True
    )

    assert not Violation.objects.filter(rule="name_too_long", resolved_at__isnull=True).exists()
    assert DistrictPolicy.objects.get().name_max_length == 40
    messages = [str(m) for m in response.context["messages"]]
    assert any("0 opened, 1 resolved" in m for m in messages), messages


def test_switching_a_rule_off_resolves_its_violations(admin_client: Client) -> None:
    district_with_a_long_name()

    admin_client.post(policy_url(), form_data(admin_client, name_too_long__enabled=False))

    assert not RuleSetting.objects.get(rule="name_too_long").enabled
    assert not Violation.objects.filter(rule="name_too_long", resolved_at__isnull=True).exists()


def test_a_severity_override_applies_to_open_violations(admin_client: Client) -> None:
    district_with_a_long_name()

    admin_client.post(policy_url(), form_data(admin_client, name_too_long__severity="warning"))

    violation = Violation.objects.get(rule="name_too_long", resolved_at__isnull=True)
    assert violation.severity == "warning"


# --- the district admin group --------------------------------------------------------------------


def test_the_group_views_everything_of_courses_sync_and_django_q_and_changes_only_the_policy() -> (
    None
):
    group = district_admin_group_ensure()

    granted = set(group.permissions.values_list("content_type__app_label", "codename"))
    viewed = {
        (model._meta.app_label, f"view_{model._meta.model_name}")
        for label in ("courses", "sync", "django_q")
        for model in apps.get_app_config(label).get_models()
    }
    changed = {("sync", "change_districtpolicy"), ("sync", "change_rulesetting")}
    assert granted == viewed | changed


def test_ensuring_the_group_twice_keeps_one_group_and_permissions_added_by_hand() -> None:
    group = district_admin_group_ensure()
    extra = Permission.objects.get(codename="add_user")
    group.permissions.add(extra)

    again = district_admin_group_ensure()

    assert Group.objects.filter(name=DISTRICT_ADMIN_GROUP).count() == 1
    assert again.pk == group.pk
    assert again.permissions.filter(pk=extra.pk).exists()
    assert again.permissions.count() == district_admin_permissions().count() + 1


def registered_models() -> list[type]:
    """Every admin page of the district data, grade passback and the task queue."""
    viewed = ("courses", "sync", "django_q")
    return [model for model in admin.site._registry if model._meta.app_label in viewed]


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label)
def test_a_district_admin_can_view_every_page(client: Client, model: type) -> None:
    make_district()
    make_violation(make_course())
    client.force_login(make_district_admin())
    opts = model._meta

    response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))

    assert response.status_code in (200, 302)  # the policy list redirects to the policy
    if response.status_code == 302:
        assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label)
def test_a_district_admin_can_change_only_the_policy(model: type) -> None:
    request = RequestFactory().get("/")
    request.user = make_district_admin()
    model_admin = admin.site.get_model_admin(model)

    may_change = model_admin.has_change_permission(request)
    may_add_or_delete = model_admin.has_add_permission(request) or (
        model_admin.has_delete_permission(request)
    )

    assert may_change == (model is DistrictPolicy)
    assert not may_add_or_delete


def test_a_district_admin_can_save_the_policy(client: Client) -> None:
    client.force_login(make_district_admin())

    response = client.post(policy_url(), form_data(client, sync_window_days=14))

    assert response.status_code == 302
    assert DistrictPolicy.objects.get().sync_window_days == 14


def test_a_district_admin_cannot_manage_users(client: Client) -> None:
    user = make_district_admin()
    client.force_login(user)

    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert client.get(reverse("admin:auth_user_change", args=[user.pk])).status_code == 403


def test_the_group_is_made_by_the_migrations() -> None:
    group = Group.objects.get(name=DISTRICT_ADMIN_GROUP)

    assert group.permissions.filter(codename="change_districtpolicy").exists()
    assert not User.objects.filter(groups=group).exists()
