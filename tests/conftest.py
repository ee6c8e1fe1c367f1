"""Suite-wide fixtures: no test may reach the network beyond this machine, or inherit the
SIS tokens an earlier test fetched."""

import ipaddress
import socket

import pytest

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> None:
    if isinstance(address, tuple):
        host = address[0]
        try:
            allowed = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            allowed = False
        if not allowed:
            raise RuntimeError(f"Tests must not reach the network (tried {address!r})")
    _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture(autouse=True)
def _fresh_sis_tokens() -> None:
    """Each test starts without the OneRoster tokens and connections earlier tests' clients
    shared."""
    from sync import oneroster

    oneroster._shared_slots.clear()
    oneroster._kept.clear()
