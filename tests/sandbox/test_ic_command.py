"""`manage.py sandbox` serves IC beside Canvas and prints the SIS settings to use."""

import os
import select
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[2]


def test_a_vendor_key_without_a_secret_is_refused():
    with pytest.raises(CommandError, match="--sis-vendor-key and --sis-vendor-secret"):
        call_command("sandbox", sis_vendor_key="key")


def test_unknown_ic_fault_kinds_are_refused():
    with pytest.raises(CommandError, match="--ic-fault-kinds"):
        call_command("sandbox", ic_fault_kinds="500,teapot")


def test_an_ic_fault_rate_above_one_is_refused():
    with pytest.raises(CommandError, match="--faults-ic must be between 0 and 1"):
        call_command("sandbox", faults_ic=1.5)


def read_lines_until(process: subprocess.Popen, prefix: str, timeout: float = 30) -> list[str]:
    """stdout lines up to the one starting with `prefix`; fails instead of blocking forever."""
    received = b""
    fd = process.stdout.fileno()
    while not any(line.startswith(prefix) for line in received.decode().splitlines()):
        ready, _, _ = select.select([fd], [], [], timeout)
        assert ready, f"no line starting with {prefix!r} in {received!r}"
        chunk = os.read(fd, 65536)
        assert chunk, f"the command ended after {received!r}"
        received += chunk
    return [line.strip() for line in received.decode().splitlines()]


@pytest.mark.slow
def test_the_command_prints_the_sis_settings_and_serves_ic_on_the_canvas_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "gpbsite.test_settings"}
    command = [
        sys.executable,
        "manage.py",
        "sandbox",
        "--port",
        str(port),
        "--sis-client-id",
        "app",
        "--sis-client-secret",
        "pw",
        "--sis-vendor-key",
        "vk",
        "--sis-vendor-secret",
        "vs",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE)
    try:
        lines = read_lines_until(process, "SIS_VENDOR_SECRET=")
        origin = f"http://127.0.0.1:{port}"
        assert origin in lines[0]
        settings = dict(line.split("=", 1) for line in lines if "=" in line and " " not in line)
        assert settings == {
            "CANVAS_BASE_URL": origin,
            "CANVAS_TOKEN": "sandbox-token",
            "CANVAS_OAUTH_CLIENT_ID": "10000000000001",
            "CANVAS_OAUTH_CLIENT_SECRET": "sandbox-developer-key",
            "SIS_BASE_URL": f"{origin}/ims/oneroster/gradebook/v1p2",
            "SIS_TOKEN_URL": f"{origin}/oauth/token",
            "SIS_CLIENT_ID": "app",
            "SIS_CLIENT_SECRET": "pw",
            "SIS_VENDOR_KEY": "vk",
            "SIS_VENDOR_SECRET": "vs",
        }
        token = requests.post(
            settings["SIS_TOKEN_URL"],
            auth=("app", "pw"),
            data={"grant_type": "client_credentials"},
            timeout=5,
        ).json()["access_token"]
        response = requests.get(
            f"{settings['SIS_BASE_URL']}/classes/NO-SUCH-CLASS/categories",
            headers={"Authorization": f"Bearer {token}", "x-vendor-authorization": "vk:vs"},
            timeout=5,
        )
        assert response.status_code == 404 and "imsx_codeMajor" in response.json()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
