"""App config for imports, rules, passback and reports."""

from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Grade passback"

    def ready(self) -> None:
        # Connects the signals that keep report schedules and django-q2 in step.
        from sync.reports import signals  # noqa: F401
