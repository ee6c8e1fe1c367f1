"""Transport helpers of our HTTP clients: naming a failure, honouring Retry-After, backoff, and
a direct lane for the passback's many small calls.

HTTP only (no ORM, nothing of ours): sync/canvas.py and sync/oneroster.py each keep their own
error type and messages; what a failed connection *was* and how long to wait is the same for both.
"""

import email.utils
import http.client
import io
import logging
import os
import random
import re
import socket
import ssl
import urllib.parse
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import NamedTuple

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
    through requests and urllib3, and then through http.client, cost more CPU than the exchange
    itself (session merging, pool lookups, header objects, an e-mail parser for every answer's
    headers), so the lane writes each request and reads each answer itself, as HTTP/1.1 frames
    them (RFC 9112): one connection, reopened when the server closed it, TLS verified with the
    CA settings the Session would use. Failures are raised as the requests exceptions the
    clients already handle. A host reached through a proxy, or needing a client certificate,
    gets no lane: ``send`` returns None and the caller uses its Session.
    """

    def __init__(self, session: requests.Session, base_url: str, timeouts: tuple[float, float]):
        parts = urllib.parse.urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        # Answers are read whole and small: ask for them uncompressed.
        self.headers = {**session.headers, "Accept-Encoding": "identity"}
        self.timeouts = timeouts
        self.connections_opened = 0
        self._wire: _Wire | None = None
        self._address: tuple[str, int] | None = None
        self._tls: ssl.SSLContext | None = None
        proxied = requests.utils.select_proxy(base_url, session.proxies)
        if not parts.hostname or proxied or session.cert or parts.scheme not in _PORTS:
            return
        try:
            port = parts.port or _PORTS[parts.scheme]
        except ValueError:
            return  # requests reports the bad port
        self._address = (parts.hostname, port)
        self._host = parts.netloc.rpartition("@")[2]
        if parts.scheme == "https":
            self._tls = _tls_context(session.verify)

    @property
    def available(self) -> bool:
        return self._address is not None

    def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> requests.Response | None:
        """The answer, read whole; None when ``url`` is not on this lane's host (or no lane)."""
        if self._address is None or not url.startswith(self.origin + "/") or not url.isascii():
            return None
        request = self._request(method, url[len(self.origin) :], headers, body)
        wire = self._connected()
        try:
            wire.sock.sendall(request)
            answer = _read_answer(wire.reader, method)
        except BaseException as exc:
            self.close()  # its state is unknown: the next call opens a new one
            if isinstance(exc, TimeoutError):
                raise requests.ReadTimeout(exc) from exc
            if isinstance(exc, ssl.SSLError):
                raise requests.exceptions.SSLError(exc) from exc
            if isinstance(exc, http.client.HTTPException | OSError):
                raise requests.ConnectionError(exc) from exc
            raise
        if answer.close:
            self.close()
        return _response(url, answer)

    def close(self) -> None:
        if self._wire is not None:
            self._wire.close()
            self._wire = None

    def _request(
        self, method: str, target: str, headers: dict[str, str], body: bytes | None
    ) -> bytes:
        """The request's bytes; a header that would break the framing is refused, as
        http.client and requests refuse it (InvalidHeader, InvalidURL)."""
        if _UNSAFE_TARGET.search(target):
            raise requests.exceptions.InvalidURL(
                f"Spaces or control characters in the URL {target!r}"
            )
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self._host}"]
        fields = {**self.headers, **headers}
        if body is not None:
            fields["Content-Type"] = "application/json"
        for name, value in fields.items():
            value = str(value)
            if not _TOKEN.fullmatch(name) or _UNSAFE_VALUE.search(value):
                raise requests.exceptions.InvalidHeader(f"Invalid header {name!r}: {value!r}")
            lines.append(f"{name}: {value}")
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        elif method in ("POST", "PUT", "PATCH"):
            lines.append("Content-Length: 0")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + body if body else head

    def _connected(self) -> "_Wire":
        wire = self._wire
        if wire is not None and _dropped(wire.sock):
            self.close()  # the server closed the idle connection
            wire = None
        if wire is None:
            wire = self._wire = _Wire(self._connect())
            self.connections_opened += 1
        return wire

    def _connect(self) -> socket.socket:
        assert self._address is not None
        try:
            sock = socket.create_connection(self._address, timeout=self.timeouts[0])
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self._tls is not None:
                    sock = self._tls.wrap_socket(sock, server_hostname=self._address[0])
            except BaseException:
                sock.close()
                raise
        except TimeoutError as exc:
            raise requests.ConnectTimeout(exc) from exc
        except ssl.SSLError as exc:
            raise requests.exceptions.SSLError(exc) from exc
        except OSError as exc:  # refused, host not found: nothing was sent
            failure = urllib3.exceptions.NewConnectionError(None, str(exc))
            raise requests.ConnectionError(failure) from exc
        sock.settimeout(self.timeouts[1])
        return sock


_PORTS = {"http": 80, "https": 443}
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_UNSAFE_VALUE = re.compile(r"[\x00\r\n]")
_UNSAFE_TARGET = re.compile(r"[\x00-\x20\x7f]")
_MAX_LINE = 65536  # as http.client allows
_MAX_HEADERS = 100


class _Wire:
    """An open connection and the buffered reader its answers are read through."""

    __slots__ = ("sock", "reader")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


class _Answer(NamedTuple):
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    close: bool  # the connection cannot carry another exchange


def _read_answer(reader: io.BufferedReader, method: str) -> _Answer:
    """Read one whole answer as RFC 9112 frames it: status line, headers, then a body of
    Content-Length bytes, in chunks, or up to the connection's end. Interim (1xx) answers are
    passed over. Framing errors raise http.client's own exceptions."""
    while True:
        line = _line(reader)
        if not line:
            raise http.client.RemoteDisconnected("Remote end closed connection without response")
        version, _, rest = line.partition(b" ")
        code, _, reason = rest.partition(b" ")
        if not version.startswith(b"HTTP/") or len(code) != 3 or not code.isdigit():
            raise http.client.BadStatusLine(line.decode("latin-1").rstrip())
        status = int(code)
        headers = _headers(reader)
        if not 100 <= status < 200:
            break
    framing = {name.lower(): value for name, value in headers if name.lower() in _FRAMING}
    connection = framing.get("connection", "").lower()
    close = "close" in connection or (version == b"HTTP/1.0" and "keep-alive" not in connection)
    if method == "HEAD" or status in (204, 304):
        body = b""
    elif "chunked" in framing.get("transfer-encoding", "").lower():
        body = _chunked(reader)
    elif "content-length" in framing:
        try:
            length = int(framing["content-length"])
        except ValueError:
            raise http.client.HTTPException(
                f"invalid Content-Length {framing['content-length']!r}"
            ) from None
        body = reader.read(length) if length > 0 else b""
        if len(body) < length:
            raise http.client.IncompleteRead(body, length - len(body))
    else:  # the answer ends with the connection
        body, close = reader.read(), True
    return _Answer(status, reason.decode("latin-1").strip(), headers, body, close)


_FRAMING = frozenset(("connection", "transfer-encoding", "content-length"))


def _line(reader: io.BufferedReader) -> bytes:
    line = reader.readline(_MAX_LINE + 1)
    if len(line) > _MAX_LINE:
        raise http.client.LineTooLong("header line")
    return line


def _headers(reader: io.BufferedReader) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    while True:
        line = _line(reader)
        if line in (b"\r\n", b"\n", b""):
            return headers
        if len(headers) >= _MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {_MAX_HEADERS} headers")
        text = line.decode("latin-1")
        if text[0] in " \t" and headers:  # an obsolete folded line continues the last value
            name, value = headers.pop()
            headers.append((name, f"{value} {text.strip()}"))
            continue
        name, colon, value = text.partition(":")
        if not colon:
            raise http.client.HTTPException(f"malformed header line {text.rstrip()!r}")
        headers.append((name.strip(), value.strip()))


def _chunked(reader: io.BufferedReader) -> bytes:
    parts = []
    while True:
        size_line = _line(reader)
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise http.client.IncompleteRead(b"".join(parts)) from None
        if size == 0:
            break
        chunk = reader.read(size)
        if len(chunk) < size or _line(reader) not in (b"\r\n", b"\n"):
            raise http.client.IncompleteRead(b"".join(parts) + chunk)
        parts.append(chunk)
    _headers(reader)  # trailer fields, not used
    return b"".join(parts)


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


def _response(url: str, answer: _Answer) -> requests.Response:
    """A requests Response holding a whole answer, as the Session would have built it."""
    headers: requests.structures.CaseInsensitiveDict = requests.structures.CaseInsensitiveDict()
    for name, value in answer.headers:
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    data = answer.body
    encoding = headers.get("Content-Encoding", "").lower()
    if encoding in ("gzip", "deflate") and data:  # a server that ignored Accept-Encoding
        data = zlib.decompress(data, 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    response = requests.Response()
    response.status_code = answer.status
    response.reason = answer.reason
    response.headers = headers
    response.encoding = requests.utils.get_encoding_from_headers(headers)
    response.url = url
    response._content = data  # what Response.content would have read
    return response
