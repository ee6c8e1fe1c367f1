"""Transport helpers of our HTTP clients: naming a failure, honouring Retry-After, backoff, and
a direct lane for the passback's many small calls.

HTTP only (no ORM, nothing of ours): sync/canvas.py and sync/oneroster.py each keep their own
error type and messages; what a failed connection *was* and how long to wait is the same for both.
"""

import email.utils
import logging
import random
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime

import requests
import urllib3

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


class DirectLane:
    """One thread's straight path to a host's urllib3 connection pool, for small JSON calls.

    A passback sends one request per grade. requests' adapter rebuilds the pool key, the
    timeout and a cookie jar on every call, which cost about as much CPU as the exchange itself;
    the lane looks the pool up once (TLS verification and CA settings as the Session would use
    them) and sends straight to it. Failures are raised as the requests exceptions the adapter
    would raise, so callers handle one set. A host reached through a proxy gets no lane.
    """

    def __init__(self, session: requests.Session, base_url: str, timeouts: tuple[float, float]):
        parts = urllib.parse.urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.headers = dict(session.headers)
        self.timeout = urllib3.Timeout(connect=timeouts[0], read=timeouts[1])
        self.pool = None
        if not requests.utils.select_proxy(base_url, session.proxies):
            probe = requests.PreparedRequest()
            probe.prepare(method="GET", url=base_url)
            adapter = session.get_adapter(base_url)
            self.pool = adapter.get_connection_with_tls_context(
                probe, session.verify, proxies=session.proxies
            )

    def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> requests.Response | None:
        """The answer, read whole; None when ``url`` is not on this lane's host (or no lane)."""
        if self.pool is None or not url.startswith(self.origin + "/") or not url.isascii():
            return None
        sent_headers = {**self.headers, **headers}
        if body is not None:
            sent_headers["Content-Type"] = "application/json"
        try:
            raw = self.pool.urlopen(
                method,
                url[len(self.origin) :],
                body=body,
                headers=sent_headers,
                retries=False,
                redirect=False,
                assert_same_host=False,
                preload_content=True,
                decode_content=True,
                timeout=self.timeout,
            )
        except urllib3.exceptions.NewConnectionError as exc:  # before its parent ConnectTimeout
            raise requests.ConnectionError(exc) from exc
        except urllib3.exceptions.ConnectTimeoutError as exc:
            raise requests.ConnectTimeout(exc) from exc
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise requests.ReadTimeout(exc) from exc
        except urllib3.exceptions.SSLError as exc:
            raise requests.exceptions.SSLError(exc) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise requests.ConnectionError(exc) from exc
        except ValueError as exc:  # http.client refuses a header value (a newline in a secret)
            raise requests.exceptions.InvalidHeader(exc) from exc
        response = requests.Response()
        response.status_code = raw.status
        response.reason = raw.reason
        response.headers = requests.structures.CaseInsensitiveDict(raw.headers)
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response.url = url
        response._content = raw.data  # what Response.content would have read
        return response
