"""A WebSocket fuzzer: random and malformed frames at the session and live-playlist consumers of
a real server (uvicorn, as `make run` serves them), from a host and from a guest. Neither
consumer may die: every frame is answered or ignored, the socket stays open, no frame says
`server_error`, and after the storm the socket still does its job.

WS_FUZZ_FRAMES frames per socket (300 in `make test`; `make fuzz` sends 20,000); the same
frames every run (a seed), unless FUZZ_RANDOM=1.
"""

from __future__ import annotations

import json
import os
import random
import string
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from listening_sessions import services as sessions
from playlists import services as playlists
from tests.factories import SongFactory, UserFactory
from tests.support.servers import app_server
from tests.support.ws import Socket, session_socket, token, ws_base

pytestmark = pytest.mark.django_db(transaction=True)

FRAMES = int(os.environ.get("WS_FUZZ_FRAMES", "300"))
SEED = random.randrange(1 << 30) if os.environ.get("FUZZ_RANDOM") == "1" else 20261122
SESSION_TYPES = [
    "playback:play",
    "playback:pause",
    "playback:resume",
    "playback:seek",
    "playback:next",
    "playback:prev",
    "playback:loop",
    "queue:add",
    "queue:remove",
    "queue:reorder",
    "chat:message",
    "time:ping",
    "playback:ready",
    "sync:report",
    "vote:skip",
    "reaction:add",
    "participant:remove",
    "settings:update",
]
NASTY_STRINGS = ["", " ", "\x00", "\u202e", "💥" * 300, "a" * 5000, "null", "NaN", "-1", "1e309", "<script>", "'; --"]


class Fuzzer:
    """Frames of every kind a careless or hostile client sends: known types with data of the
    wrong shape, random JSON of any depth, broken JSON, binary, huge, and mutations of valid frames."""

    def __init__(self, rng: random.Random, song_ids: list[str]) -> None:
        self.rng = rng
        self.song_ids = song_ids

    def scalar(self) -> Any:
        r = self.rng
        return r.choice(
            [
                None,
                True,
                False,
                r.randint(-(2**63), 2**63),
                r.random() * 10 ** r.randint(-5, 400 // 10),
                -r.random(),
                r.choice(NASTY_STRINGS),
                "".join(r.choices(string.printable, k=r.randint(0, 40))),
                r.choice(self.song_ids),
            ]
        )

    def value(self, depth: int = 0) -> Any:
        roll = self.rng.random()
        if depth > 6 or roll < 0.55:
            return self.scalar()
        if roll < 0.8:
            return [self.value(depth + 1) for _ in range(self.rng.randint(0, 5))]
        keys = ["songId", "currentTime", "index", "queueIds", "loop", "text", "clientTime", "guestsCanControl", "x"]
        return {self.rng.choice(keys): self.value(depth + 1) for _ in range(self.rng.randint(0, 5))}

    def frame(self) -> str | bytes:
        frame = self._frame()
        return frame[:200_000]  # under the server's 1 MiB transport limit (a close is no crash)

    def _frame(self) -> str | bytes:
        r = self.rng
        roll = r.random()
        if roll < 0.5:
            return json.dumps({"type": r.choice(SESSION_TYPES), "data": self.value()})
        if roll < 0.6:
            return json.dumps({"type": self.scalar(), "data": self.value()})
        if roll < 0.7:
            return json.dumps(self.value())
        if roll < 0.78:
            valid = json.dumps({"type": r.choice(SESSION_TYPES), "data": {"songId": r.choice(self.song_ids)}})
            cut = r.randint(0, len(valid))
            return valid[:cut] + "".join(r.choices(string.printable, k=r.randint(0, 5))) + valid[cut:]
        if roll < 0.84:
            return bytes(r.randrange(256) for _ in range(r.randint(0, 64)))
        if roll < 0.88:
            return "[" * r.randint(100, 3000) + "]" * r.randint(0, 3000)
        if roll < 0.92:
            return json.dumps({"type": "chat:message", "data": {"text": "x" * r.randint(900, 20_000)}})
        if roll < 0.96:
            ids = [r.choice([*self.song_ids, "", 7, None, "x" * 30]) for _ in range(500)]
            return json.dumps({"type": "queue:reorder", "data": {"queueIds": ids}})
        return json.dumps({"type": "playback:seek", "data": {"currentTime": r.choice([1e308, -1e308, 2**70, -0.0])}})


def storm(socket: Socket, fuzzer: Fuzzer, frames: int) -> None:
    """Send the frames, reading whatever comes back; the socket must stay open throughout."""
    for n in range(frames):
        frame = fuzzer.frame()
        try:
            socket.send_raw(frame)
            while True:  # drain what is there without waiting for it
                answer = json.loads(socket.connection.recv(timeout=0))
                assert answer.get("data", {}).get("code") != "server_error", (frame, answer)
        except TimeoutError:
            continue
        except ConnectionClosed as closed:
            raise AssertionError(f"closed after {n} frames ({closed}); last: {frame!r:.300}") from closed
    try:  # the answers still on their way
        while True:
            answer = json.loads(socket.connection.recv(timeout=1))
            assert answer.get("data", {}).get("code") != "server_error", answer
    except TimeoutError:
        pass


@pytest.fixture
def server(static_root):
    # No per-socket frame limit: the fuzzer means to reach the handlers, not the throttle.
    with app_server(static_root=static_root, env={"SESSION_FRAMES_PER_S": "100000"}) as url:
        yield url


def test_session_consumers_survive_random_and_malformed_frames_from_host_and_guest(server):
    host, guest = UserFactory(), UserFactory()
    songs = SongFactory.create_batch(3, duration=120.0)
    session = sessions.session_create(host=host, name="Fuzz")
    fuzzer = Fuzzer(random.Random(SEED), [s.pk for s in songs])
    with session_socket(server, session.code, host) as h, session_socket(server, session.code, guest) as g:
        h.expect("session:state"), g.expect("session:state")
        storm(h, fuzzer, FRAMES)
        storm(g, fuzzer, FRAMES)
        # Still a working party: a ping is answered, a play reaches both.
        h.seen.clear(), g.seen.clear()
        g.send("time:ping", {"clientTime": 1.5})
        assert g.expect("time:pong")["clientTime"] == 1.5
        h.send("playback:play", {"songId": songs[1].pk, "currentTime": 0})
        for socket in (h, g):  # (updates the storm caused may still be on their way)
            while socket.expect("playback:update")["currentSongId"] != songs[1].pk:
                pass


def test_the_live_playlist_consumer_survives_random_and_malformed_frames(server):
    owner = UserFactory()
    songs = SongFactory.create_batch(2)
    playlist = playlists.playlist_create(owner=owner, name="Fuzzed", is_public=True)
    fuzzer = Fuzzer(random.Random(SEED + 1), [s.pk for s in songs])
    url = f"{ws_base(server)}/ws/playlist/{playlist.pk}/?token={token(owner)}"
    with Socket(connect(url, open_timeout=10, max_size=None)) as socket:
        storm(socket, fuzzer, FRAMES)
        socket.seen.clear()
        playlists.playlist_song_add(playlist_id=playlist.pk, user=owner, song_id=songs[0].pk)
        assert socket.expect("playlist:update")["playlist"]["songIds"] == [songs[0].pk]
