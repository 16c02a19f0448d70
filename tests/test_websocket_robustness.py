"""What a careless network and a hostile client do to WebSockets, against the real ASGI server
(uvicorn, as `make run` and the Procfile's `ws` serve it) and real clients (`websockets`)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import redis
from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken
from websockets.asyncio.client import connect as aconnect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from listening_sessions import services as session_services
from musicapp.platform import realtime
from playlists import services
from tests.factories import PlaylistFactory, SongFactory, UserFactory
from tests.support.servers import app_server
from tests.support.ws import session_socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def server(static_root):
    """One server for the module's tests (each test's rows are its own: new ids every time).
    A thousand sockets connect at once here: all of them may wait their turn (the bound on
    connects, ConnectAdmission, has tests of its own)."""
    with app_server(static_root=static_root, env={"WS_CONNECT_QUEUE": "2000", "WS_CONNECT_WAIT_S": "60"}) as url:
        yield url


@pytest.fixture
def listening(server):
    owner = UserFactory()
    playlist = PlaylistFactory(owner=owner, is_public=True)
    url = f"{server.replace('http', 'ws', 1)}/ws/playlist/{playlist.pk}/?token={AccessToken.for_user(owner)}"
    return playlist, owner, url


def add_song(playlist, owner):
    services.playlist_song_add(playlist_id=playlist.pk, user=owner, song_id=SongFactory().pk)


def test_sockets_idle_for_a_minute_still_get_the_next_update(server, listening):
    """A live-playlist listener and a listening-session participant, idle together for 60 s."""
    playlist, owner, url = listening
    session = session_services.session_create(host=owner)
    song = SongFactory()
    with connect(url, open_timeout=10) as socket, session_socket(server, session.code, owner) as participant:
        participant.expect("session:state")
        time.sleep(60)  # longer than every socket timeout of the path (redis-py's 5 s default among them)
        add_song(playlist, owner)
        frame = json.loads(socket.recv(timeout=10))
        session_services.command_apply(
            session_id=session.pk, user=owner, kind="playback:play", data={"song_id": song.pk}
        )
        update = participant.expect("playback:update")
    assert frame["type"] == "playlist:update" and frame["data"]["playlist"]["songCount"] == 1
    assert update["currentSongId"] == song.pk


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("this is not json", "parse_error"),
        ("[" * 5000 + "]" * 5000, "parse_error"),
        (b"\x00\x01binary", "bad_frame"),
        (json.dumps({"type": "x", "data": "y" * 20_000}), "too_large"),
        (json.dumps([1, 2, 3]), "bad_frame"),
        (json.dumps({"type": "no:such:thing", "data": {}}), "read_only"),
    ],
    ids=["text", "deep", "binary", "oversize", "not-an-object", "unknown-type"],
)
def test_a_bad_frame_gets_an_error_and_the_socket_stays_open(listening, frame, code):
    playlist, owner, url = listening
    with connect(url, open_timeout=10, max_size=None) as socket:
        socket.send(frame)
        error = json.loads(socket.recv(timeout=10))
        assert error["type"] == "error" and error["data"]["code"] == code and error["data"]["message"]
        add_song(playlist, owner)  # still listening
        assert json.loads(socket.recv(timeout=10))["type"] == "playlist:update"


def test_an_unknown_path_is_refused_cleanly(server):
    url = f"{server.replace('http', 'ws', 1)}/ws/nothing/here/"
    with connect(url, open_timeout=10) as socket, pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404


def test_a_thousand_listeners_dropping_at_once_leave_no_stale_subscriptions(listening):
    """The layer is Redis pub/sub: a socket is one subscribed channel, its playlist's group one
    subscription of the server process. All of them go when the sockets drop at once."""
    playlist, _owner, url = listening
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    group = f"{prefix}__group__{services.group_name(playlist.pk)}"
    redis_server = redis.Redis.from_url(settings.REDIS_CACHE_URL)

    def subscriptions() -> tuple[int, int]:
        """(the server's subscribers of the group, sockets' channels subscribed)"""
        return redis_server.pubsub_numsub(group)[0][1], len(redis_server.pubsub_channels(f"{prefix}specific.*"))

    _, sockets_before = subscriptions()

    async def crowd(n: int) -> None:
        sockets = await asyncio.gather(*(aconnect(url, open_timeout=30) for _ in range(n)))
        assert subscriptions() == (1, sockets_before + n)
        for socket in sockets:  # drop without a goodbye: the server sees them all go at once
            socket.transport.abort()

    asyncio.run(crowd(1000))
    deadline = time.monotonic() + 30
    while subscriptions() != (0, sockets_before):
        assert time.monotonic() < deadline, f"left subscribed (group, sockets): {subscriptions()}"
        time.sleep(0.2)


def test_a_socket_told_to_resync_is_closed_for_its_client_to_reconnect(listening):
    """realtime.resync (the layer's Redis connection came back, or the socket fell behind)."""
    playlist, _owner, url = listening
    with connect(url, open_timeout=10) as socket, pytest.raises(ConnectionClosed) as closed:
        time.sleep(0.2)  # the server has joined the socket to the playlist's group
        realtime.send_now(services.group_name(playlist.pk), {"type": "realtime.resync", "code": 1012})
        socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012


def test_a_connect_waiting_longer_than_its_bound_is_told_to_come_back_and_the_queue_has_a_size():
    """websocket.Admission alone (ConnectAdmission's use of it, through a real server:
    listening_sessions' test_live): one connect runs, one may wait, and only for wait_s; a third
    is refused while the second waits."""
    from musicapp.platform.errors import Overloaded
    from musicapp.platform.websocket import Admission

    async def scenario() -> list[str]:
        gate, seen = Admission(at_once=1, queue=1, wait_s=0.3), []
        release = asyncio.Event()

        async def connect(name: str) -> None:
            try:
                await gate.enter()
            except Overloaded:
                return seen.append(f"{name} refused")
            seen.append(f"{name} in")
            await release.wait()
            gate.leave()

        running = asyncio.create_task(connect("first"))
        await asyncio.sleep(0)
        waiting = asyncio.create_task(connect("second"))
        await asyncio.sleep(0.05)
        await connect("third")  # the queue (one) is taken: refused at once
        await waiting  # refused after wait_s
        release.set()
        await running
        await connect("fourth")  # the slot is free again (and nothing waits)
        return seen

    assert asyncio.run(scenario()) == ["first in", "third refused", "second refused", "fourth in"]
