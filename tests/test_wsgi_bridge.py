"""The ASGI origin's HTTP side (musicapp.platform.wsgi_bridge) on a real uvicorn server on a
loopback port, with a stand-in WSGI app that holds its thread until the test lets it go: what
a full server, a stalled upload and an oversized body get, and that no thread is spent on them.

(The whole app through the same bridge is what every `app_server()` test serves.)
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import socket
import threading
import time

import pytest
import uvicorn

from musicapp.dev.devservices import free_port
from musicapp.platform import metrics
from musicapp.platform.wsgi_bridge import WsgiOverAsgi


class HoldingApp:
    """/hold waits until released; /echo answers the body's length and sha256; / answers at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.holding = threading.Semaphore(0)
        self.pieces_pulled = 0
        self.stream_closed = threading.Event()

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"] == "/stream":  # 16 MiB in 4 KiB pieces, as a file response streams
            start_response("200 OK", [("Content-Type", "audio/mpeg"), ("Content-Length", str(16 * 2**20))])
            return Streaming(self)
        if environ["PATH_INFO"] == "/hold":
            self.holding.release()
            self.release.wait(10)
        # As Django reads a body: CONTENT_LENGTH bytes of wsgi.input, none without it.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if environ["PATH_INFO"] == "/echo" else b""
        payload = json.dumps({"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [payload]


class Streaming:
    streaming = True  # what Django's streaming and file responses say of themselves

    def __init__(self, app: HoldingApp) -> None:
        self.app = app

    def __iter__(self):
        for n in range(4096):
            self.app.pieces_pulled += 1
            yield bytes([n % 256]) * 4096

    def close(self) -> None:
        self.app.stream_closed.set()


@contextlib.contextmanager
def bridge_server(app, **options):
    defaults = {
        "threads": 1,
        "queue": 1,
        "max_wait_seconds": 5.0,
        "body_max_bytes": 1024 * 1024,
        "body_idle_seconds": 5.0,
        "body_total_seconds": 30.0,
        "spool_bytes": 64 * 1024,
    }
    port = free_port()
    config = uvicorn.Config(
        WsgiOverAsgi(app, **{**defaults, **options}), host="127.0.0.1", port=port, lifespan="off", log_level="error"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield port
    finally:
        app.release.set()
        server.should_exit = True
        thread.join(10)


def request(port: int, path: str, *, method: str = "GET", body: bytes | None = None, timeout: float = 10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def in_background(fn, *args, **kwargs) -> tuple[threading.Thread, list]:
    result: list = []
    thread = threading.Thread(target=lambda: result.append(fn(*args, **kwargs)), daemon=True)
    thread.start()
    return thread, result


def shed_count(reason: str) -> float:
    return metrics.requests_shed.labels(reason)._value.get()


def test_a_full_server_sheds_the_next_request_at_once_with_retry_after():
    app = HoldingApp()
    with bridge_server(app, threads=1, queue=1) as port:
        first, first_result = in_background(request, port, "/hold")
        assert app.holding.acquire(timeout=5)  # the one thread is busy
        second, second_result = in_background(request, port, "/")  # waits in the queue
        time.sleep(0.2)
        before = shed_count("queue_full")

        status, headers, body = request(port, "/", timeout=2)

        assert status == 503
        assert headers["Retry-After"] == "1"
        assert json.loads(body) == {
            "success": False,
            "code": "overloaded",
            "message": "The server is busy. Try again in a moment.",
        }
        assert shed_count("queue_full") == before + 1
        app.release.set()
        first.join(5)
        second.join(5)
        assert first_result[0][0] == 200
        assert second_result[0][0] == 200  # the queued one was served, not dropped
        assert request(port, "/")[0] == 200  # and the door is open again


def test_a_request_that_waited_too_long_for_a_thread_is_shed_when_its_turn_comes():
    app = HoldingApp()
    with bridge_server(app, threads=1, queue=4, max_wait_seconds=0.3) as port:
        first, _ = in_background(request, port, "/hold")
        assert app.holding.acquire(timeout=5)
        waiting, waiting_result = in_background(request, port, "/echo", method="POST", body=b"late")
        time.sleep(0.6)
        app.release.set()
        waiting.join(5)
        first.join(5)

        status, headers, body = waiting_result[0]
        assert status == 503
        assert json.loads(body)["code"] == "overloaded"
        assert headers["Retry-After"] == "1"


def stalled_upload(port: int, path: str = "/echo") -> socket.socket:
    stalled = socket.create_connection(("127.0.0.1", port))
    stalled.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n".encode() + b"a" * 10)
    stalled.settimeout(5)
    return stalled


def test_a_stalled_upload_gets_408_and_holds_no_thread_and_no_request_slot():
    app = HoldingApp()
    with bridge_server(app, threads=1, queue=0, body_idle_seconds=0.5) as port:
        stalled = stalled_upload(port)
        time.sleep(0.1)

        # Meanwhile the only thread, and the only request slot, still serve others.
        assert request(port, "/", timeout=2)[0] == 200

        answer = stalled.recv(4096)
        stalled.close()
        assert answer.startswith(b"HTTP/1.1 408")
        assert b'"code": "timeout"' in answer


def test_a_trickled_body_gets_408_when_its_whole_time_is_up():
    app = HoldingApp()
    with bridge_server(app, body_idle_seconds=0.5, body_total_seconds=1.0) as port:
        trickle = socket.create_connection(("127.0.0.1", port))
        trickle.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        started = time.monotonic()
        answer = b""
        trickle.settimeout(0.2)
        while not answer and time.monotonic() - started < 5:
            with contextlib.suppress(OSError):
                trickle.sendall(b"a")  # a byte every 0.2 s: never idle for long
            with contextlib.suppress(TimeoutError):
                answer = trickle.recv(4096)
        trickle.close()
        assert answer.startswith(b"HTTP/1.1 408")
        assert time.monotonic() - started < 3


def test_bodies_in_transit_are_capped_and_requests_without_one_still_pass():
    app = HoldingApp()
    with bridge_server(app, body_readers=1, body_idle_seconds=3) as port:
        stalled = stalled_upload(port)
        time.sleep(0.1)

        second = stalled_upload(port)  # a body still in transit too: no reader slot is free
        answer = second.recv(4096)
        assert request(port, "/", timeout=2)[0] == 200
        second.close()
        stalled.close()
    assert answer.startswith(b"HTTP/1.1 503")
    assert b'"code": "overloaded"' in answer
    assert b"connection: close" in answer.lower()


def test_an_upload_path_may_be_larger_than_an_api_body():
    app = HoldingApp()
    limits = [("^/avatar$", 5000)]
    with bridge_server(app, body_max_bytes=1000, upload_limits=limits) as port:
        assert request(port, "/avatar", method="POST", body=b"x" * 4000)[0] == 200
        assert request(port, "/avatar", method="POST", body=b"x" * 5001)[0] == 413
        assert request(port, "/echo", method="POST", body=b"x" * 1001)[0] == 413


def test_a_body_over_the_limit_is_refused_with_413_whether_declared_or_streamed():
    app = HoldingApp()
    with bridge_server(app, body_max_bytes=1000) as port:
        status, _, body = request(port, "/echo", method="POST", body=b"x" * 1001)
        assert (status, json.loads(body)["code"]) == (413, "too_large")

        chunked = socket.create_connection(("127.0.0.1", port))
        chunked.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(3):
            chunked.sendall(b"190\r\n" + b"y" * 400 + b"\r\n")  # 1,200 bytes, no length declared
        chunked.settimeout(5)
        answer = chunked.recv(4096)
        chunked.close()
        assert answer.startswith(b"HTTP/1.1 413")


@pytest.mark.parametrize("size", [0, 10, 64 * 1024, 300 * 1024 + 7])
def test_a_body_reaches_the_app_whole_from_memory_or_from_the_spool(size):
    app = HoldingApp()
    data = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
    with bridge_server(app, spool_bytes=64 * 1024) as port:
        status, _, body = request(port, "/echo", method="POST", body=data)
    assert status == 200
    assert json.loads(body) == {"length": size, "sha256": hashlib.sha256(data).hexdigest()}


def test_a_streamed_body_arrives_whole_and_stops_being_read_when_the_client_goes():
    app = HoldingApp()
    with bridge_server(app) as port:
        status, _, body = request(port, "/stream")
        assert status == 200
        assert len(body) == 16 * 2**20
        assert body[4096 * 7 : 4096 * 8] == bytes([7]) * 4096
        assert app.stream_closed.wait(5)

        app.pieces_pulled = 0
        app.stream_closed.clear()
        reader = socket.create_connection(("127.0.0.1", port))
        reader.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        reader.recv(65536)
        reader.close()  # a listener skipping to the next song

        assert app.stream_closed.wait(5)  # the file is closed, not read on to the end
        assert app.pieces_pulled < 4096


def test_a_chunked_body_reaches_the_app_with_its_length_counted():
    app = HoldingApp()
    with bridge_server(app) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", "/echo", body=iter([b"hello", b" world"]), encode_chunked=True)
        response = conn.getresponse()
        payload = json.loads(response.read())
        conn.close()
    assert response.status == 200
    assert payload == {"length": 11, "sha256": hashlib.sha256(b"hello world").hexdigest()}


def test_a_song_being_streamed_holds_no_request_slot_and_head_reads_no_file():
    app = HoldingApp()
    with bridge_server(app, threads=1, queue=0) as port:
        reader = socket.create_connection(("127.0.0.1", port))
        reader.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        reader.recv(1024)  # headers and a little: then it stops reading, a slow listener
        time.sleep(0.2)

        assert request(port, "/", timeout=2)[0] == 200  # the one slot is free again
        reader.close()
        assert app.stream_closed.wait(5)

        app.pieces_pulled = 0
        status, headers, body = request(port, "/stream", method="HEAD")
        assert (status, body, headers["Content-Length"]) == (200, b"", str(16 * 2**20))
        assert app.pieces_pulled == 0
