"""The district admin's sync pages: imports, violations, policy, passback, reports, the dashboard.

Importing this package registers every admin in it; the dashboard is drawn by the project's
admin site (``gpbsite.admin``) on the admin index.
"""

from sync.admin import course_pages, dashboard, imports, passback, policy, reports, violations
from sync.admin.imports import format_duration, rows_written, run_progress

__all__ = [
    "course_pages",
    "dashboard",
    "format_duration",
    "imports",
    "passback",
    "policy",
    "reports",
    "rows_written",
    "run_progress",
    "violations",
]
