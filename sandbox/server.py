"""Serves the sandbox over HTTP/1.1 with keep-alive, in a background thread or the foreground.

A minimal threaded WSGI server: wsgiref's speaks HTTP/1.0 and closes every connection, and
`http.server` parses headers with the e-mail parser, which alone costs more CPU than serving
a page. The district's ~16,000 pages go through here, so the request loop is kept lean.
"""

import contextlib
import socket
import socketserver
import sys
import threading
import traceback
from collections.abc import Callable
from urllib.parse import unquote

from sandbox.canvas_api import CanvasApp
from sandbox.faults import FAULT_KINDS, DropConnection, FaultInjector
from sandbox.generator import District
from sandbox.ic_api import TOKEN_PATH, V11_ROOT, V12_ROOT, IcApp, is_ic_path
from sandbox.ic_faults import IcFaultInjector
from sandbox.oauth import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REDIRECT_HOSTS,
    OAuthProvider,
)
from sandbox.stats import ServerStats
from sandbox.throttle import LeakyBucket

WSGIApp = Callable[[dict, Callable], list[bytes]]
MAX_LINE = 65_536
MAX_HEADERS = 100


class _WSGIRequestHandler(socketserver.StreamRequestHandler):
    disable_nagle_algorithm = True  # small responses must not wait for delayed ACKs
    timeout = 120  # idle keep-alive connections end eventually
    server: "_HTTPServer"

    def handle(self) -> None:
        try:
            while self._handle_one():
                pass
        except (OSError, ValueError):
            pass  # the client went away, idled out or sent garbage: just close

    def _handle_one(self) -> bool:
        """Serves one request; returns whether the connection stays open."""
        line = self.rfile.readline(MAX_LINE)
        if not line:
            return False
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            self._write("400 Bad Request", [("Content-Type", "text/plain")], b"bad request", False)
            return False
        method, target, version = parts
        headers: dict[str, str] = {}
        while True:
            raw = self.rfile.readline(MAX_LINE)
            if raw in (b"\r\n", b"\n", b""):
                break
            name, _, value = raw.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
            if len(headers) > MAX_HEADERS:
                raise ValueError("too many headers")
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        length = int(headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = target.partition("?")
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": unquote(path),
            "QUERY_STRING": query,
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": str(length),
            "CONTENT_TYPE": headers.get("content-type", ""),
            "wsgi.input": _BytesReader(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        for name, value in headers.items():
            if name not in ("content-length", "content-type"):
                environ["HTTP_" + name.upper().replace("-", "_")] = value
        started: list = []

        def start_response(status: str, response_headers: list, exc_info=None) -> Callable:
            started[:] = [status, response_headers]
            return lambda data: None

        try:
            payload = b"".join(self.server.app(environ, start_response))
        except DropConnection:
            self._drop()
            return False
        except Exception:  # a bug in the app must not kill the connection silently
            traceback.print_exc()
            started[:] = ["500 Internal Server Error", [("Content-Type", "text/plain")]]
            payload = b"sandbox error"
        if self.server.verbose:
            sys.stderr.write(f"{method} {target} -> {started[0]}\n")
        self._write(started[0], started[1], payload, keep_alive)
        return keep_alive

    def _write(self, status: str, headers: list, payload: bytes, keep_alive: bool) -> None:
        lines = [f"HTTP/1.1 {status}"]
        lines += [f"{name}: {value}" for name, value in headers]
        lines.append(f"Content-Length: {len(payload)}")
        if not keep_alive:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        # One write: headers and body in separate segments would cost a round trip each.
        self.wfile.write(head + payload)

    def _drop(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, size: int = -1) -> bytes:
        chunk = self._data if size < 0 else self._data[:size]
        self._data = self._data[len(chunk) :]
        return chunk


class _HTTPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: WSGIApp, verbose: bool) -> None:
        self.app = app
        self.verbose = verbose
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self.connections_accepted = 0
        super().__init__(address, _WSGIRequestHandler)

    def process_request(self, request, client_address) -> None:
        with self._open_lock:
            self._open.add(request)
            self.connections_accepted += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        with self._open_lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class SandboxServer:
    """The simulated Canvas and Infinite Campus on one port of 127.0.0.1.

    `with SandboxServer(District()) as server: server.url, server.sis_base_url`. `server.app`
    is the Canvas app, `server.ic` the IC app (`server.ic.store` holds what IC accepted).
    `server.app.oauth` is Canvas's OAuth2 side (teacher sign-in; `expire_access_tokens()`).
    `faults` applies to both unless `faults_canvas` / `faults_ic` say otherwise; `fault_kinds`
    likewise unless `ic_fault_kinds` does (only IC knows "applied_drop").
    Setting it up points the district's assignment `html_url`s at this server.
    """

    def __init__(
        self,
        district: District,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = "sandbox-token",
        faults: float = 0.0,
        *,
        fault_kinds: tuple[str, ...] = FAULT_KINDS,
        fault_seed: int | None = None,
        slow_delay: float = 2.0,
        fault_retry_after: int = 1,
        legacy_throttle: bool = False,
        throttle_capacity: float = 700.0,
        throttle_leak_rate: float = 100.0,
        throttle_preflight: float = 10.0,
        request_cost: float = 0.05,
        verbose: bool = False,
        faults_canvas: float | None = None,
        faults_ic: float | None = None,
        ic_fault_kinds: tuple[str, ...] | None = None,
        sis_client_id: str = "sandbox-client",
        sis_client_secret: str = "sandbox-secret",
        sis_vendor_key: str | None = None,
        sis_vendor_secret: str | None = None,
        sis_token_ttl: float = 3600.0,
        sis_locked_classes: tuple[str, ...] = (),
        sis_max_in_flight: int = 0,
        oauth_client_id: str = SANDBOX_CLIENT_ID,
        oauth_client_secret: str = SANDBOX_CLIENT_SECRET,
        oauth_redirect_hosts: tuple[str, ...] = SANDBOX_REDIRECT_HOSTS,
        oauth_token_ttl: float = 3600.0,
    ) -> None:
        self.district = district
        self.host = host
        self.port = port
        self.verbose = verbose
        self.stats = ServerStats()
        seed = district.seed if fault_seed is None else fault_seed
        self.ic = IcApp(
            district,
            client_id=sis_client_id,
            client_secret=sis_client_secret,
            vendor_key=sis_vendor_key,
            vendor_secret=sis_vendor_secret,
            token_ttl=sis_token_ttl,
            locked_classes=sis_locked_classes,
            faults=IcFaultInjector(
                faults if faults_ic is None else faults_ic,
                seed=seed,
                kinds=fault_kinds if ic_fault_kinds is None else ic_fault_kinds,
                slow_delay=slow_delay,
                retry_after=fault_retry_after,
            ),
            max_in_flight=sis_max_in_flight,
        )
        self.app = CanvasApp(
            district,
            token=token,
            throttle=LeakyBucket(throttle_capacity, throttle_leak_rate, throttle_preflight),
            faults=FaultInjector(
                faults if faults_canvas is None else faults_canvas,
                seed=seed,
                kinds=fault_kinds,
                slow_delay=slow_delay,
                retry_after=fault_retry_after,
            ),
            legacy_throttle=legacy_throttle,
            request_cost=request_cost,
            stats=self.stats,
            oauth=OAuthProvider(
                district,
                client_id=oauth_client_id,
                client_secret=oauth_client_secret,
                redirect_hosts=oauth_redirect_hosts,
                token_ttl=oauth_token_ttl,
            ),
        )
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the server is not listening yet; call start() or bind()")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def sis_base_url(self) -> str:
        """The OneRoster 1.2 gradebook root (SIS_BASE_URL)."""
        return self.url + V12_ROOT

    @property
    def sis_v11_base_url(self) -> str:
        return self.url + V11_ROOT

    @property
    def sis_token_url(self) -> str:
        return self.url + TOKEN_PATH

    @property
    def connections_accepted(self) -> int:
        return self._httpd.connections_accepted if self._httpd else 0

    def bind(self) -> "SandboxServer":
        """Opens the listening socket (OSError if the port is taken) without serving yet."""
        if self._httpd is None:
            self._httpd = _HTTPServer((self.host, self.port), self._dispatch, self.verbose)
            self.district.base_url = self.url
        return self

    def _dispatch(self, environ: dict, start_response: Callable) -> list[bytes]:
        """IC's roots, token path and /_ic/ go to the IC app; everything else to Canvas."""
        app = self.ic if is_ic_path(environ.get("PATH_INFO", "")) else self.app
        return app(environ, start_response)

    def start(self) -> "SandboxServer":
        """Serves in a daemon thread; returns at once."""
        self.bind()
        if self._thread is None:
            # A short poll interval makes stop() quick: tests start and stop many servers.
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="sandbox-server",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serves in the calling thread until `stop()` or KeyboardInterrupt."""
        self.bind()
        self._httpd.serve_forever()

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        if self._thread is not None:
            httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        httpd.server_close()
        httpd.close_open_connections()

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
