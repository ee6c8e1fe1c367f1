"""Transport helpers of our HTTP clients: naming a failure, honouring Retry-After, backoff, and
a direct lane for the passback's many small calls.

HTTP only (no ORM, nothing of ours): sync/canvas.py and sync/oneroster.py each keep their own
error type and messages; what a failed connection *was* and how long to wait is the same for both.
"""

import email.utils
import http.client
import logging
import os
import random
import socket
import ssl
import urllib.parse
import zlib
from collections.abc import Callable
from datetime import UTC, datetime

import requests
import urllib3
from urllib3.util.wait import wait_for_read

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
    """One thread's own keep-alive connection to one host, for many small JSON calls.

    A passback sends one request per grade and an import reads thousands of pages. Going
    through requests and urllib3 cost more CPU than the exchange itself (session merging, pool
    lookups, timeout and header objects), so the lane speaks to the host with the standard
    library's http.client: one connection, reopened when the server closed it, TLS verified
    with the CA settings the Session would use. Failures are raised as the requests exceptions
    the clients already handle. A host reached through a proxy, or needing a client
    certificate, gets no lane: ``send`` returns None and the caller uses its Session.
    """

    def __init__(self, session: requests.Session, base_url: str, timeouts: tuple[float, float]):
        parts = urllib.parse.urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        # Answers are read whole and small: ask for them uncompressed.
        self.headers = {**session.headers, "Accept-Encoding": "identity"}
        self.timeouts = timeouts
        self.connections_opened = 0
        self._connection: http.client.HTTPConnection | None = None
        self._open: Callable[[], http.client.HTTPConnection] | None = None
        proxied = requests.utils.select_proxy(base_url, session.proxies)
        if parts.hostname and not proxied and not session.cert:
            try:
                port = parts.port
            except ValueError:
                return  # requests reports the bad port
            if parts.scheme == "http":
                self._open = lambda: http.client.HTTPConnection(
                    parts.hostname, port, timeout=timeouts[0]
                )
            elif parts.scheme == "https":
                context = _tls_context(session.verify)
                self._open = lambda: http.client.HTTPSConnection(
                    parts.hostname, port, timeout=timeouts[0], context=context
                )

    @property
    def available(self) -> bool:
        return self._open is not None

    def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> requests.Response | None:
        """The answer, read whole; None when ``url`` is not on this lane's host (or no lane)."""
        if self._open is None or not url.startswith(self.origin + "/") or not url.isascii():
            return None
        sent_headers = {**self.headers, **headers}
        if body is not None:
            sent_headers["Content-Type"] = "application/json"
        connection = self._connected()
        try:
            connection.request(method, url[len(self.origin) :], body=body, headers=sent_headers)
            raw = connection.getresponse()
            data = raw.read()
        except BaseException as exc:
            self.close()  # its state is unknown: the next call opens a new one
            if isinstance(exc, ValueError):  # http.client refuses a header (a newline in it)
                raise requests.exceptions.InvalidHeader(exc) from exc
            if isinstance(exc, TimeoutError):
                raise requests.ReadTimeout(exc) from exc
            if isinstance(exc, ssl.SSLError):
                raise requests.exceptions.SSLError(exc) from exc
            if isinstance(exc, http.client.HTTPException | OSError):
                raise requests.ConnectionError(exc) from exc
            raise
        if raw.will_close:
            self.close()
        return _response(url, raw, data)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connected(self) -> http.client.HTTPConnection:
        connection = self._connection
        if connection is not None and (connection.sock is None or _dropped(connection.sock)):
            self.close()  # the server closed the idle connection
            connection = None
        if connection is None:
            connection = self._open()
            try:
                connection.connect()
            except TimeoutError as exc:
                raise requests.ConnectTimeout(exc) from exc
            except ssl.SSLError as exc:
                raise requests.exceptions.SSLError(exc) from exc
            except OSError as exc:  # refused, host not found: nothing was sent
                failure = urllib3.exceptions.NewConnectionError(None, str(exc))
                raise requests.ConnectionError(failure) from exc
            connection.sock.settimeout(self.timeouts[1])
            self._connection = connection
            self.connections_opened += 1
        return connection


def _dropped(sock: socket.socket) -> bool:
    """An idle keep-alive connection that is readable was closed by the server."""
    return wait_for_read(sock, timeout=0.0)


def _tls_context(verify: bool | str) -> ssl.SSLContext:
    """TLS settings as requests applies them for ``verify`` (a CA bundle file or folder)."""
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    where = requests.utils.DEFAULT_CA_BUNDLE_PATH if verify is True else verify
    if os.path.isdir(where):
        return ssl.create_default_context(capath=where)
    return ssl.create_default_context(cafile=where)


def _response(url: str, raw: http.client.HTTPResponse, data: bytes) -> requests.Response:
    """A requests Response holding a whole answer, as the Session would have built it."""
    headers: requests.structures.CaseInsensitiveDict = requests.structures.CaseInsensitiveDict()
    for name, value in raw.getheaders():
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    encoding = headers.get("Content-Encoding", "").lower()
    if encoding in ("gzip", "deflate") and data:  # a server that ignored Accept-Encoding
        data = zlib.decompress(data, 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    response = requests.Response()
    response.status_code = raw.status
    response.reason = raw.reason
    response.headers = headers
    response.encoding = requests.utils.get_encoding_from_headers(headers)
    response.url = url
    response._content = data  # what Response.content would have read
    return response
