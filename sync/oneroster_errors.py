"""The OneRoster client's one error type, and how Infinite Campus's answers become it.

HTTP only, no ORM (as sync/oneroster.py): reads 1.2 ``imsx_StatusInfo``, 1.1
``statusInfoSet``, OAuth errors and HTML error pages, and words each failure as a line a
district admin can act on, naming the setting to check.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import requests

_EXCERPT_MAX_CHARS = 200
# OAuth error codes meaning "these client credentials are wrong" (RFC 6749 §5.2).
_BAD_CLIENT_ERRORS = {"invalid_client", "unauthorized_client", "invalid_grant"}


class OneRosterError(Exception):
    """The one error type callers see; ``str(error)`` is a line a district admin can act on.

    ``kind`` is ``auth``, ``unreachable``, ``http``, ``bad_response`` or ``throttled``.
    """

    def __init__(
        self,
        message: str = "",
        *,
        kind: str = "http",
        status: int | None = None,
        code_major: str | None = None,
        description: str | None = None,
        url: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message or f"Infinite Campus request failed ({kind})")
        self.kind = kind
        self.status = status
        self.code_major = code_major
        self.description = description
        self.url = url
        self.attempts = attempts

    @property
    def retryable(self) -> bool:
        """True when a later run may succeed without anyone changing anything."""
        if self.kind in ("unreachable", "throttled"):
            return True
        return self.kind == "http" and self.status is not None and self.status >= 500

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only attributes are lost by default pickling; task queues pickle exceptions.
        state = (self.kind, self.status, self.code_major, self.description, self.url)
        return (_rebuild_error, (str(self), *state, self.attempts))


def _rebuild_error(
    message: str,
    kind: str,
    status: int | None,
    code_major: str | None,
    description: str | None,
    url: str | None,
    attempts: int,
) -> OneRosterError:
    return OneRosterError(
        message,
        kind=kind,
        status=status,
        code_major=code_major,
        description=description,
        url=url,
        attempts=attempts,
    )


@dataclass(frozen=True)
class Explanation:
    """What the server said about a failure, whichever error form it used."""

    code_major: str | None = None
    description: str | None = None
    code_minor: str | None = None

    @property
    def text(self) -> str:
        return self.description or self.code_minor or "no explanation given"


# -- reading answers ----------------------------------------------------------------------------


def explain(response: requests.Response) -> Explanation:
    """Parse 1.2 imsx_StatusInfo, 1.1 statusInfoSet, an OAuth error, or an HTML/text page."""
    try:
        body = response.json()
    except ValueError:
        return Explanation(description=_excerpt(response.text))
    if not isinstance(body, dict):
        return Explanation()
    if isinstance(body.get("error"), str):  # RFC 6749 token endpoint error
        description = body.get("error_description")
        return Explanation(
            description=description if isinstance(description, str) else None,
            code_minor=body["error"],
        )
    infos: Any = body
    for key in ("imsx_StatusInfo", "statusInfoSet", "StatusInfoSet", "imsx_statusInfoSet"):
        if key in body:
            infos = body[key]
            break
    infos = [
        info for info in (infos if isinstance(infos, list) else [infos]) if isinstance(info, dict)
    ]
    majors = [_field(info, "imsx_codeMajor", "codeMajor") for info in infos]
    texts = [_field(info, "imsx_description", "description") for info in infos]
    minors = [minor for info in infos for minor in _code_minors(info)]
    return Explanation(
        code_major=next((major for major in majors if major), None),
        description="; ".join(text for text in texts if text) or None,
        code_minor=", ".join(minors) or None,
    )


def _field(info: dict, *names: str) -> str | None:
    for name in names:
        value = info.get(name)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return None


def _code_minors(info: dict) -> list[str]:
    # 1.2 spells it imsx_CodeMinor, several 1.1 servers imsx_codeMinor.
    minor = info.get("imsx_CodeMinor") or info.get("imsx_codeMinor")
    fields = minor.get("imsx_codeMinorField") if isinstance(minor, dict) else minor
    if isinstance(fields, dict):
        fields = [fields]
    if isinstance(fields, str):
        return [fields]
    if not isinstance(fields, list):
        return []
    values = [field.get("imsx_codeMinorFieldValue") for field in fields if isinstance(field, dict)]
    return [value for value in values if isinstance(value, str)]


def _excerpt(text: str) -> str | None:
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if title:
        text = title.group(1)
    else:
        text = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", text, flags=re.IGNORECASE | re.DOTALL)
        text = re.sub(r"<[^>]*>", " ", text)
    text = " ".join(html.unescape(text).split())
    return text[:_EXCERPT_MAX_CHARS] or None


def is_html(response: requests.Response) -> bool:
    return "html" in response.headers.get("Content-Type", "").lower()


def json_object(
    response: requests.Response, subject: str, attempts: int = 1, hint: str = "SIS_BASE_URL"
) -> dict:
    try:
        body = response.json()
    except ValueError as exc:
        raise bad_response_error(response, subject, "JSON", attempts, hint) from exc
    if not isinstance(body, dict):
        raise bad_response_error(response, subject, "a JSON object", attempts, hint)
    return body


# -- building errors ----------------------------------------------------------------------------


def response_error(
    text: str, kind: str, response: requests.Response, said: Explanation, attempts: int
) -> OneRosterError:
    return OneRosterError(
        text,
        kind=kind,
        status=response.status_code,
        code_major=said.code_major,
        description=said.description,
        url=response.url,
        attempts=attempts,
    )


def final_error(
    response: requests.Response, subject: str, attempts: int, hint: str = ""
) -> OneRosterError:
    said = explain(response)
    text = f"Infinite Campus answered {response.status_code} for {subject}: {said.text}"
    return response_error(f"{text}; {hint}" if hint else text, "http", response, said, attempts)


def exhausted_error(response: requests.Response, subject: str, attempts: int) -> OneRosterError:
    said = explain(response)
    status = response.status_code
    if status == 429:
        text = (
            f"Infinite Campus kept answering 429 (server busy) for {subject} after {attempts} "
            "attempts: lower SIS_MAX_CONCURRENCY or sync off-peak"
        )
        return response_error(text, "throttled", response, said, attempts)
    text = f"Infinite Campus kept failing (HTTP {status}) for {subject} after {attempts} attempts"
    return response_error(f"{text}: {said.text}", "http", response, said, attempts)


def token_refused_error(response: requests.Response, attempts: int) -> OneRosterError:
    said = explain(response)
    status, url = response.status_code, response.url
    if status == 401 or said.code_minor in _BAD_CLIENT_ERRORS or not said.code_minor:
        text = (
            f"Infinite Campus rejected the client secret (HTTP {status} at {url}): "
            "check SIS_CLIENT_ID and SIS_CLIENT_SECRET"
        )
    else:
        text = (
            f"Infinite Campus refused the token request (HTTP {status} at {url}: {said.code_minor}"
            f"{f', {said.description}' if said.description else ''}): check SIS_TOKEN_URL, "
            "SIS_CLIENT_ID and SIS_CLIENT_SECRET"
        )
    return response_error(text, "auth", response, said, attempts)


def unsendable_credential_error(url: str, is_token: bool, attempts: int) -> OneRosterError:
    settings = (
        "SIS_CLIENT_ID and SIS_CLIENT_SECRET"
        if is_token
        else "SIS_VENDOR_KEY and SIS_VENDOR_SECRET"
    )
    return OneRosterError(
        "A configured Infinite Campus credential has characters that cannot be sent in an HTTP "
        f"header: check {settings}",
        kind="auth",
        url=url,
        attempts=attempts,
    )


def redirect_error(
    response: requests.Response, subject: str, setting: str, attempts: int
) -> OneRosterError:
    target = response.headers.get("Location", "another address")
    text = (
        f"Infinite Campus redirected {subject} to {target} (HTTP {response.status_code}): "
        f"check {setting}"
    )
    return response_error(text, "http", response, Explanation(), attempts)


def bad_response_error(
    response: requests.Response,
    subject: str,
    expected: str,
    attempts: int = 1,
    setting: str = "SIS_BASE_URL",
) -> OneRosterError:
    text = (
        f"Infinite Campus sent an unexpected answer for {subject} (HTTP {response.status_code} "
        f"at {response.url}): expected {expected}; check {setting}"
    )
    try:
        # A JSON body is not echoed: a malformed token answer may still hold a credential.
        response.json()
        said = Explanation()
    except ValueError:
        said = Explanation(description=_excerpt(response.text))
    return response_error(text, "bad_response", response, said, attempts)
