"""Shared plumbing for the benchmarks: Django on PostgreSQL, a sandbox subprocess, RESULTS.md."""

import os
import platform
import resource
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/gpb_bench"


def setup_django() -> None:
    """Point Django at the benchmark database (created if missing) and migrate it."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gpbsite.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgres"):
        name = url.rsplit("/", 1)[1]
        import psycopg

        admin_url = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SandboxProcess:
    """`manage.py sandbox` in its own process, so it does not share our interpreter's GIL."""

    def __init__(self, size: str, seed: int = 1, faults: float = 0.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [
            sys.executable,
            str(ROOT / "manage.py"),
            "sandbox",
            "--size",
            size,
            "--seed",
            str(seed),
            "--port",
            str(self.port),
            "--faults",
            str(faults),
        ]
        env = {**os.environ, "DEBUG": "1"}
        self.process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, cwd=ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/_sandbox/stats", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the sandbox did not start within 60 s")

    def control(self, path: str, **params: object) -> dict:
        response = requests.post(f"{self.url}/_sandbox/{path}", params=params, timeout=600)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)

    def __enter__(self) -> "SandboxProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    cores = os.cpu_count()
    with open("/proc/meminfo") as fh:
        mem_kb = int(fh.readline().split()[1])
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = f"{mem_kb / 1024 / 1024:.0f} GiB"
    return f"{platform.node()}: {cpu}, {cores} cores, {memory}, Python {platform.python_version()}"


def append_results(title: str, lines: list[str]) -> None:
    """Append a dated section to bench/RESULTS.md and echo it."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = [f"## {title} — {stamp}", "", f"Machine: {machine()}", "", *lines, ""]
    text = "\n".join(block) + "\n"
    print(text)
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Benchmark results\n\nEvery figure below was printed by the named script; "
            "newest last. Do not edit by hand.\n\n"
        )
    with RESULTS.open("a") as fh:
        fh.write(text)
