"""A real WebSocket client (`websockets`) for tests: frames are JSON {"type", "data"}."""

from __future__ import annotations

import json
import time
from typing import Any

from rest_framework_simplejwt.tokens import AccessToken
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect


def token(user: Any) -> str:
    return str(AccessToken.for_user(user))


def ws_base(server: str) -> str:
    return server.replace("http", "ws", 1)


class Socket:
    """One client socket: send frames, wait for the next frame of a type (the others seen on
    the way are kept, in order, for later expectations)."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection.__enter__()  # closed by close() / the with block
        self.seen: list[dict[str, Any]] = []

    def send(self, kind: str, data: dict[str, Any] | None = None) -> None:
        self.connection.send(json.dumps({"type": kind, "data": data or {}}))

    def send_raw(self, frame: str | bytes) -> None:
        self.connection.send(frame)

    def expect(self, kind: str, timeout: float = 10) -> dict[str, Any]:
        """The data of the next frame of this type."""
        for index, frame in enumerate(self.seen):
            if frame["type"] == kind:
                del self.seen[: index + 1]
                return frame["data"]
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {kind} frame within {timeout} s; saw {[f['type'] for f in self.seen]}")
            frame = json.loads(self.connection.recv(timeout=remaining))
            if frame["type"] == kind:
                return frame["data"]
            self.seen.append(frame)

    def nothing_of(self, kind: str, within: float = 1.0) -> None:
        """No frame of this type arrives within `within` seconds."""
        deadline = time.monotonic() + within
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                frame = json.loads(self.connection.recv(timeout=remaining))
            except TimeoutError:
                return
            assert frame["type"] != kind, f"unexpected {kind}: {frame['data']}"
            self.seen.append(frame)

    def closed_with(self, timeout: float = 10) -> int:
        """Read until the server closes; the close code."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self.seen.append(json.loads(self.connection.recv(timeout=max(0.01, deadline - time.monotonic()))))
        except ConnectionClosed as closed:
            assert closed.rcvd is not None, "closed without a close frame"
            return closed.rcvd.code

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Socket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def session_socket(server: str, code: str, user: Any, **kwargs: Any) -> Socket:
    url = (
        f"{ws_base(server)}/ws/session/{code}/?token={token(user)}" if user else f"{ws_base(server)}/ws/session/{code}/"
    )
    return Socket(connect(url, open_timeout=10, **kwargs))


def refused_with(server: str, path: str, **kwargs: Any) -> int:
    with Socket(connect(f"{ws_base(server)}{path}", open_timeout=10, **kwargs)) as socket:
        return socket.closed_with()
