"""Start together: how far apart the players of one party start a song (issue 16).

Run:
    .venv/bin/python -m musicapp.dev.devservices -- .venv/bin/python bench/start_spread.py \
        --clients 20 --songs 20

Starts two `ws` processes as the Procfile does, puts --clients players in one session (the host
and half of the guests on one process, the rest on the other), and has each estimate its clock
offset with time:ping (the sample with the shortest round trip of 8). Then the host plays
--songs songs, one every 1.5 s. For each song, every player notes two instants, in the one
clock all of them share on this machine:
  - naive: when its playback:update arrived (a client that starts when the frame arrives);
  - start together: the update's startAt turned into its own clock (startAt - its offset).
The spread of a song is the latest minus the earliest instant over the players; the table gives
the median and the worst over the songs. The players run in this process, on the same two
cores as the servers. Prints a Markdown row and JSON (for docs/PERFORMANCE.md).

Loopback has next to no network: --delay-ms 5-80 gives each player a fixed one-way delay drawn
from that range (as phones on Wi-Fi and mobile networks), both ways: its pings see the round
trip, it reports it (sync:report, so the server's margin covers it), and its frames arrive that
much later. A player whose update arrives after startAt could not start on time: counted as late.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicapp.settings")

import django  # noqa: E402

django.setup()

from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.fanout import start_ws_server  # noqa: E402
from library.models import Song  # noqa: E402
from listening_sessions import services  # noqa: E402
from musicapp.dev.devservices import free_port  # noqa: E402


class Player:
    def __init__(self, url: str, delay: float) -> None:
        self.url = url
        self.delay = delay  # simulated one-way network delay, seconds
        self.rtt = 0.0
        self.late = 0
        self.offset = 0.0  # server clock minus this player's
        self.arrived: dict[int, float] = {}  # track -> when its update arrived
        self.start_at: dict[int, float] = {}  # track -> startAt in this player's clock

    async def clock(self, socket) -> None:
        samples = []
        for _ in range(8):
            sent = time.time()
            await asyncio.sleep(self.delay)  # on its way to the server
            await socket.send(json.dumps({"type": "time:ping", "data": {"clientTime": sent}}))
            while (frame := json.loads(await socket.recv()))["type"] != "time:pong":
                pass
            await asyncio.sleep(self.delay)  # and back
            received = time.time()
            samples.append((received - sent, frame["data"]["serverTime"] - (sent + received) / 2))
        self.rtt, self.offset = min(samples)
        report = {"position": 0, "offset": self.offset, "rtt": self.rtt}
        await socket.send(json.dumps({"type": "sync:report", "data": report}))

    async def run(self, ready: asyncio.Event, stop: asyncio.Event, host_commands: asyncio.Queue | None) -> None:
        async with connect(self.url, open_timeout=60, max_queue=None, ping_interval=None) as socket:
            while json.loads(await socket.recv())["type"] != "session:state":
                pass
            await self.clock(socket)
            ready.set()

            async def read() -> None:
                async for raw in socket:
                    frame = json.loads(raw)
                    if frame["type"] == "playback:update" and frame["data"]["startAt"]:
                        track = frame["data"]["track"]
                        arrived = time.time() + self.delay  # when the network would hand it over
                        start = frame["data"]["startAt"] - self.offset
                        self.arrived.setdefault(track, arrived)
                        if track not in self.start_at:
                            self.late += arrived > start
                            self.start_at[track] = max(start, arrived)  # a late player starts when it can

            reader = asyncio.create_task(read())
            while not stop.is_set():
                if host_commands is None:
                    await stop.wait()
                    break
                command = await host_commands.get()
                if command is None:
                    break
                await socket.send(json.dumps(command))
            await stop.wait()
            reader.cancel()


async def party(urls: list[str], song_ids: list[str], songs: int, delays: list[float]) -> list[Player]:
    players = [Player(url, delay) for url, delay in zip(urls, delays, strict=True)]
    readies = [asyncio.Event() for _ in players]
    stop = asyncio.Event()
    commands: asyncio.Queue = asyncio.Queue()
    tasks = [
        asyncio.create_task(player.run(ready, stop, commands if n == 0 else None))
        for n, (player, ready) in enumerate(zip(players, readies, strict=True))
    ]
    await asyncio.wait_for(asyncio.gather(*(ready.wait() for ready in readies)), timeout=120)
    for n in range(songs):
        await commands.put({"type": "playback:play", "data": {"songId": song_ids[n % len(song_ids)]}})
        await asyncio.sleep(1.5)
    await commands.put(None)
    stop.set()
    await asyncio.gather(*tasks)
    return players


def spreads(players: list[Player], field: str) -> list[float]:
    tracks = set.intersection(*(set(getattr(p, field)) for p in players))
    return [
        (max(getattr(p, field)[t] for p in players) - min(getattr(p, field)[t] for p in players)) * 1000
        for t in sorted(tracks)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--songs", type=int, default=20)
    parser.add_argument("--delay-ms", default="0-0", help="one-way network delay per player, min-max")
    args = parser.parse_args()
    low, high = (float(x) / 1000 for x in args.delay_ms.split("-"))
    rng = random.Random(16)
    delays = [rng.uniform(low, high) for _ in range(args.clients)]
    run_id = str(int(time.time()))
    people = User.objects.bulk_create(
        [
            User(email=f"bench-spread-{run_id}-{n}@example.com", name=f"Player {n}", is_email_verified=True)
            for n in range(args.clients)
        ]
    )
    session = services.session_create(host=people[0], name="Start together")
    song_ids = list(Song.objects.order_by("pk").values_list("pk", flat=True)[:10])
    ports = [free_port(), free_port()]
    servers = [start_ws_server(port) for port in ports]
    try:
        urls = [
            f"ws://127.0.0.1:{ports[n % 2]}/ws/session/{session.code}/?token={AccessToken.for_user(user)}"
            for n, user in enumerate(people)
        ]
        players = asyncio.run(party(urls, song_ids, args.songs, delays))
    finally:
        for server in servers:
            server.terminate()
            server.wait(60)
        session.delete()
        User.objects.filter(pk__in=[p.pk for p in people]).delete()
    naive, together = spreads(players, "arrived"), spreads(players, "start_at")
    result = {
        "clients": args.clients,
        "processes": 2,
        "one_way_delay_ms": args.delay_ms,
        "late_starts": sum(p.late for p in players),
        "songs": len(together),
        "naive_spread_ms": {"median": round(statistics.median(naive), 2), "max": round(max(naive), 2)},
        "start_together_spread_ms": {"median": round(statistics.median(together), 2), "max": round(max(together), 2)},
        "offsets_ms": [round(p.offset * 1000, 2) for p in players],
    }
    print(
        f"| {args.clients} players on 2 processes, {len(together)} songs, one-way delay {args.delay_ms} ms "
        f"| {result['naive_spread_ms']['median']} / {result['naive_spread_ms']['max']} ms "
        f"| {result['start_together_spread_ms']['median']} / {result['start_together_spread_ms']['max']} ms "
        f"| {result['late_starts']} |"
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
