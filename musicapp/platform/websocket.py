"""WebSocket plumbing every consumer shares.

Authentication: the access token comes in the query string (?token=), since browsers cannot
set headers on a WebSocket. JWTQueryStringMiddleware sets scope["user"] (AnonymousUser if
absent or invalid) and scope["token_error"] when a token was given but refused.

Origin: origin_allowed() says whether the browser's Origin may open a socket here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar
from urllib.parse import parse_qs, urlsplit

from channels.consumer import get_handler_name
from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import validate_host
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.settings import api_settings
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from musicapp.platform import metrics
from musicapp.platform.errors import DomainError, Overloaded

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# Channels' database_sync_to_async runs every call on the process's one sync thread: every
# socket's token check, join and command waited in one line. After one of two app processes was
# killed (docs/RELIABILITY.md), the other's 250 new sockets took over 15 s to get their state.
# Sockets' database work runs on a pool of its own instead, sized with the database pool
# (settings.WS_DB_THREADS). The services lock what they change (select_for_update), so calls
# from different sockets may run side by side; one socket's calls still run one after another.
_socket_db_threads = ThreadPoolExecutor(max_workers=settings.WS_DB_THREADS, thread_name_prefix="socket-db")


def socket_db(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`fn` made awaitable for consumers: run on the sockets' database threads, closing stale
    connections before and after (as database_sync_to_async does)."""
    return DatabaseSyncToAsync(fn, thread_sensitive=False, executor=_socket_db_threads)


@socket_db
def _user_for(raw_token: str) -> tuple[Any, str | None]:
    """The token's user and login id (its "sid" claim), by the API's own authentication."""
    auth: Any = api_settings.DEFAULT_AUTHENTICATION_CLASSES[0]()  # type: ignore[operator]  # the API's own
    try:
        token = auth.get_validated_token(raw_token.encode())
        return auth.get_user(token), token.get("sid")
    except (InvalidToken, TokenError, AuthenticationFailed):
        return None, None


class Admission:
    """A process's socket connects, bounded: at most `at_once` under way together (from the
    token check to the accept or refusal: a session join is a transaction under the session's
    row lock plus the state's queries), at most `queue` more waiting, none longer than `wait_s`.
    The others raise Overloaded at once, for ConnectAdmission to close them with 1013 ("try
    again later") and their clients to come back after a pause.

    Without it, 500 sockets joining at once (every client of a restarted process) queued their
    database work on the sockets' threads past their clients' patience; each client that gave
    up and reconnected queued a second connect behind the first, which still ran for nobody,
    and the queue never drained (docs/RELIABILITY.md, the join storm).
    """

    def __init__(self, at_once: int, queue: int, wait_s: float) -> None:
        self.at_once, self.queue, self.wait_s = at_once, queue, wait_s
        self.waiting = 0
        # One semaphore per event loop (a server has one; tests may run several).
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def _semaphore(self) -> asyncio.Semaphore:
        return self._slots.setdefault(asyncio.get_running_loop(), asyncio.Semaphore(self.at_once))

    async def enter(self) -> None:
        slots = self._semaphore()
        if not slots.locked():
            await slots.acquire()
            return
        if self.waiting >= self.queue:
            metrics.socket_connects_shed.labels("queue_full").inc()
            raise Overloaded()
        self.waiting += 1
        try:
            await asyncio.wait_for(slots.acquire(), self.wait_s)
        except TimeoutError:
            metrics.socket_connects_shed.labels("waited_too_long").inc()
            raise Overloaded() from None
        finally:
            self.waiting -= 1

    def leave(self) -> None:
        self._semaphore().release()


class ConnectAdmission:
    """ASGI middleware, outermost for WebSockets: each connect holds an Admission slot until the
    app accepts or refuses the socket (or gives up); one refused for lack of a slot is accepted
    and closed with 1013 without reaching the app."""

    def __init__(self, app: Any, admission: Admission) -> None:
        self.app, self.admission = app, admission

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        try:
            await self.admission.enter()
        except Overloaded:
            if (await receive())["type"] != "websocket.connect":
                return None  # the client is gone already
            await send({"type": "websocket.accept"})
            return await send({"type": "websocket.close", "code": 1013})
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                self.admission.leave()

        async def send_then_release(message: dict[str, Any]) -> None:
            if message["type"] in ("websocket.accept", "websocket.close"):
                release()  # connected or refused: the expensive part is over
            await send(message)

        try:
            return await self.app(scope, receive, send_then_release)
        finally:
            release()


def login_group(login_id: str) -> str:
    """The channel-layer group of one login's open sockets: told when the login ends."""
    return f"login.{login_id}"


class JWTQueryStringMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        token = parse_qs(scope.get("query_string", b"").decode()).get("token", [""])[0]
        user, login_id = await _user_for(token) if token else (None, None)
        scope = {
            **scope,
            "user": user or AnonymousUser(),
            "login_id": login_id,
            "token_error": bool(token) and user is None,
        }
        return await self.app(scope, receive, send)


def origin_allowed(scope: dict) -> bool:
    """The browser's Origin must be one of ALLOWED_HOSTS or CORS_ALLOWED_ORIGINS. Clients that
    send no Origin (native apps, tests) are allowed: only browsers carry ambient credentials."""
    origin = dict(scope.get("headers", [])).get(b"origin", b"").decode()
    if not origin:
        return True
    if origin in settings.CORS_ALLOWED_ORIGINS:
        return True
    host = urlsplit(origin).hostname or ""
    return validate_host(host, settings.ALLOWED_HOSTS)


class JsonConsumer(AsyncJsonWebsocketConsumer):
    """Base of every consumer: no frame can kill a socket (WS.md).

    A frame that is not a JSON object with a string `type`, is binary, or is over
    MAX_FRAME_BYTES gets an `error` event ({code, message}) and the socket stays open; so does a
    command that raises a DomainError (its code and message). Subclasses implement
    `command(type, data)`; refusals on connect use `refuse(code)`. Group membership goes
    through the channel layer (musicapp.platform.realtime.ChannelLayer); a socket that may have
    missed a broadcast is closed with 1012 or 1013 for its client to reconnect and resync.
    """

    MAX_FRAME_BYTES = 16 * 1024
    groups_joined: list[str]

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' dispatch first runs close_old_connections through sync_to_async: one hop to
        # the process's single sync thread for every message, every socket. A broadcast to 3,000
        # listeners queued 3,000 hops (most of the time from an edit to the last listener). Our
        # handlers reach the database only through socket_db, which closes stale
        # connections itself in its thread, so the hop is dropped here.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        # Every socket of a login hears when the login ends (signed out, revoked): login_ended.
        if self.scope.get("login_id"):
            await self.join(login_group(self.scope["login_id"]))
        await super().websocket_connect(message)

    async def login_ended(self, event: dict[str, Any]) -> None:
        await self.close(code=4401)

    async def realtime_resync(self, event: dict[str, Any]) -> None:
        # This socket may have missed a broadcast (musicapp.platform.realtime): its client
        # reconnects on 1012/1013 and is sent the state again.
        await self.close(code=event["code"])

    async def refuse(self, close_code: int) -> None:
        """Refuse after the handshake: a close code can only follow an accepted socket."""
        await self.accept()
        await self.close(code=close_code)

    async def join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = [*getattr(self, "groups_joined", []), group]

    async def disconnect(self, code: int) -> None:
        self.channel_layer.detach(self.channel_name)  # its direct frames, if it took any (realtime)
        for group in getattr(self, "groups_joined", []):
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:  # a process-local member: it costs nothing once its socket is gone
                logger.warning("could not leave %s", group, exc_info=True)

    async def send_error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "data": {"code": code, "message": message}})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if text_data is None:
            return await self.send_error("bad_frame", "Frames are JSON text, not binary.")
        if len(text_data) > self.MAX_FRAME_BYTES or len(text_data.encode()) > self.MAX_FRAME_BYTES:
            return await self.send_error("too_large", f"Frames are at most {self.MAX_FRAME_BYTES // 1024} KiB.")
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):
            return await self.send_error("parse_error", "The frame is not valid JSON.")
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            return await self.send_error("bad_frame", 'A frame is {"type": "...", "data": {...}}.')
        data = content.get("data")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            return await self.send_error("bad_frame", "A frame's data is an object.")
        try:
            await self.command(content["type"], data)
        except DomainError as error:
            await self.send_error(error.code, error.message)
        except Exception:
            logger.exception("command %r failed on %s", content["type"], type(self).__name__)
            await self.send_error("server_error", "That command failed on our side; it has been logged.")

    async def command(self, kind: str, data: dict[str, Any]) -> None:
        raise NotImplementedError


class UnknownPathConsumer(JsonConsumer):
    """The last route: a socket to a path nobody serves is closed with 4404 (never an HTTP 500)."""

    async def connect(self) -> None:
        await self.refuse(4404)
