"""HTTP on the ASGI server at WSGI speed, for the one origin that serves REST and WebSockets.

Django's own ASGI handler runs every sync view through `sync_to_async(thread_sensitive=True)`:
one thread per process for all requests, and an event-loop hop for each middleware. Our views
are sync, so under uvicorn it answered at a fraction of granian's WSGI rate (docs/PERFORMANCE.md).
Here the event loop does only what it is good at, and the WSGI app runs on a bounded pool of
threads:

- the request body is read on the event loop before a thread is taken (spooled to disk past
  FILE_UPLOAD_MAX_MEMORY_SIZE), so a slow or stalled upload holds no thread: a body that stops
  arriving for `body_idle_seconds` gets 408, one over `body_max_bytes` gets 413;
- at most `threads + queue` requests are in the process at once; the next one is shed at once
  with 503 and Retry-After (code `overloaded`) instead of waiting behind a queue it cannot beat,
  and a request that still waited over `max_wait_seconds` for a thread is shed when its turn
  comes. Only HTTP counts: idle WebSockets on the same server never close the door;
- a whole response (all of the API's) comes back from its thread in one hop and is sent in one
  message; a streaming one (media) is pulled from the thread 64 KiB at a time, and stops when
  the client goes away. (a2wsgi's bridge, measured first, crossed threads for every message:
  start, each chunk, end; its environ builder is used as is.)
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from a2wsgi.wsgi import build_environ

from musicapp.platform import metrics
from musicapp.platform.errors import DomainError, Overloaded, RequestTimeout, TooLarge, envelope

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
        body_idle_seconds: float,
        spool_bytes: int,
    ) -> None:
        self.wsgi_app = wsgi_app
        self.capacity = threads + queue
        self.max_wait_seconds = max_wait_seconds
        self.body_max_bytes = body_max_bytes
        self.body_idle_seconds = body_idle_seconds
        self.spool_bytes = spool_bytes
        self.in_flight = 0
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"HTTP only, not {scope['type']}")
        if self.in_flight >= self.capacity:
            metrics.requests_shed.labels("queue_full").inc()
            return await respond(send, Overloaded())
        if declared_length(scope) > self.body_max_bytes:
            return await respond(send, TooLarge())
        self.in_flight += 1
        try:
            arrived = time.monotonic()
            with tempfile.SpooledTemporaryFile(max_size=self.spool_bytes) as body:
                size = await self._read_body(receive, body)
                if isinstance(size, DomainError):
                    return await respond(send, size)
                body.seek(0)
                environ: dict[str, Any] = dict(build_environ(scope, body))  # type: ignore[arg-type]
                environ["CONTENT_LENGTH"] = str(size)  # also for a chunked body, now counted
                await self._respond(environ, arrived, receive, send)
        finally:
            self.in_flight -= 1

    async def _read_body(self, receive: Receive, body: Any) -> int | DomainError:
        size = 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), self.body_idle_seconds)
            except TimeoutError:
                return RequestTimeout()
            if message["type"] == "http.disconnect":
                return RequestTimeout("The client went away before sending the whole body.")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.body_max_bytes:
                return TooLarge()
            body.write(chunk)
            if not message.get("more_body"):
                return size

    async def _respond(self, environ: dict[str, Any], arrived: float, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        status, headers, whole, stream = await loop.run_in_executor(self.executor, self._run, environ, arrived)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if stream is None:
            await send({"type": "http.response.body", "body": whole})
            return
        gone = asyncio.create_task(_disconnected(receive))
        try:
            while not gone.done() and (chunk := await loop.run_in_executor(self.executor, _pull, stream)):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if not gone.done():
                await send({"type": "http.response.body", "body": b""})
        finally:
            gone.cancel()
            await loop.run_in_executor(self.executor, _close, stream)

    def _run(self, environ: dict[str, Any], arrived: float) -> tuple[int, list, bytes, StreamOf | None]:
        """In a pool thread: the app's status and headers, and its body whole unless it streams."""
        if time.monotonic() - arrived > self.max_wait_seconds:
            metrics.requests_shed.labels("waited_too_long").inc()
            error = Overloaded()
            return error.status, encoded(headers_for(error)), json.dumps(envelope(error)).encode(), None
        started: list = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            started[:] = [int(status.split(" ", 1)[0]), encoded(headers)]
            return _no_write

        iterable = self.wsgi_app(environ, start_response)
        if getattr(iterable, "streaming", False):  # Django's streaming and file responses
            status, headers = started
            return status, headers, b"", StreamOf(iterable)
        try:
            whole = b"".join(iterable)
        finally:
            _close(iterable)
        status, headers = started  # (a WSGI app calls start_response by its first chunk)
        return status, headers, whole, None


class StreamOf:
    """A streaming WSGI body, read in CHUNK-sized pieces (one thread hop each)."""

    def __init__(self, iterable: Iterable[bytes]) -> None:
        self.iterable = iterable
        self.iterator = iter(iterable)

    def close(self) -> None:
        _close(self.iterable)


def _pull(stream: StreamOf) -> bytes:
    pieces, size = [], 0
    for piece in stream.iterator:
        pieces.append(piece)
        size += len(piece)
        if size >= CHUNK:
            break
    return b"".join(pieces)


def _close(iterable: Any) -> None:
    if hasattr(iterable, "close"):
        iterable.close()


def _no_write(data: bytes) -> None:
    raise NotImplementedError("write() is not supported: return the body instead")


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def encoded(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]


def declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


def headers_for(error: DomainError) -> list[tuple[str, str]]:
    return [("Content-Type", "application/json"), *error.headers().items()]


async def respond(send: Send, error: DomainError) -> None:
    payload = json.dumps(envelope(error)).encode()
    headers = encoded(headers_for(error))
    headers.append((b"content-length", str(len(payload)).encode()))
    if error.status in (408, 413):
        headers.append((b"connection", b"close"))  # the rest of that body is not read
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
