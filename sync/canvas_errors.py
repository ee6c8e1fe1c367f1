"""Canvas's failures as the one error type, CanvasError, with Canvas's own explanation in it.

HTTP only (no ORM). ``sync.canvas`` re-exports CanvasError: import it from there.
"""

from typing import Any

import requests

_MESSAGE_MAX_CHARS = 200


class CanvasError(Exception):
    """The one error type callers see.

    ``kind`` is one of ``auth``, ``unreachable``, ``http``, ``bad_json``, ``throttled``;
    ``str(error)`` is a one-line message a district admin can act on.
    """

    def __init__(
        self,
        message: str = "",
        *,
        kind: str = "http",
        status: int | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message or f"Canvas request failed ({kind})")
        self.kind = kind
        self.status = status
        self.url = url

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only attributes are lost by default pickling; task queues pickle exceptions.
        return (_rebuild_canvas_error, (str(self), self.kind, self.status, self.url))


def _rebuild_canvas_error(
    message: str, kind: str, status: int | None, url: str | None
) -> CanvasError:
    return CanvasError(message, kind=kind, status=status, url=url)


def canvas_message(response: requests.Response) -> str | None:
    """Canvas's own explanation, from {"errors": [{"message": ...}]} and its variants."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    errors = body.get("errors")
    if isinstance(errors, dict):  # validation errors: {"errors": {"field": [{"message": ...}]}}
        errors = [error for value in errors.values() if isinstance(value, list) for error in value]
    messages = []
    if isinstance(errors, list):
        messages = [e["message"] for e in errors if isinstance(e, dict) and e.get("message")]
    for field in ("message", "error"):
        if not messages and isinstance(body.get(field), str):
            messages = [body[field]]
    if not messages:
        return None
    text = " ".join("; ".join(str(m) for m in messages).split())
    return text[:_MESSAGE_MAX_CHARS]


def token_invalid(response: requests.Response) -> bool:
    # Canvas also answers 401 when a valid token lacks a permission; only a WWW-Authenticate
    # header (or no explanation at all) means the token itself is bad.
    return "WWW-Authenticate" in response.headers or not canvas_message(response)


def auth_error(response: requests.Response) -> CanvasError:
    url = response.url
    message = canvas_message(response)
    if token_invalid(response):
        text = f"Canvas rejected the access token (HTTP 401) at {url}: check CANVAS_TOKEN"
    else:
        text = (
            f"Canvas refused access (HTTP 401) at {url}: {message}; check that CANVAS_TOKEN "
            "belongs to a root-account admin"
        )
    return CanvasError(text, kind="auth", status=401, url=url)


def refused_error(response: requests.Response) -> CanvasError:
    url = response.url
    message = canvas_message(response)
    text = f"Canvas refused the request (HTTP {response.status_code}) at {url}"
    return CanvasError(
        f"{text}: {message}" if message else text,
        kind="http",
        status=response.status_code,
        url=url,
    )


def exhausted_error(response: requests.Response, retry_kind: str, attempts: int) -> CanvasError:
    url, status = response.url, response.status_code
    if retry_kind == "throttled":
        text = (
            f"Canvas kept rate-limiting requests (HTTP {status}) at {url} after {attempts} "
            "attempts: lower the import concurrency or run it later"
        )
    else:
        text = f"Canvas kept failing (HTTP {status}) at {url} after {attempts} attempts"
        message = canvas_message(response)
        if message:
            text = f"{text}: {message}"
    return CanvasError(text, kind=retry_kind, status=status, url=url)
