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
"""

from __future__ import annotations

import asyncio
import logging
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

    def _resync_event(self, code: int) -> bytes:
        return self.channel_layer.serialize({"type": RESYNC, "code": code})

    async def _subscribe_to_channel(self, channel: str) -> None:
        self.channels[channel] = _Inbox(self.capacity, self._behind)
        await self._get_shard(channel).subscribe(channel)

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


def send_now(group: str, event: dict[str, Any]) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, event)
    except Exception:  # a lost broadcast must not fail the write that already committed
        logger.exception("could not broadcast %s to %s", event.get("type"), group)


def send_on_commit(group: str, event: dict[str, Any]) -> None:
    transaction.on_commit(lambda: send_now(group, event))
