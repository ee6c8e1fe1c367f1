"""Serving: the in-process server's lifecycle, keep-alive, and the `sandbox` command."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

from sandbox.generator import District
from sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parents[2]


def test_the_server_runs_as_a_context_manager_and_frees_its_port():
    with SandboxServer(District("small", seed=0)) as server:
        url = server.url
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(f"{url}/_sandbox/stats", timeout=5).status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/_sandbox/stats", timeout=2)


def test_the_server_points_assignment_links_at_itself(server):
    assignment = server.district.course(1001).assignments[0]
    assert assignment["html_url"].startswith(f"{server.url}/courses/1001/assignments/")


def test_a_session_reuses_one_keep_alive_connection(server, client):
    for _ in range(5):
        assert client.get(f"{server.url}/api/v1/accounts/1/terms").status_code == 200
    assert server.connections_accepted == 1


def test_a_connection_close_request_is_answered_and_closed(server):
    with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1]))) as sock:
        sock.sendall(b"GET /_sandbox/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 200 OK")
    assert b"Connection: close" in received


def test_the_command_reports_a_taken_port_in_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match=f"cannot listen on 127.0.0.1:{port}"):
            call_command("sandbox", port=port)


@pytest.mark.slow
def test_the_command_serves_in_the_foreground_until_interrupted():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "gpbsite.test_settings"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", "--port", str(port), "--seed", "3"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}" in line and "small" in line
        headers = {"Authorization": "Bearer sandbox-token"}
        response = requests.get(
            f"http://127.0.0.1:{port}/api/v1/accounts/1/terms", headers=headers, timeout=5
        )
        assert response.status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
