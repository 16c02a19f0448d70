"""The channel layer (musicapp.platform.realtime): channels-redis's pub/sub layer, against a real
redis-server of the test's own that it stops and starts again."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, cast

import pytest
import redis.exceptions
from django.conf import settings

from musicapp.platform.realtime import ChannelLayer
from tests.support.servers import redis_server, silent_server


def layer_at(url: str, *, capacity: int | None = None, **host_options: Any) -> ChannelLayer:
    """The layer as settings configure it, at the test's own Redis."""
    configured = cast(dict[str, Any], settings.CHANNEL_LAYERS["default"]["CONFIG"])
    config = {**configured, "hosts": [{**configured["hosts"][0], "address": url, **host_options}]}
    if capacity:
        config["capacity"] = capacity
    return ChannelLayer(**config)


async def receive(layer: ChannelLayer, channel: str) -> dict:
    return await asyncio.wait_for(layer.receive(channel), timeout=10)


async def subscribed_member(layer: ChannelLayer, group: str) -> str:
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    return channel


def test_a_group_message_reaches_each_member_of_each_process_once():
    async def scenario(url: str) -> None:
        here, there = layer_at(url), layer_at(url)
        members = [await subscribed_member(here, "party"), await subscribed_member(here, "party")]
        far = await subscribed_member(there, "party")
        await asyncio.sleep(0.1)  # subscriptions are sent without waiting for Redis's reply
        await here.group_send("party", {"type": "party.update", "n": 1})
        for layer, channel in [(here, members[0]), (here, members[1]), (there, far)]:
            assert await receive(layer, channel) == {"type": "party.update", "n": 1}
        await here.flush()
        await there.flush()

    with redis_server() as (url, _proc):
        asyncio.run(scenario(url))


def test_after_redis_comes_back_every_socket_is_told_to_resync():
    """What was published while the connection was down never arrives: each socket of the process
    gets realtime.resync (1012, its client reconnects for the state), and later messages flow."""

    async def scenario(url: str, restart) -> None:
        layer = layer_at(url)
        channel = await subscribed_member(layer, "party")
        await asyncio.sleep(0.1)
        await layer.group_send("party", {"type": "party.update", "n": 1})
        assert (await receive(layer, channel))["n"] == 1

        await asyncio.to_thread(restart)
        assert await receive(layer, channel) == {"type": "realtime.resync", "code": 1012}
        await layer.group_send("party", {"type": "party.update", "n": 2})  # resubscribed
        assert (await receive(layer, channel))["n"] == 2
        await layer.flush()

    with redis_server() as (url, proc), contextlib.ExitStack() as again:

        def restart() -> None:
            proc.kill()
            proc.wait(10)
            again.enter_context(redis_server(port=int(url.rsplit(":", 1)[1].split("/")[0])))

        asyncio.run(scenario(url, restart))


@pytest.mark.parametrize("behind", [3, 10])
def test_a_socket_that_falls_behind_is_told_to_resync_instead_of_buffering(behind):
    """A client that reads too slowly: past `capacity` waiting messages, its backlog is dropped for
    one realtime.resync (1013); a socket that keeps up is not affected."""

    async def scenario(url: str) -> None:
        layer = layer_at(url, capacity=3)
        slow, quick = await subscribed_member(layer, "party"), await subscribed_member(layer, "party")
        await asyncio.sleep(0.1)
        for n in range(behind):
            await layer.group_send("party", {"type": "party.update", "n": n})
            assert (await receive(layer, quick))["n"] == n
        waiting = [await receive(layer, slow)]
        if behind > 3:
            assert waiting == [{"type": "realtime.resync", "code": 1013}]
        else:
            waiting += [await receive(layer, slow) for _ in range(behind - 1)]
            assert [message["n"] for message in waiting] == list(range(behind))
        await layer.flush()

    with redis_server() as (url, _proc):
        asyncio.run(scenario(url))


def test_a_hung_redis_holds_a_broadcast_for_the_read_timeout_not_forever():
    """Redis accepts the connection and never answers: the broadcast gives up (send_now logs it
    and the write that sent it goes on)."""

    async def scenario(port: int) -> float:
        layer = layer_at(f"redis://127.0.0.1:{port}/0", socket_timeout=0.5, socket_connect_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(redis.exceptions.TimeoutError):
            await layer.group_send("party", {"type": "party.update"})
        return time.monotonic() - started

    with silent_server() as port:
        assert asyncio.run(scenario(port)) < 3
