"""OAuth 2 client credentials for the simulated Infinite Campus: the token endpoint, bearer checks.

Every token request gets a new token and earlier ones stay valid until they expire: concurrent
clients each fetch their own (reference §1.4), so issuing one must not revoke another.
"""

import base64
import binascii
import json
import math
import secrets
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, unquote_plus

from sandbox.ic_errors import JSON_TYPE, Response

SWEEP_EVERY = 1000  # issued tokens between sweeps of expired ones


class TokenIssuer:
    def __init__(
        self,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",
        ttl: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.ttl = ttl
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def token_response(self, environ: dict, body: bytes) -> tuple[str, Response]:
        """(outcome for the stats, response) for a request to the token endpoint."""
        if environ.get("REQUEST_METHOD") != "POST":
            return "refused", _oauth_error(405, "invalid_request", "use POST")
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        client_id, client_secret = _basic_credentials(environ.get("HTTP_AUTHORIZATION", ""))
        if client_id is None:  # RFC 6749 also allows the credentials in the form body
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if not self._known(client_id, client_secret):
            error = _oauth_error(401, "invalid_client", "unknown client or wrong secret")
            error[1].append(("WWW-Authenticate", 'Basic realm="oneroster"'))
            return "refused", error
        if form.get("grant_type") != "client_credentials":
            return "refused", _oauth_error(
                400, "unsupported_grant_type", "grant_type must be client_credentials"
            )
        token = secrets.token_urlsafe(24)
        with self._lock:
            now = self._clock()
            self._expiry[token] = now + self.ttl
            if len(self._expiry) % SWEEP_EVERY == 0:
                self._expiry = {t: at for t, at in self._expiry.items() if at > now}
        payload = {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": max(1, math.ceil(self.ttl)),
        }
        if form.get("scope"):
            payload["scope"] = form["scope"]
        headers = [("Content-Type", JSON_TYPE), ("Cache-Control", "no-store")]
        return "issued", (200, headers, json.dumps(payload).encode())

    def _known(self, client_id: str | None, client_secret: str | None) -> bool:
        if client_id is None or client_secret is None:
            return False
        expected = (self.client_id, self.client_secret)
        # RFC 6749 form-encodes Basic credentials; most clients do not. Accept both.
        return (client_id, client_secret) == expected or (
            unquote_plus(client_id),
            unquote_plus(client_secret),
        ) == expected

    def problem(self, authorization: str) -> str | None:
        """Why a gradebook call's Authorization header is refused, or None if it is fine."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "Missing bearer access token"
        expiry = self._expiry.get(token.strip())
        if expiry is None:
            return "Unknown access token"
        if expiry <= self._clock():
            return "Access token expired"
        return None

    def forget_tokens(self) -> None:
        with self._lock:
            self._expiry = {}


def _basic_credentials(header: str) -> tuple[str | None, str | None]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    client_id, _, client_secret = decoded.partition(":")
    return client_id, client_secret


def _oauth_error(status: int, error: str, description: str) -> Response:
    body = json.dumps({"error": error, "error_description": description}).encode()
    return status, [("Content-Type", JSON_TYPE), ("Cache-Control", "no-store")], body
