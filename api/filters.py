"""The lists' query parameters, validated by serializers into ``ViolationFilters`` and friends.

The serializer is also what the OpenAPI schema reads, so the documented parameters (types and
enums) are exactly the ones the view accepts.
"""

from dataclasses import dataclass

from rest_framework import serializers

from sync import rules
from sync.models import GradeOutcome, SyncRun

OPEN_CHOICES = ("true", "false", "all")
# Labels become the enum descriptions of the OpenAPI schema.
RULE_CHOICES = [(code, spec.title) for code, spec in rules.RULES.items()]
SEVERITY_CHOICES = [
    (rules.BLOCKING, "stops the passback of what it names"),
    (rules.WARNING, "shown, does not block"),
    (rules.INFO, "advice"),
]
OPEN_VALUE_CHOICES = [("true", "unresolved only"), ("false", "resolved only"), ("all", "both")]


def _invalid_choice(what: str, valid: tuple[str, ...] | list[str]) -> str:
    # DRF fills "{input}" in with the rejected value when it raises the error.
    return f'Unknown {what} "{{input}}". Valid values: {", ".join(valid)}.'


class ViolationQuerySerializer(serializers.Serializer):
    """Filters of ``GET /api/v1/violations/``; every one is optional."""

    school = serializers.IntegerField(
        required=False,
        help_text="School (account) Canvas id; includes every sub-account below it.",
    )
    term = serializers.IntegerField(required=False, help_text="Term Canvas id.")
    course = serializers.IntegerField(required=False, help_text="Course Canvas id.")
    teacher = serializers.IntegerField(
        required=False,
        help_text="Person Canvas id: violations of the courses this person actively teaches.",
    )
    rule = serializers.ChoiceField(
        choices=RULE_CHOICES,
        required=False,
        help_text="Rule code from the GPB rule book.",
        error_messages={"invalid_choice": _invalid_choice("rule code", list(rules.RULES))},
    )
    severity = serializers.ChoiceField(
        choices=SEVERITY_CHOICES,
        required=False,
        error_messages={"invalid_choice": _invalid_choice("severity", rules.SEVERITIES)},
    )
    open = serializers.ChoiceField(
        choices=OPEN_VALUE_CHOICES,
        required=False,
        default="true",
        help_text="Resolved or not (default: unresolved only).",
        error_messages={"invalid_choice": _invalid_choice("open value", OPEN_CHOICES)},
    )


@dataclass(frozen=True)
class ViolationFilters:
    """The validated filters; ``None`` means "do not filter on this"."""

    school: int | None = None
    term: int | None = None
    course: int | None = None
    teacher: int | None = None
    rule: str | None = None
    severity: str | None = None
    open: str = "true"

    @classmethod
    def from_query(cls, params: dict) -> "ViolationFilters":
        """Validate query parameters; invalid ones raise a ValidationError (HTTP 400)."""
        query = ViolationQuerySerializer(data=params)
        query.is_valid(raise_exception=True)
        return cls(**query.validated_data)


class SyncRunQuerySerializer(serializers.Serializer):
    """Filters of ``GET /api/v1/sync-runs/``; every one is optional."""

    course = serializers.IntegerField(required=False, help_text="Course Canvas id.")
    status = serializers.ChoiceField(
        choices=SyncRun.Status.choices,
        required=False,
        error_messages={"invalid_choice": _invalid_choice("run status", SyncRun.Status.values)},
    )


@dataclass(frozen=True)
class SyncRunFilters:
    course: int | None = None
    status: str | None = None

    @classmethod
    def from_query(cls, params: dict) -> "SyncRunFilters":
        query = SyncRunQuerySerializer(data=params)
        query.is_valid(raise_exception=True)
        return cls(**query.validated_data)


class GradeOutcomeQuerySerializer(serializers.Serializer):
    """Filters of ``GET /api/v1/sync-runs/{id}/grades/``."""

    status = serializers.ChoiceField(
        choices=GradeOutcome.Status.choices,
        required=False,
        help_text="What the run did with the grade.",
        error_messages={
            "invalid_choice": _invalid_choice("grade status", GradeOutcome.Status.values)
        },
    )

    @classmethod
    def status_from_query(cls, params: dict) -> str | None:
        """The validated status filter, or None; an unknown one raises a ValidationError (400)."""
        query = cls(data=params)
        query.is_valid(raise_exception=True)
        return query.validated_data.get("status")
