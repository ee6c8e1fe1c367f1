"""Admin for teachers' Canvas sign-ins: who signed in as which Canvas user; never the tokens."""

from django.contrib import admin
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest

from courses.models import Person
from teachers.models import CanvasLogin


@admin.register(CanvasLogin)
class CanvasLoginAdmin(admin.ModelAdmin):
    list_display = ("user", "person_name", "person_id", "expires_at", "updated_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__first_name", "user__last_name")
    ordering = ("-updated_at",)
    # Tokens are secrets (and useless encrypted): no page shows them.
    fields = ("user", "person_id", "person_name", "expires_at", "created_at", "updated_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[CanvasLogin]:
        # The person may not be imported (no database constraint): a subquery, not a join.
        names = Person.objects.filter(canvas_id=OuterRef("person_id")).values("name")[:1]
        return super().get_queryset(request).annotate(person_name=Subquery(names))

    @admin.display(description="Canvas user", ordering="person_name")
    def person_name(self, login: CanvasLogin) -> str:
        return login.person_name or "(not imported)"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CanvasLogin | None = None) -> bool:
        return False
