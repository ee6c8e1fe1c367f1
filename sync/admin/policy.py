"""The district policy page: one row with a switch and a severity per rule; saving re-evaluates."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from sync import rules
from sync.models import DistrictPolicy, RuleSetting
from sync.policy import policy_get
from sync.violations import violations_refresh


def rule_book_order() -> Case:
    """Rule settings in the rule book's order (RuleSetting ids follow creation, not the book)."""
    return Case(
        *(When(rule=code, then=Value(index)) for code, index in rules.RULE_ORDER.items()),
        default=Value(len(rules.RULE_ORDER)),
        output_field=IntegerField(),
    )


class RuleSettingInline(admin.TabularInline):
    model = RuleSetting
    fields = ("rule", "title", "default_severity", "enabled", "severity")
    readonly_fields = ("rule", "title", "default_severity")
    extra = 0
    can_delete = False
    verbose_name = "rule"
    verbose_name_plural = "rules"

    class Media:
        css = {"all": ["sync/policy.css"]}  # the rule column already names each row

    def get_queryset(self, request: HttpRequest) -> QuerySet[RuleSetting]:
        return super().get_queryset(request).order_by(rule_book_order(), "rule")

    def has_add_permission(self, request: HttpRequest, obj: DistrictPolicy | None = None) -> bool:
        return False  # one row per rule of the book, created by policy_get

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "severity":
            kwargs["choices"] = [("", "Rule book default"), *RuleSetting.Severity.choices]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    @admin.display(description="title")
    def title(self, obj: RuleSetting) -> str:
        spec = rules.RULES.get(obj.rule)
        return f"{spec.title}: {spec.description}" if spec else "(no longer in the rule book)"

    @admin.display(description="default severity")
    def default_severity(self, obj: RuleSetting) -> str:
        spec = rules.RULES.get(obj.rule)
        return spec.default_severity if spec else "-"


@admin.register(DistrictPolicy)
class DistrictPolicyAdmin(admin.ModelAdmin):
    fieldsets = (
        (
            "Rule book",
            {
                "fields": ("name_max_length", "allow_section_due_dates"),
                "description": "Saving re-evaluates every rule over the whole district, which "
                "takes a while on a large one; the open and resolved counts follow.",
            },
        ),
        ("Passback", {"fields": ("sync_window_days", "remove_unsynced_line_items")}),
        (None, {"fields": ("updated_at",)}),
    )
    readonly_fields = ("updated_at",)
    inlines = (RuleSettingInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the one row is made by policy_get

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        """There is one policy: the list goes straight to it (creating it on first visit)."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        policy = policy_get()
        return HttpResponseRedirect(reverse("admin:sync_districtpolicy_change", args=[policy.pk]))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        policy_get()  # a setting row for every rule, including rules added since the last visit
        return super().change_view(request, object_id, form_url, extra_context)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        summary = violations_refresh()
        self.message_user(
            request,
            f"Violations re-evaluated under the new policy: {summary.opened:,} opened, "
            f"{summary.resolved:,} resolved, {summary.open:,} open now.",
        )
