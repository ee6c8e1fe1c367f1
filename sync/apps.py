"""App config for imports, rules, passback and reports."""

from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Grade passback"
