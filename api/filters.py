"""The violation list's query parameters, validated by a serializer into ``ViolationFilters``.

The serializer is also what the OpenAPI schema reads, so the documented parameters (types and
enums) are exactly the ones the view accepts.
"""

from dataclasses import dataclass

from rest_framework import serializers

from sync import rules

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
