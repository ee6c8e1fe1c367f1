"""`manage.py setup_schedules`: apply sync/schedules.py to django-q2, idempotently."""

from typing import Any

from django.core.management.base import BaseCommand

from sync.schedules import schedules_apply


class Command(BaseCommand):
    help = (
        "Create or update every recurring job (imports, passback, compliance reports) as "
        "django-q2 schedules."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for name, created in schedules_apply():
            self.stdout.write(f"{'created' if created else 'up to date'}: {name}")
