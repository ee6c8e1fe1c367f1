"""A teacher's Canvas sign-in: which imported Person a Django user is, and their Canvas tokens.

Tokens are stored encrypted (teachers/crypto.py); only ``teachers.access.canvas_client_for``
decrypts them, to act in Canvas as the teacher.
"""

from django.conf import settings
from django.db import models


class CanvasLogin(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="canvas_login"
    )
    # The imported Person may be re-imported or not imported yet: no database constraint.
    person = models.OneToOneField(
        "courses.Person",
        to_field="canvas_id",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="canvas_login",
    )
    access_token_encrypted = models.TextField(blank=True)
    refresh_token_encrypted = models.TextField(blank=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="When the access token expires (None: never)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Canvas sign-in"

    def __str__(self) -> str:
        return f"{self.user} is Canvas user {self.person_id}"
