"""The one place that talks to the Channels layer (STYLE.md: one small module wraps group_send).

Broadcasts are sent after the transaction commits, so nobody hears of a change that rolled back.

ChannelLayer is channels-redis's layer made to hold up: settings give its Redis connections a
read timeout longer than the layer's own blocking receive (redis-py's default 5 s equals it, and
killed every idle socket after 5 s), and group membership changes wait for a connection instead
of failing when a thousand sockets close at once (the pool's limit), retrying a Redis hiccup,
so no dead member is left in a group for every later broadcast to pay for.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

import redis.exceptions
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.db import transaction

logger = logging.getLogger(__name__)

# Group changes in flight per process (and event loop), below the pool's max_connections so
# that receives and broadcasts always find a connection too.
GROUP_OPS_IN_FLIGHT = 32
ATTEMPTS = 5


class ChannelLayer(RedisChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    def _slot(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if loop not in self._slots:
            self._slots[loop] = asyncio.Semaphore(GROUP_OPS_IN_FLIGHT)
        return self._slots[loop]

    async def _steadily(self, operation: Callable[[], Awaitable[None]]) -> None:
        async with self._slot():
            for attempt in range(ATTEMPTS):
                try:
                    return await operation()
                except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
                    if attempt == ATTEMPTS - 1:
                        raise
                    await asyncio.sleep(0.05 * 2**attempt * (1 + random.random()))

    async def group_add(self, group: str, channel: str) -> None:
        await self._steadily(lambda: super(ChannelLayer, self).group_add(group, channel))

    async def group_discard(self, group: str, channel: str) -> None:
        await self._steadily(lambda: super(ChannelLayer, self).group_discard(group, channel))


def send_now(group: str, event: dict[str, Any]) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, event)
    except Exception:  # a lost broadcast must not fail the write that already committed
        logger.exception("could not broadcast %s to %s", event.get("type"), group)


def send_on_commit(group: str, event: dict[str, Any]) -> None:
    transaction.on_commit(lambda: send_now(group, event))
