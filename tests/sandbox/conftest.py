"""Fixtures for sandbox tests: a generated district and in-process servers on 127.0.0.1:0."""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
import requests

from sandbox.generator import District
from sandbox.server import SandboxServer

TOKEN = "sandbox-token"


@pytest.fixture(scope="session")
def small_district() -> District:
    """Read-only: tests that mutate a district make their own."""
    return District("small", seed=0)


@pytest.fixture
def serve() -> Iterator[Callable[..., AbstractContextManager[SandboxServer]]]:
    """`with serve(district, **options) as server:` starts a server and always stops it."""

    @contextmanager
    def start(district: District | None = None, **options) -> Iterator[SandboxServer]:
        server = SandboxServer(district or District("small", seed=0), **options)
        with server:
            yield server

    yield start


@pytest.fixture
def server(serve) -> Iterator[SandboxServer]:
    with serve() as running:
        yield running


@pytest.fixture
def client() -> Iterator[requests.Session]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    yield session
    session.close()
