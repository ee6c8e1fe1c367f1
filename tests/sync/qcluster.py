"""A real `manage.py qcluster` in a subprocess on the test database, for the tests that need
django-q2's own workers (crash safety, lanes)."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{db['USER'] or 'postgres'}@{host}:{port}/{db['NAME']}"


def start_worker(**env: str) -> subprocess.Popen:
    """One qcluster with one worker on the database broker; ``env`` adds settings."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gpbsite.settings",
        "SECRET_KEY": settings.SECRET_KEY,  # django-q2 signs tasks with it
        "DATABASE_URL": database_url(),
        "REDIS_URL": "",
        "Q_WORKERS": "1",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "qcluster"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("QCLUSTER_TEST_LOG", os.devnull), "a"),  # noqa: SIM115
        start_new_session=True,  # SIGKILL the whole cluster (its workers are children)
    )


def kill(worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False
