"""Transport helpers both HTTP clients share: naming a failure, honouring Retry-After, backoff.

HTTP only (no ORM, nothing of ours): sync/canvas.py and sync/oneroster.py each keep their own
error type and messages; what a failed connection *was* and how long to wait is the same for both.
"""

import email.utils
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime

import requests

# A server asking for a longer pause would stall a worker for minutes; we retry sooner and
# report the failure if it keeps refusing.
RETRY_AFTER_MAX = 120.0


def describe_transport_error(exc: Exception) -> str:
    """A few plain words for a failed exchange ("connection refused", "host name not found")."""
    if isinstance(exc, requests.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS certificate or handshake error"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "connection dropped mid-response"
    if not isinstance(exc, requests.ConnectionError):
        return "invalid URL or header"
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if any(hint in text for hint in ("name resolution", "not known", "getaddrinfo", "nodename")):
        return "host name not found"
    if any(hint in text for hint in ("reset", "aborted", "disconnected")):
        return "connection dropped"
    return "connection failed"


def retry_after_seconds(response: requests.Response) -> float | None:
    """The server's Retry-After (seconds or an HTTP date), capped at RETRY_AFTER_MAX."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)


def backoff_delay(attempt: int, base: float, ceiling: float) -> float:
    """Exponential backoff with full jitter: spreads the retries of concurrent workers apart."""
    return random.uniform(0, min(ceiling, base * 2 ** (attempt - 1)))


def back_off(
    *,
    system: str,
    attempt: int,
    max_retries: int,
    retry_after: float | None,
    backoff: tuple[float, float],
    method: str,
    url: str,
    reason: str,
    sleep: Callable[[float], None],
    log: logging.Logger,
) -> None:
    """Wait before retry ``attempt``: the server's Retry-After when it gave one, else backoff
    with jitter (``backoff`` is its base and ceiling); says so in the client's log."""
    delay = retry_after if retry_after is not None else backoff_delay(attempt, *backoff)
    log.warning(
        "%s %s %s failed (%s); retry %d of %d in %.1fs",
        system,
        method,
        url,
        reason,
        attempt,
        max_retries,
        delay,
    )
    sleep(delay)


def keep_alive_session(base_url: str, headers: dict[str, str]) -> requests.Session:
    """A Session for one thread, with the environment's proxy and CA settings read once.

    requests reads proxy variables (and the netrc file) from the environment on every request
    when ``trust_env`` is on; at hundreds of requests a second that was a fifth of a passback's
    CPU. They are read here once, for ``base_url``, and the Session then keeps them.
    """
    session = requests.Session()
    settings = session.merge_environment_settings(base_url, {}, None, None, None)
    session.trust_env = False
    session.proxies.update(settings["proxies"])
    session.verify = settings["verify"]
    session.headers.update(headers)
    return session
