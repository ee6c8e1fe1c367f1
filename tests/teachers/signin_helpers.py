"""Helpers for the sign-in tests: a sandbox Canvas on 127.0.0.1, importing a teacher's courses,
and playing the browser's part of the OAuth round trip."""

import html
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse

from sandbox.generator import District
from sandbox.server import SandboxServer
from sync.canvas import CanvasClient
from sync.importer import district_import
from sync.models import ImportRun

ADMIN_TOKEN = "sandbox-token"
SEED = 5


@pytest.fixture
def sandbox(settings) -> Iterator[SandboxServer]:
    """A sandbox Canvas the settings point at (its developer key is the default one)."""
    with SandboxServer(District("small", seed=SEED), token=ADMIN_TOKEN) as server:
        settings.CANVAS_BASE_URL = server.url
        settings.CANVAS_TOKEN = ADMIN_TOKEN
        settings.CANVAS_MAX_RETRIES = 1
        settings.CANVAS_TIMEOUT = 10.0
        yield server


def teacher_of(server: SandboxServer, course_id: int) -> int:
    """The Canvas id of the (first) teacher of a course."""
    layout = server.district.layout
    return layout.teachers_of(layout.course_index(course_id))[0]


def courses_of(server: SandboxServer, user_id: int) -> list[int]:
    layout = server.district.layout
    return [
        cid
        for cid in server.district.course_ids()
        if user_id in layout.teachers_of(layout.course_index(cid))
    ]


def import_courses(server: SandboxServer, course_ids: list[int]) -> ImportRun:
    client = CanvasClient(server.url, ADMIN_TOKEN, timeout=10, backoff_base=0.01)
    try:
        run = district_import(client=client, course_ids=course_ids, concurrency=1)
    finally:
        client.close()
    assert run.status == ImportRun.Status.SUCCEEDED, run.message
    return run


def canvas_choose(authorize_url: str, user_id: int | None, *, search: str = "") -> str:
    """Open Canvas's sign-in page and pick the user (None: Cancel); return the redirect URL."""
    page = requests.get(authorize_url, params={"search": search} if search else None, timeout=10)
    assert page.status_code == 200, page.text
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', page.text)
        if name in ("client_id", "redirect_uri", "state")
    }
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
    if user_id is None:
        answer = requests.post(
            f"{origin}/login/oauth2/deny", data=fields, timeout=10, allow_redirects=False
        )
    else:
        data = {**fields, "user_id": str(user_id)}
        answer = requests.post(
            f"{origin}/login/oauth2/accept", data=data, timeout=10, allow_redirects=False
        )
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def local_path(url: str) -> str:
    """The path and query of a URL on the Django test server."""
    parts = urlsplit(url)
    assert parts.netloc == "testserver", url
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def sign_in_with_canvas(client: Client, user_id: int | None, *, next_url: str = ""):
    """The whole round trip: start here, choose on Canvas, come back to the callback."""
    data = {"next": next_url} if next_url else {}
    start = client.post(reverse("teachers:oauth_start"), data)
    assert start.status_code == 302
    callback = canvas_choose(start["Location"], user_id)
    return client.get(local_path(callback))
