"""Shared plumbing for the benchmarks: Django on PostgreSQL, a sandbox subprocess, RESULTS.md."""

import os
import platform
import resource
import signal
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
REDIS_URL = "redis://127.0.0.1:6379/7"


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


class Workers:
    """`manage.py qcluster` in its own process group, reading the bench's Redis queue, with
    Canvas at the sandbox and, given ``sis_concurrency``, the sandbox's IC as the SIS."""

    def __init__(
        self, sandbox: SandboxProcess, workers: int, *, sis_concurrency: int | None = None
    ) -> None:
        env = {
            **os.environ,
            "REDIS_URL": REDIS_URL,
            "Q_WORKERS": str(workers),
            "CANVAS_BASE_URL": sandbox.url,
            "LOG_LEVEL": "WARNING",
        }
        if sis_concurrency is not None:
            env |= {
                "SIS_BASE_URL": f"{sandbox.url}/ims/oneroster/gradebook/v1p2",
                "SIS_TOKEN_URL": f"{sandbox.url}/oauth/token",
                "SIS_CLIENT_ID": "sandbox-client",
                "SIS_CLIENT_SECRET": "sandbox-secret",
                "SIS_MAX_CONCURRENCY": str(sis_concurrency),
            }
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "qcluster"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )

    def peak_rss_mb(self) -> float:
        """The largest peak resident memory of any process of the cluster so far."""
        peaks = [0.0]
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                if os.getpgid(int(status.parent.name)) != self.process.pid:
                    continue
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks.append(int(line.split()[1]) / 1024)
            except (OSError, ValueError):
                continue  # the process ended meanwhile
        return max(peaks)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a worker that does not stop in time is ended
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)


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
