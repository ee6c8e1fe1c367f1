"""App config for the imported district data."""

from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = "District data (from Canvas)"
