"""Canvas OAuth2 (authorization code flow): the authorize URL and the token endpoint exchanges.

HTTP only, no ORM. Errors are ``CanvasError`` with ``kind="auth"`` when Canvas refused the
grant or the developer key, ``unreachable`` when no answer came. A token request is a POST that
creates a token (and uses up a one-time code), so it is never retried once it may have reached
Canvas; only a connection that was certainly never made is tried again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests

from sync.canvas import CanvasError, sent_nothing
from sync.http_transport import describe_transport_error

logger = logging.getLogger(__name__)

AUTHORIZE_PATH = "/login/oauth2/auth"
TOKEN_PATH = "/login/oauth2/token"
_CONNECT_ATTEMPTS = 3
_MESSAGE_MAX_CHARS = 200


@dataclass(frozen=True, slots=True)
class CanvasTokens:
    """What the token endpoint granted. ``refresh_token`` is empty on a refresh (Canvas keeps
    the original one valid); ``expires_at`` is None for a token that does not expire."""

    access_token: str
    refresh_token: str
    expires_at: datetime | None
    user_id: int | None
    user_name: str

    def __repr__(self) -> str:
        # Tokens are secrets: keep them out of tracebacks, logs and debug pages.
        return f"CanvasTokens(user_id={self.user_id!r}, expires_at={self.expires_at!r})"


class CanvasOAuthClient:
    """The token endpoint of one Canvas, for one developer key."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float = 30.0,
        sleep: Any = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self._timeout = timeout
        self._sleep = sleep

    def authorize_url(self, *, redirect_uri: str, state: str) -> str:
        """Where to send the teacher's browser to ask for a code."""
        query = urlencode(
            {
                "client_id": self.client_id,
                "response_type": "code",
                "redirect_uri": redirect_uri,
                "state": state,
            }
        )
        return f"{self.base_url}{AUTHORIZE_PATH}?{query}"

    def exchange_code(self, *, code: str, redirect_uri: str, now: datetime) -> CanvasTokens:
        """Trade the one-time code from the callback for an access and a refresh token."""
        body = self._token_request(
            {
                "grant_type": "authorization_code",
                "client_id": self.client_id,
                "client_secret": self._client_secret,
                "redirect_uri": redirect_uri,
                "code": code,
            }
        )
        tokens = _tokens(body, now)
        if not tokens.refresh_token:
            raise CanvasError(
                "Canvas granted no refresh token: check that the developer key is a standard "
                "API key (CANVAS_OAUTH_CLIENT_ID)",
                kind="bad_json",
                url=self.base_url + TOKEN_PATH,
            )
        return tokens

    def refresh(self, *, refresh_token: str, now: datetime) -> CanvasTokens:
        """A new access token for the refresh token (which stays valid and is not returned)."""
        body = self._token_request(
            {
                "grant_type": "refresh_token",
                "client_id": self.client_id,
                "client_secret": self._client_secret,
                "refresh_token": refresh_token,
            }
        )
        return _tokens(body, now)

    def _token_request(self, form: dict[str, str]) -> dict:
        url = self.base_url + TOKEN_PATH
        for attempt in range(1, _CONNECT_ATTEMPTS + 1):
            try:
                response = requests.post(
                    url,
                    data=form,
                    headers={"Accept": "application/json"},
                    timeout=(min(10.0, self._timeout), self._timeout),
                )
                break
            except (requests.ConnectionError, requests.Timeout) as exc:
                # A POST that may have reached Canvas could have used the code up: retrying it
                # would fail with invalid_grant and hide the real cause.
                if not sent_nothing(exc) or attempt == _CONNECT_ATTEMPTS:
                    raise CanvasError(
                        f"Cannot reach Canvas at {self.base_url} to sign in "
                        f"({describe_transport_error(exc)}): check CANVAS_BASE_URL",
                        kind="unreachable",
                        url=url,
                    ) from exc
                logger.warning("Canvas token endpoint unreachable; retry %d", attempt)
                self._sleep(0.5 * attempt)
            except requests.RequestException as exc:
                raise CanvasError(
                    f"Cannot reach Canvas at {self.base_url} to sign in "
                    f"({describe_transport_error(exc)}): check CANVAS_BASE_URL",
                    kind="unreachable",
                    url=url,
                ) from exc
        if response.status_code >= 400:
            raise _grant_error(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise CanvasError(
                f"Canvas sent a sign-in answer that is not valid JSON at {url}",
                kind="bad_json",
                status=response.status_code,
                url=url,
            ) from exc
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise CanvasError(
                f"Canvas sent a sign-in answer without an access token at {url}",
                kind="bad_json",
                status=response.status_code,
                url=url,
            )
        return body


def _tokens(body: dict, now: datetime) -> CanvasTokens:
    expires_in = body.get("expires_in")
    expires_at = None
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
        expires_at = now + timedelta(seconds=expires_in)
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    user_id = user.get("id")
    refresh_token = body.get("refresh_token")
    return CanvasTokens(
        access_token=body["access_token"],
        refresh_token=refresh_token if isinstance(refresh_token, str) else "",
        expires_at=expires_at,
        user_id=user_id if isinstance(user_id, int) and not isinstance(user_id, bool) else None,
        user_name=str(user.get("name") or ""),
    )


def _grant_error(response: requests.Response) -> CanvasError:
    """Canvas answers {"error": "invalid_grant", "error_description": "..."} (400 or 401)."""
    code, description = "", ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = str(body.get("error") or "")
        description = str(body.get("error_description") or "")
    description = " ".join(description.split())[:_MESSAGE_MAX_CHARS]
    status = response.status_code
    if code == "invalid_client":
        text = (
            f"Canvas does not accept this application's developer key (HTTP {status}): check "
            "CANVAS_OAUTH_CLIENT_ID and CANVAS_OAUTH_CLIENT_SECRET"
        )
    elif code == "invalid_grant":
        text = (
            f"Canvas refused the sign-in (HTTP {status}): the code or refresh token is no "
            "longer valid"
        )
    else:
        text = f"Canvas refused the sign-in (HTTP {status})"
        if code:
            text = f"{text}: {code}"
    if description:
        text = f"{text} ({description})"
    kind = "auth" if status in (400, 401, 403) else "http"
    return CanvasError(text, kind=kind, status=status, url=response.url)
