"""The one place that talks to the Channels layer (STYLE.md: one small module wraps group_send).

Broadcasts are sent after the transaction commits, so nobody hears of a change that rolled back.

ChannelLayer is channels-redis's pub/sub layer (RedisPubSubChannelLayer). Its core layer
(RedisChannelLayer) delivered a group message as one Redis list entry per member, popped one
round trip at a time by each process: an edit reached the last of a playlist's 3,000 listeners
after P99 0.93 s (docs/PERFORMANCE.md). Through pub/sub, a broadcast is one PUBLISH that each
process subscribed to the group receives once and hands to its own members in memory.

Pub/sub forgets what it could not deliver, so two things are added here, both ending in a
`realtime.resync` event that closes the socket (JsonConsumer) for its client to reconnect and
be sent the state again (WS.md: "a client that reconnects receives session:state again"):
- the process's pub/sub connection to Redis came back after a loss (what was published
  meanwhile never arrived): every socket of the process, close code 1012;
- a socket fell `capacity` messages behind (its client reads too slowly): that socket alone,
  close code 1013, instead of its backlog growing without bound.

Frames written directly. A consumer may `attach` its socket to take an event's ready-made
`frame` (a JSON text, rendered once per broadcast) straight from the process's pub/sub receiver:
the frame is written to each such socket in one pass, instead of each socket's consumer waking
for it through its own queue, Channels' dispatch loop (an asyncio.wait and a new task per
message) and its own handler. That was most of the 160 us of CPU each of 3,000 playlist
listeners cost per edit (docs/PERFORMANCE.md). A socket whose send cannot complete at once (its
client reads slowly) keeps its later frames in order in a backlog of its own, written by a task
of its own; past `capacity` it is closed with 1013 like any socket that falls behind. Events a
socket does not take (`accepts`) go through its consumer as before.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable, Coroutine, Generator
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _wrap_close, decode_hosts
from django.db import transaction

logger = logging.getLogger(__name__)

RESYNC = "realtime.resync"
SERVICE_RESTART = 1012  # WebSocket close codes (RFC 6455 / IANA): reconnect and resync
TRY_AGAIN_LATER = 1013


class _Inbox(asyncio.Queue):
    """One socket's messages, at most `capacity`: past that they are dropped for a resync."""

    def __init__(self, capacity: int, resync: bytes) -> None:
        super().__init__()
        self.capacity, self.resync = capacity, resync

    def put_nowait(self, item: Any) -> None:
        if self.qsize() >= self.capacity:
            return self.replace_all(self.resync)
        super().put_nowait(item)

    def replace_all(self, item: Any) -> None:
        """Drop what is waiting; `item` is all there is to read."""
        while not self.empty():
            self.get_nowait()
        super().put_nowait(item)


class _Rest:
    """The rest of a coroutine that was started by hand and suspended (on the future it yielded):
    awaiting this finishes it, as `yield from` would have."""

    def __init__(self, coroutine: Any, pending: Any) -> None:
        self.coroutine, self.pending = coroutine, pending

    def __await__(self) -> Generator[Any, Any, Any]:
        pending = self.pending
        while True:
            try:
                value = yield pending
            except BaseException as error:  # noqa: BLE001 - handed on to the coroutine (cancellation too)
                try:
                    pending = self.coroutine.throw(error)
                except StopIteration as stop:
                    return stop.value
                continue
            try:
                pending = self.coroutine.send(value)
            except StopIteration as stop:
                return stop.value


class Sink:
    """One socket's direct frames (see the module's docstring). Frames wait in the backlog until
    `open()` (the socket is accepted), and whenever an earlier one is still being written."""

    def __init__(
        self,
        accepts: Callable[[dict[str, Any]], bool],
        send: Callable[[dict[str, Any]], Coroutine[Any, Any, None]],
        capacity: int,
        behind: Callable[[], None],
    ) -> None:
        self.accepts, self.send, self.capacity, self.behind = accepts, send, capacity, behind
        self.backlog: collections.deque[str] | None = collections.deque()  # None: nothing waits
        self.task: asyncio.Task | None = None

    def open(self) -> None:
        if self.backlog:
            self.task = asyncio.get_running_loop().create_task(self._drain(None))
        elif self.backlog is not None:
            self.backlog = None

    def write(self, frame: str) -> None:
        if self.backlog is not None:
            if len(self.backlog) >= self.capacity:
                self.backlog.clear()
                return self.behind()
            self.backlog.append(frame)
            return None
        step = self.send({"type": "websocket.send", "text": frame})
        try:
            pending = step.send(None)  # most sends complete here: written to the socket's buffer
        except StopIteration:
            return None
        except Exception:  # the socket is closing: its consumer detaches it
            logger.debug("a direct frame found its socket closed", exc_info=True)
            return None
        # It waits (the socket's buffer is full): it and the frames after it are written in turn.
        self.backlog = collections.deque()
        self.task = asyncio.get_running_loop().create_task(self._drain(_Rest(step, pending)))
        return None

    async def _drain(self, rest: _Rest | None) -> None:
        try:
            if rest is not None:
                await rest
            while self.backlog:
                await self.send({"type": "websocket.send", "text": self.backlog.popleft()})
        except Exception:  # the socket is closing: its consumer detaches it
            logger.debug("a direct frame found its socket closed", exc_info=True)
        finally:
            self.backlog = None


class _Shard(RedisSingleShardConnection):
    """The process's pub/sub connection to one Redis, which says when it came back."""

    channel_layer: _LoopLayer
    _watched: Any = None

    async def subscribe(self, channel: str) -> None:
        await super().subscribe(channel)
        connection = self._pubsub.connection if self._pubsub else None
        if connection is not None and connection is not self._watched:
            # Called on every connect after the pool's first: redis-py has resubscribed by then.
            connection.register_connect_callback(self._reconnected)
            self._watched = connection

    def _receive_message(self, message: Any) -> None:
        layer = self.channel_layer
        name = message["channel"] if message is not None else None
        if isinstance(name, bytes):
            name = name.decode()
        members = layer.groups.get(name) if layer.sinks else None
        if not members:  # a socket's own channel, or nobody here takes frames directly
            return super()._receive_message(message)
        data = message["data"]
        event = layer.channel_layer.deserialize(data)
        direct = "frame" in event
        for channel in members:
            inbox = layer.channels.get(channel)
            if inbox is None:
                continue
            sink = layer.sinks.get(channel) if direct else None
            try:
                if sink is not None and sink.accepts(event):
                    sink.write(event["frame"])
                    continue
            except Exception:  # one socket's mistake must not cost the others their frame
                logger.exception("direct frame to %s failed; it goes through its consumer", channel)
            inbox.put_nowait(data)
        return None

    def _reconnected(self, _connection: Any) -> None:
        sockets = len(self.channel_layer.channels)
        logger.warning("the channel layer's Redis connection came back: %d sockets resync", sockets)
        self.channel_layer.resync_all()


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, hosts: Any = None, *, capacity: int = 1000, **kwargs: Any) -> None:
        super().__init__(hosts, **kwargs)
        self.capacity = capacity
        self._shards: list[RedisSingleShardConnection] = [_Shard(host, self) for host in decode_hosts(hosts)]
        self._behind = self._resync_event(TRY_AGAIN_LATER)
        self.sinks: dict[str, Sink] = {}  # channel -> its socket's direct frames

    def _resync_event(self, code: int) -> bytes:
        return self.channel_layer.serialize({"type": RESYNC, "code": code})

    async def _subscribe_to_channel(self, channel: str) -> None:
        self.channels[channel] = _Inbox(self.capacity, self._behind)
        await self._get_shard(channel).subscribe(channel)

    def attach(self, channel: str, accepts: Any, send: Any) -> Sink:
        def behind() -> None:
            inbox = self.channels.get(channel)
            if inbox is not None:
                inbox.replace_all(self._behind)

        sink = self.sinks[channel] = Sink(accepts, send, self.capacity, behind)
        return sink

    def resync_all(self) -> None:
        event = self._resync_event(SERVICE_RESTART)
        for inbox in self.channels.values():
            inbox.replace_all(event)


class ChannelLayer(RedisPubSubChannelLayer):
    def _get_layer(self) -> _LoopLayer:  # the library's, making our loop layer
        loop = asyncio.get_running_loop()
        if loop not in self._layers:
            self._layers[loop] = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return self._layers[loop]

    def attach(
        self,
        channel: str,
        accepts: Callable[[dict[str, Any]], bool],
        send: Callable[[dict[str, Any]], Coroutine[Any, Any, None]],
    ) -> Sink:
        """From now on, the events of `channel`'s groups that carry a `frame` and that `accepts`
        are written with `send` (the socket's ASGI send) directly; call open() on the returned
        Sink once the socket is accepted (frames wait until then), detach() when it closes."""
        return self._get_layer().attach(channel, accepts, send)

    def detach(self, channel: str) -> None:
        self._get_layer().sinks.pop(channel, None)


def send_now(group: str, event: dict[str, Any]) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, event)
    except Exception:  # a lost broadcast must not fail the write that already committed
        logger.exception("could not broadcast %s to %s", event.get("type"), group)


def send_on_commit(group: str, event: dict[str, Any]) -> None:
    transaction.on_commit(lambda: send_now(group, event))
