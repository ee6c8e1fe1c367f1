"""The DirectLane (sync/http_transport.py) over real HTTP on 127.0.0.1."""

import gzip
import http.server
import json
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
