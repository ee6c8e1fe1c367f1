"""The district policy: the admin-edited row, created from settings, turned into rule input."""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from sync import rules
from sync.models import DistrictPolicy, RuleSetting


def policy_get() -> DistrictPolicy:
    """The one DistrictPolicy row, created with the settings' defaults and a row per rule."""
    policy = DistrictPolicy.objects.filter(pk=1).first()
    if policy is None:
        with transaction.atomic():
            policy, _ = DistrictPolicy.objects.get_or_create(
                pk=1,
                defaults={
                    "name_max_length": settings.GPB_NAME_MAX_LENGTH,
                    "sync_window_days": settings.GPB_SYNC_WINDOW_DAYS,
                },
            )
    missing = set(rules.RULES) - set(policy.rules.values_list("rule", flat=True))
    if missing:
        RuleSetting.objects.bulk_create(
            [RuleSetting(policy=policy, rule=code) for code in rules.RULES if code in missing],
            ignore_conflicts=True,
        )
    return policy


def policy_for_rules(policy: DistrictPolicy) -> rules.Policy:
    """The rule book's view of the policy row."""
    settings_rows = list(policy.rules.all())
    return rules.Policy(
        name_max_length=policy.name_max_length,
        sync_window_days=policy.sync_window_days,
        allow_section_due_dates=policy.allow_section_due_dates,
        disabled=frozenset(r.rule for r in settings_rows if not r.enabled),
        severity={r.rule: r.severity for r in settings_rows if r.severity},
        display_tz=ZoneInfo(settings.TIME_ZONE),
    )
