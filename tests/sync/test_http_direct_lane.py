"""The DirectLane (sync/http_transport.py) over real HTTP on 127.0.0.1."""

import gzip
import http.server
import json
import socket
import threading
import time

import pytest
import requests

from sync.canvas import CanvasClient
from sync.http_transport import DirectLane, keep_alive_session


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        """A Canvas-like list: /moved redirects to /api/v1/pages, which has two pages."""
        if self.path.startswith("/moved"):
            self.send_response(301)
            self.send_header("Location", "/api/v1/pages?per_page=100")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        second = "cursor=two" in self.path
        answer = json.dumps([{"id": 2 if second else 1, "path": self.path}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if not second:
            self.send_header("Link", '</api/v1/pages?cursor=two&per_page=100>; rel="next"')
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.startswith("/drop"):
            self.close_connection = True
            self.connection.shutdown(2)  # no answer at all
            return
        if self.path.startswith("/slow"):
            time.sleep(1.0)
        if self.path.startswith("/gz"):
            answer = gzip.compress(b'{"zipped": true}')
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            return
        answer = json.dumps(
            {
                "path": self.path,
                "got": json.loads(body),
                "auth": self.headers.get("Authorization"),
                "type": self.headers.get("Content-Type"),
            }
        ).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("X-Total-Count", "7")
        self.send_header("Content-Length", str(len(answer)))
        if self.path.startswith("/close"):
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer)
        if self.path.startswith(("/close", "/bye")):  # /bye: closed without saying so
            self.close_connection = True


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """Print nothing: the client gave up on /slow before its answer, as the test wants."""


@pytest.fixture
def server():
    httpd = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def lane_for(base: str, read_timeout: float = 5.0) -> DirectLane:
    return DirectLane(
        keep_alive_session(base, {"Accept": "application/json"}), base, (2, read_timeout)
    )


def test_a_call_on_the_lane_returns_a_whole_response_like_requests_would(server):
    lane = lane_for(f"{server}/ims/v1p2")
    url = f"{server}/ims/v1p2/results/gpb-a1-s2-u3"
    response = lane.send("PUT", url, {"Authorization": "Bearer t"}, b'{"score": 9.5}')

    assert isinstance(response, requests.Response)
    assert response.status_code == 201
    assert response.url == url
    assert response.headers["x-total-count"] == "7"
    assert response.json() == {
        "path": "/ims/v1p2/results/gpb-a1-s2-u3",
        "got": {"score": 9.5},
        "auth": "Bearer t",
        "type": "application/json",
    }
    assert response.encoding == "utf-8"
    # The same keep-alive connection serves the next call.
    assert lane.send("PUT", url, {}, b"{}").status_code == 201
    assert lane.connections_opened == 1


@pytest.mark.parametrize("path", ["/close", "/bye"])
def test_a_connection_the_server_closed_is_opened_again_for_the_next_call(server, path):
    lane = lane_for(server)
    assert lane.send("PUT", f"{server}{path}", {}, b"{}").status_code == 201
    time.sleep(0.05)  # the server closes its end

    assert lane.send("PUT", f"{server}/results/x", {}, b"{}").status_code == 201
    assert lane.connections_opened == 2


def test_a_compressed_answer_is_read_as_requests_would_read_it(server):
    response = lane_for(server).send("PUT", f"{server}/gz", {}, b"{}")
    assert response.json() == {"zipped": True}


def test_another_host_or_a_proxied_host_gets_no_lane(server, monkeypatch):
    lane = lane_for(server)
    assert lane.send("PUT", "http://127.0.0.2:9/results/x", {}, b"{}") is None

    monkeypatch.setenv("HTTP_PROXY", "http://proxy.district.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    proxied = DirectLane(keep_alive_session(server, {}), server, (2, 5))
    assert not proxied.available
    assert proxied.send("PUT", f"{server}/results/x", {}, b"{}") is None


def test_failures_come_back_as_the_requests_exceptions_the_clients_handle(server):
    with pytest.raises(requests.ConnectionError):
        lane_for(server).send("PUT", f"{server}/drop", {}, b"{}")
    with pytest.raises(requests.ReadTimeout):
        lane_for(server, read_timeout=0.2).send("PUT", f"{server}/slow", {}, b"{}")
    closed = "http://127.0.0.1:9"  # discard port: nothing listens there
    with pytest.raises(requests.ConnectionError) as refused:
        lane_for(closed).send("PUT", f"{closed}/results/x", {}, b"{}")
    assert not isinstance(refused.value, requests.ConnectTimeout)
    with pytest.raises(requests.exceptions.InvalidHeader):
        lane_for(server).send("PUT", f"{server}/x", {"x-vendor-authorization": "k:s\nevil"}, b"{}")


def test_a_canvas_client_pages_on_its_lane_and_follows_a_redirect_through_requests(server):
    with CanvasClient(server, "t", direct=True) as canvas:
        pages = list(canvas.get_pages("/api/v1/pages", [("include[]", "term")]))
        assert [[item["id"] for item in page] for page in pages] == [[1], [2]]
        assert pages[0][0]["path"] == "/api/v1/pages?include%5B%5D=term&per_page=100"
        assert pages[1][0]["path"] == "/api/v1/pages?cursor=two&per_page=100"
        assert canvas._local.lane.connections_opened == 1  # one keep-alive connection
        # The lane does not follow redirects; requests does, as for a client without a lane.
        moved = list(canvas.get_pages("/moved"))
        assert [[item["id"] for item in page] for page in moved] == [[1], [2]]
        assert canvas.requests_made == 4


def _request_head(reader) -> list[bytes]:
    """A request's head lines (these tests send no body); none when the client closed."""
    lines = []
    while (line := reader.readline()) not in (b"\r\n", b""):
        lines.append(line)
    return lines


def _raw_server(answers: list[bytes]) -> tuple[str, threading.Thread]:
    """A server that answers each request on one connection with the next canned bytes, then
    closes it: for framings the standard server does not write."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        connection, _ = listener.accept()
        with connection, connection.makefile("rb") as reader:
            for answer in answers:
                if not _request_head(reader):
                    break  # the client closed the connection
                try:
                    connection.sendall(answer)
                except BrokenPipeError:  # the client gave up on a garbled answer
                    break
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", thread


def test_every_framing_of_an_answer_is_read_whole_and_the_connection_kept_when_it_can_be():
    base, thread = _raw_server(
        [
            b"HTTP/1.1 100 Continue\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Part: a\r\n  b\r\n\r\n"
            b"5;ext=1\r\n[1, 2\r\n4\r\n, 3]\r\n0\r\nX-Trailer: t\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
            b"Content-Length: 2\r\n\r\n{}",
            b"HTTP/1.0 200 OK\r\n\r\n[]",  # no length: the body ends with the connection
        ]
    )
    lane = lane_for(base)
    chunked = lane.send("GET", f"{base}/a", {}, None)
    assert chunked.status_code == 200
    assert chunked.json() == [1, 2, 3]
    assert chunked.headers["X-Part"] == "a b"  # a folded header line joined
    assert lane.send("DELETE", f"{base}/b", {}, None).status_code == 204
    missing = lane.send("GET", f"{base}/c", {}, None)
    assert (missing.status_code, missing.reason, missing.content) == (404, "Not Found", b"{}")
    assert missing.headers["set-cookie"] == "a=1, b=2"
    assert lane.send("GET", f"{base}/d", {}, None).json() == []
    assert lane.connections_opened == 1
    assert lane._wire is None  # the last answer ended with its connection
    thread.join(5)


@pytest.mark.parametrize(
    "answer",
    [
        b"",  # closed without a word
        b"SMTP ready\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}",  # cut short
        b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X-Long: " + b"a" * 70_000 + b"\r\n\r\n",
    ],
)
def test_a_garbled_answer_is_a_connection_error_and_the_next_call_reconnects(answer):
    base, thread = _raw_server([answer])
    lane = lane_for(base)
    with pytest.raises(requests.ConnectionError):
        lane.send("GET", f"{base}/x", {}, None)
    assert lane._wire is None
    thread.join(5)


def test_a_url_with_a_space_is_refused_before_anything_is_sent(server):
    lane = lane_for(server)
    with pytest.raises(requests.exceptions.InvalidURL):
        lane.send("GET", f"{server}/a b", {}, None)
    assert lane.connections_opened == 0
