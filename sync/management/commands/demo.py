"""`manage.py demo`: the first look — a simulated district, imported, browsable in the admin."""

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sync.importer import district_import
from sync.schedules import schedules_apply

DEMO_USERNAME = "admin"
DEMO_REPORT_RECIPIENT = "district-leaders@example.org"


class Command(BaseCommand):
    help = (
        "Migrate, serve the simulated district, import it, create a demo admin login, then serve "
        "the admin at http://127.0.0.1:8000 with a django-q2 worker, until Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", default="small", choices=["small", "district", "large"])
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--sandbox-port", type=int, default=8765)
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        # The sandbox is only ever used by the demo, benchmarks and tests.
        from sandbox.generator import District
        from sandbox.server import SandboxServer

        # A plain `kill` (SIGTERM) must also stop the worker and the sandbox: exit through
        # the finally blocks below instead of dying on the spot.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        self.stdout.write("1/4 Preparing the database ...")
        call_command("migrate", interactive=False, verbosity=0)

        self.stdout.write(f"2/4 Serving a simulated '{options['size']}' district ...")
        sandbox = SandboxServer(
            District(options["size"], seed=options["seed"]),
            port=options["sandbox_port"],
            token=settings.CANVAS_TOKEN,
        )
        try:
            sandbox.start()
        except OSError as exc:
            raise CommandError(
                f"Cannot serve the sandbox on port {options['sandbox_port']} ({exc}); "
                f"stop whatever uses it or pass --sandbox-port."
            ) from exc
        sandbox_settings = {
            "CANVAS_BASE_URL": sandbox.url,
            "SIS_BASE_URL": sandbox.sis_base_url,
            "SIS_TOKEN_URL": sandbox.sis_token_url,
            "SIS_CLIENT_ID": "sandbox-client",
            "SIS_CLIENT_SECRET": "sandbox-secret",
        }
        for name, value in sandbox_settings.items():
            setattr(settings, name, value)
        worker = None
        try:
            self.stdout.write(f"   Canvas sandbox at {sandbox.url}")
            self.stdout.write(f"   Infinite Campus sandbox at {sandbox.sis_base_url}")
            self.stdout.write("3/4 Importing it from the sandbox's Canvas API ...")
            run = district_import(full=True, requested_by="make demo")
            status = run.get_status_display().lower()
            self.stdout.write(
                f"   import #{run.pk} {status}: {run.courses_done} courses, "
                + ", ".join(f"{k} {v:,}" for k, v in run.counts.items())
            )
            for error in run.errors.all():
                self.stdout.write(f"   course {error.course_canvas_id}: {error.message}")
            self._compliance_report()

            schedules_apply()
            password = self._demo_admin()
            worker = self._start_worker(sandbox_settings)
            self.stdout.write("4/4 Serving the dashboard. Sign in with:")
            self.stdout.write(self.style.SUCCESS(f"   http://127.0.0.1:{options['port']}/admin/"))
            self.stdout.write(self.style.SUCCESS(f"   user {DEMO_USERNAME}  password {password}"))
            self.stdout.write(
                "   A django-q2 worker runs the schedules and passback runs; Ctrl-C stops all."
            )
            self.stdout.write(
                "   Try: Courses > select some > 'Pass grades back to Infinite Campus', then "
                "follow them under Sync runs."
            )
            self.stdout.write(
                self.style.SUCCESS(f"   Teachers: http://127.0.0.1:{options['port']}/teacher/")
            )
            self.stdout.write(
                "   'Sign in with Canvas' opens the sandbox's Canvas sign-in page: pick a teacher"
                + self._teacher_hint()
                + ", fix a problem in place, post grades and watch the run."
            )
            call_command("runserver", f"127.0.0.1:{options['port']}", use_reloader=False)
        finally:
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()  # the cluster waits for busy tasks; a demo need not
                    worker.wait()
            sandbox.stop()

    def _compliance_report(self) -> None:
        """Take a district compliance report and e-mail it to the console (whatever EMAIL_URL
        says: a demo never mails anyone)."""
        from django.core.mail import get_connection

        from sync.reports import summary_send

        recipients = list(settings.REPORT_RECIPIENTS) or [DEMO_REPORT_RECIPIENT]
        self.stdout.write("   Taking a district compliance report, e-mailed to the console:")
        self.stdout.flush()
        result = summary_send(
            recipients=recipients,
            requested_by="make demo",
            connection=get_connection("django.core.mail.backends.console.EmailBackend"),
        )
        self.stdout.write(
            f"   {result.line()}. It is kept in the admin: Grade passback > Compliance reports."
        )

    def _teacher_hint(self) -> str:
        """A teacher with a name to fix, so the first try shows a fix in place."""
        from courses.models import Enrollment
        from sync.models import Violation

        fixable = Violation.objects.filter(
            resolved_at__isnull=True, rule__in=["name_too_long", "missing_due_date"]
        ).values("course_id")
        teacher = (
            Enrollment.objects.filter(
                type="teacher", state="active", deleted=False, course_id__in=fixable
            )
            .select_related("person")
            .order_by("person__sortable_name")
            .first()
        )
        return f" (e.g. {teacher.person.name})" if teacher else ""

    def _demo_admin(self) -> str:
        """A superuser with a fresh random password, printed once."""
        password = secrets.token_urlsafe(9)
        user, _ = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME, defaults={"email": "admin@example.org"}
        )
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        return password

    def _start_worker(self, sandbox_settings: dict[str, str]) -> subprocess.Popen:
        env = {**os.environ, **sandbox_settings}
        manage = Path(settings.BASE_DIR) / "manage.py"
        return subprocess.Popen([sys.executable, str(manage), "qcluster"], env=env)
