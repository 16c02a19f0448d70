"""HTTP on the ASGI server at WSGI speed, for the one origin that serves REST and WebSockets.

Django's own ASGI handler runs every sync view through `sync_to_async(thread_sensitive=True)`:
one thread per process for all requests, and an event-loop hop for each middleware. Our views
are sync, so under uvicorn it answered at a fraction of granian's WSGI rate (docs/PERFORMANCE.md).
Here the event loop does only what it is good at, and the WSGI app runs on a bounded pool of
threads:

- the request body is read on the event loop before a thread is taken (spooled to disk past
  FILE_UPLOAD_MAX_MEMORY_SIZE), so a slow or stalled upload holds no thread and no request
  slot: at most `body_readers` bodies arrive at once (503 beyond), each must keep coming
  (`body_idle_seconds`) and be whole within `body_total_seconds` (408 otherwise), and be no
  larger than its path's limit (`upload_limits`, else `body_max_bytes`; 413, unread);
- at most `threads + queue` requests whose body has arrived are in the process at once; the
  next one is shed at once with 503 and Retry-After (code `overloaded`) instead of waiting
  behind a queue it cannot beat, and one that still waited over `max_wait_seconds` for a
  thread is shed when its turn comes. WebSockets and bodies in transit never count;
- a whole response (all of the API's) comes back from its thread in one hop and is sent in one
  message; a streaming one (media) gives back its request slot once its headers are out, is
  pulled 64 KiB at a time on threads of its own, stops when the client goes away, and drops a
  client that stops reading for `send_timeout_seconds`. (a2wsgi's bridge, measured first,
  crossed threads for every message: start, each chunk, end; its environ builder is used.)
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from a2wsgi.wsgi import build_environ
from django.db import close_old_connections

from musicapp.platform import metrics
from musicapp.platform.errors import DomainError, Overloaded, RequestTimeout, TooLarge, envelope_json, headers_for

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

CHUNK = 64 * 1024


class WsgiOverAsgi:
    def __init__(
        self,
        wsgi_app: Callable[..., Iterable[bytes]],
        *,
        threads: int,
        queue: int,
        max_wait_seconds: float,
        body_max_bytes: int,
        upload_limits: Sequence[tuple[str, int]] = (),
        body_readers: int = 32,
        body_idle_seconds: float,
        body_total_seconds: float = 120.0,
        spool_bytes: int,
        send_timeout_seconds: float = 60.0,
    ) -> None:
        self.wsgi_app = wsgi_app
        self.capacity = threads + queue
        self.max_wait_seconds = max_wait_seconds
        self.body_max_bytes = body_max_bytes
        self.upload_limits = [(re.compile(pattern), limit) for pattern, limit in upload_limits]
        self.body_readers_max = body_readers
        self.body_idle_seconds = body_idle_seconds
        self.body_total_seconds = body_total_seconds
        self.spool_bytes = spool_bytes
        self.send_timeout_seconds = send_timeout_seconds
        self.in_flight = 0  # requests whose body has arrived, waiting for or on a thread
        self.body_readers = 0  # requests whose body is still arriving
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="http")
        # Streamed bodies are pulled (and closed) on threads of their own, never queued behind
        # new requests; a stream holds no request slot once its headers are sent.
        self.stream_executor = ThreadPoolExecutor(max_workers=max(2, threads // 2), thread_name_prefix="stream")

    def body_limit(self, path: str) -> int:
        """Uploads (an avatar, a banner, the admin's audio files) may be larger than API bodies."""
        return next((limit for pattern, limit in self.upload_limits if pattern.match(path)), self.body_max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"HTTP only, not {scope['type']}")
        declared = declared_length(scope)
        if self.in_flight >= self.capacity:
            metrics.requests_shed.labels("queue_full").inc()
            return await respond(send, Overloaded(), close=declared > 0)
        limit = self.body_limit(scope["path"])
        if declared > limit:
            return await respond(send, TooLarge(), close=True)
        with tempfile.SpooledTemporaryFile(max_size=self.spool_bytes) as body:
            size = await self._read_body(receive, body, limit)
            if isinstance(size, DomainError):
                return await respond(send, size, close=True)
            body.seek(0)
            environ: dict[str, Any] = dict(build_environ(scope, body))  # type: ignore[arg-type]
            environ["CONTENT_LENGTH"] = str(size)  # also for a chunked body, now counted
            if self.in_flight >= self.capacity:  # (checked again: the body took its time)
                metrics.requests_shed.labels("queue_full").inc()
                return await respond(send, Overloaded())
            self.in_flight += 1
            released = False

            def release() -> None:
                nonlocal released
                if not released:
                    released = True
                    self.in_flight -= 1

            try:
                await self._respond(environ, time.monotonic(), receive, send, release)
            finally:
                release()

    async def _read_body(self, receive: Receive, body: Any, limit: int) -> int | DomainError:
        """The whole body, read on the event loop. A request without one (a GET) passes at once;
        one whose body is still arriving holds a reader slot (at most `body_readers`), must send
        something every `body_idle_seconds` and all of it within `body_total_seconds`."""
        message = await receive()
        if message["type"] == "http.disconnect":
            return RequestTimeout("The client went away before sending the whole body.")
        first = message.get("body", b"")
        if len(first) > limit:
            return TooLarge()
        if not message.get("more_body"):
            body.write(first)
            return len(first)
        if self.body_readers >= self.body_readers_max:
            metrics.requests_shed.labels("body_readers_full").inc()
            return Overloaded()
        self.body_readers += 1
        try:
            async with asyncio.timeout(self.body_total_seconds):
                size = len(first)
                body.write(first)
                while message.get("more_body"):
                    try:
                        message = await asyncio.wait_for(receive(), self.body_idle_seconds)
                    except TimeoutError:
                        return RequestTimeout()
                    if message["type"] == "http.disconnect":
                        return RequestTimeout("The client went away before sending the whole body.")
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        return TooLarge()
                    body.write(chunk)
                return size
        except TimeoutError:
            return RequestTimeout()
        finally:
            self.body_readers -= 1

    async def _respond(
        self, environ: dict[str, Any], arrived: float, receive: Receive, send: Send, release: Callable[[], None]
    ) -> None:
        loop = asyncio.get_running_loop()
        status, headers, whole, stream = await loop.run_in_executor(self.executor, self._run, environ, arrived)
        if stream is None:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            body = {"type": "http.response.body", "body": whole}
            # Only a body past the transport's buffer can wait on the client (a send timer costs
            # a task: not for the small JSON most requests get).
            await (self._send(send, body) if len(whole) > CHUNK else send(body))
            return
        release()  # a slow reader of a song holds no request slot
        gone = asyncio.create_task(_disconnected(receive))
        try:
            await self._send(send, {"type": "http.response.start", "status": status, "headers": headers})
            if environ["REQUEST_METHOD"] == "HEAD":
                chunk = b""
            else:
                chunk = await loop.run_in_executor(self.stream_executor, stream.pull)
            while chunk and not gone.done():
                await self._send(send, {"type": "http.response.body", "body": chunk, "more_body": True})
                chunk = await loop.run_in_executor(self.stream_executor, stream.pull)
            if not gone.done():
                await self._send(send, {"type": "http.response.body", "body": b""})
        finally:
            gone.cancel()
            # close() waits for a pull still running on its thread (cancelled mid-pull).
            await asyncio.shield(loop.run_in_executor(self.stream_executor, stream.close))

    async def _send(self, send: Send, message: dict[str, Any]) -> None:
        """A client that stops reading (a zero TCP window) is dropped after send_timeout_seconds."""
        await asyncio.wait_for(send(message), self.send_timeout_seconds)

    def _run(self, environ: dict[str, Any], arrived: float) -> tuple[int, list, bytes, StreamOf | None]:
        """In a pool thread: the app's status and headers, and its body whole unless it streams."""
        if time.monotonic() - arrived > self.max_wait_seconds:
            metrics.requests_shed.labels("waited_too_long").inc()
            error = Overloaded()
            return error.status, encoded(headers_for(error)), envelope_json(error), None
        started: list = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            started[:] = [int(status.split(" ", 1)[0]), encoded(headers)]
            return _no_write

        iterable = self.wsgi_app(environ, start_response)
        if getattr(iterable, "streaming", False):  # Django's streaming and file responses
            # The body is read and closed on other threads: hand this thread's database
            # connection back now (request_finished will fire on the thread that closes).
            close_old_connections()
            status, headers = started
            return status, headers, b"", StreamOf(iterable)
        try:
            whole = b"".join(iterable)
        finally:
            _close(iterable)
        status, headers = started  # (a WSGI app calls start_response by its first chunk)
        return status, headers, whole, None


class StreamOf:
    """A streaming WSGI body, read in CHUNK-sized pieces (one thread hop each) and closed once,
    never while a piece is being read."""

    def __init__(self, iterable: Iterable[bytes]) -> None:
        self.iterable = iterable
        self.iterator = iter(iterable)
        self.lock = threading.Lock()

    def pull(self) -> bytes:
        pieces, size = [], 0
        with self.lock:
            for piece in self.iterator:
                pieces.append(piece)
                size += len(piece)
                if size >= CHUNK:
                    break
        return b"".join(pieces)

    def close(self) -> None:
        with self.lock:
            _close(self.iterable)


def _close(iterable: Any) -> None:
    if hasattr(iterable, "close"):
        iterable.close()


def _no_write(data: bytes) -> None:
    raise NotImplementedError("write() is not supported: return the body instead")


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def encoded(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    # (strip: Django's WSGI Set-Cookie values start with a space, as its ASGI handler strips)
    return [(name.lower().encode("latin-1"), value.strip().encode("latin-1")) for name, value in headers]


def declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


async def respond(send: Send, error: DomainError, *, close: bool = False) -> None:
    """The error envelope, sent from the event loop; `close` when a body was left unread."""
    payload = envelope_json(error)
    headers = encoded(headers_for(error))
    headers.append((b"content-length", str(len(payload)).encode()))
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
