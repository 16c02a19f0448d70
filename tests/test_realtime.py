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


class FakeSocket:
    """A socket's ASGI send, as a server implements it: it waits while the socket's buffer is
    full (`writable` cleared), before writing (uvicorn's) or after (an implementation that drains
    after each write)."""

    def __init__(self, *, waits_after_writing: bool = False) -> None:
        self.sent: list[str] = []
        self.writable = asyncio.Event()
        self.writable.set()
        self.waits_after_writing = waits_after_writing

    async def send(self, message: dict) -> None:
        if not self.waits_after_writing:
            await self.writable.wait()
        self.sent.append(message["text"])
        if self.waits_after_writing:
            await self.writable.wait()


def update(n: int, *, public: bool = True) -> dict:
    return {"type": "party.update", "frame": f"frame {n}", "public": public}


def public_only(event: dict) -> bool:
    return event["public"]


def test_attached_sockets_are_written_each_frame_directly_in_order_and_the_rest_reach_the_consumer():
    """Frames an attached socket accepts skip its consumer (realtime's direct path); frames it
    does not accept, and every frame to a socket that is not attached, reach the consumer."""

    async def scenario(url: str) -> None:
        layer = layer_at(url)
        attached, plain = await subscribed_member(layer, "party"), await subscribed_member(layer, "party")
        socket = FakeSocket()
        sink = layer.attach(attached, public_only, socket.send)
        await asyncio.sleep(0.1)
        await layer.group_send("party", update(0))  # before open(): waits for it
        await asyncio.sleep(0.1)
        assert socket.sent == []
        sink.open()
        for n in range(1, 5):
            await layer.group_send("party", update(n))
        await layer.group_send("party", update(5, public=False))
        assert [(await receive(layer, plain))["frame"] for _ in range(6)] == [f"frame {n}" for n in range(6)]
        assert socket.sent == [f"frame {n}" for n in range(5)]
        assert (await receive(layer, attached))["frame"] == "frame 5"  # not accepted: its consumer's
        layer.detach(attached)
        await layer.group_send("party", update(6))
        assert (await receive(layer, attached))["frame"] == "frame 6"
        assert len(socket.sent) == 5
        await layer.flush()

    with redis_server() as (url, _proc):
        asyncio.run(scenario(url))


@pytest.mark.parametrize("waits_after_writing", [False, True])
def test_a_slow_attached_socket_keeps_its_frames_in_order_and_holds_up_no_other(waits_after_writing):
    """A socket whose send cannot complete at once (its client reads slowly): its later frames
    wait, in order, each written once, while the others are written at once; past `capacity`
    waiting it is told to resync (1013) like any socket that falls behind."""

    async def scenario(url: str) -> None:
        layer = layer_at(url, capacity=3)
        slow_channel, quick_channel = await subscribed_member(layer, "party"), await subscribed_member(layer, "party")
        slow, quick = FakeSocket(waits_after_writing=waits_after_writing), FakeSocket()
        layer.attach(slow_channel, public_only, slow.send).open()
        layer.attach(quick_channel, public_only, quick.send).open()
        await asyncio.sleep(0.1)
        slow.writable.clear()
        for n in range(3):
            await layer.group_send("party", update(n))
        await asyncio.sleep(0.2)
        assert quick.sent == ["frame 0", "frame 1", "frame 2"]
        slow.writable.set()
        await asyncio.sleep(0.1)
        assert slow.sent == ["frame 0", "frame 1", "frame 2"]

        slow.writable.clear()
        for n in range(3, 3 + 5):  # one being written, then more than capacity (3) waiting
            await layer.group_send("party", update(n))
        assert await receive(layer, slow_channel) == {"type": "realtime.resync", "code": 1013}
        await asyncio.sleep(0.1)
        assert quick.sent == [f"frame {n}" for n in range(8)]
        await layer.flush()

    with redis_server() as (url, _proc):
        asyncio.run(scenario(url))
