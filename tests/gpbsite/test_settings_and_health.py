"""Settings come from the environment with safe defaults; /healthz reports the database."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def settings_seen_with(env: dict[str, str]) -> str:
    code = (
        "import django, json; from django.conf import settings; django.setup(); "
        "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
        "'q': sorted(k for k in ('orm', 'redis') if k in settings.Q_CLUSTER), "
        "'debug': settings.DEBUG}))"
    )
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "gpbsite.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout.strip() or result.stderr.strip().splitlines()[-1]


def test_with_nothing_set_the_project_runs_on_sqlite_and_the_orm_broker():
    seen = settings_seen_with({"DEBUG": "1"})
    assert '"engine": "django.db.backends.sqlite3"' in seen
    assert '"q": ["orm"]' in seen


def test_database_url_and_redis_url_switch_to_postgresql_and_redis():
    seen = settings_seen_with(
        {
            "SECRET_KEY": "x",
            "DATABASE_URL": "postgres://u@127.0.0.1:5432/db",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
        }
    )
    assert '"engine": "django.db.backends.postgresql"' in seen
    assert '"q": ["redis"]' in seen
    assert '"debug": false' in seen


def test_without_debug_a_secret_key_is_required():
    seen = settings_seen_with({})
    assert "Set SECRET_KEY" in seen


@pytest.mark.django_db
def test_healthz_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
