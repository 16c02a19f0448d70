"""Listening sessions under load: S sessions x P participants over two server processes.

Run:
    .venv/bin/python -m musicapp.dev.devservices -- .venv/bin/python bench/sessions.py \
        --sessions 50 --participants 20 --seconds 30

Makes S sessions of P users (throwaway rows, deleted afterwards), starts two `ws` processes as
the Procfile does (uvicorn, musicapp.asgi), and connects every participant's socket, alternating
between the two processes. The hosts send --rate playback commands a second in all (each host
one every S / rate seconds; by default one a second each). For each
command it measures the time from sending to the *last* participant's playback:update of that
revision, counts updates never received (lost frames, goal 0), and reads the two processes'
RSS before and after the sockets connect (RSS per socket). Prints a Markdown table and writes
JSON to bench/results/sessions.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicapp.settings")

import django  # noqa: E402

django.setup()

from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.servers import ALL_MAY_WAIT, wait_ready  # noqa: E402
from library.models import Song  # noqa: E402
from listening_sessions import services  # noqa: E402
from listening_sessions.models import ListeningSession, SessionParticipant  # noqa: E402
from musicapp.dev.devservices import free_port  # noqa: E402

BIN = Path(sys.executable).parent


def start_server(port: int) -> subprocess.Popen:
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("ws:"))
    text = line.split(":", 1)[1].replace("${WS_PORT:-8001}", str(port)).replace("${WS_CONCURRENCY:-1}", "1")
    command = text.replace("0.0.0.0", "127.0.0.1").split()  # noqa: S104 (the Procfile's bind, made loopback)
    command += ["--log-level", "warning"]
    env = {
        **os.environ,
        "RATELIMIT_ENABLE": "false",
        "LOG_LEVEL": "WARNING",
        "SESSION_FRAMES_PER_S": "1000",
        **ALL_MAY_WAIT,
    }
    proc = subprocess.Popen([str(BIN / command[0]), *command[1:]], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    wait_ready(port)
    return proc


def rss_mb(proc: subprocess.Popen) -> float:
    process = psutil.Process(proc.pid)
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / 2**20


def make_people(sessions: int, participants: int, run: str) -> tuple[list[tuple[str, list[User]]], list[Song]]:
    users = User.objects.bulk_create(
        [
            User(email=f"bench-session-{run}-{n}@example.com", name=f"Bench {n}", is_email_verified=True)
            for n in range(sessions * participants)
        ]
    )
    songs = list(Song.objects.order_by("pk")[:20])
    if len(songs) < 2:
        raise SystemExit("needs songs: run `make run` once (demo catalog) or seed_demo")
    groups, joined = [], []
    for index in range(sessions):
        members = users[index * participants : (index + 1) * participants]
        session = services.session_create(host=members[0], name=f"bench {index}")
        groups.append((session.code, members))
        # Everyone has joined before the sockets connect (over REST, as the SPA does): the
        # benchmark measures commands, not 10,000 "participant joined" broadcasts.
        joined += [SessionParticipant(session=session, user=user) for user in members[1:]]
    SessionParticipant.objects.bulk_create(joined, batch_size=5000)
    return groups, songs


class ClientPauses:
    """The benchmark's own garbage-collector pauses: its 10,000 client sockets live in this one
    process, and a full collection that holds it holds every arrival it is timing."""

    def __init__(self) -> None:
        self.longest_ms, self.full, self._started = 0.0, 0, 0.0
        gc.callbacks.append(self._observe)

    def reset(self) -> None:
        """Count from now (the commands' window), not from the connects."""
        self.longest_ms, self.full = 0.0, 0

    def _observe(self, phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.full += 1
            self.longest_ms = max(self.longest_ms, (time.perf_counter() - self._started) * 1000)


class Listener:
    def __init__(self) -> None:
        self.received: dict[int, float] = {}  # revision -> when its playback:update arrived


async def listen(
    url: str, listener: Listener, ready: asyncio.Event, stop: asyncio.Event, handshakes: asyncio.Semaphore
) -> None:
    async with handshakes:  # a few hundred handshakes at a time, not 10,000 at once
        socket = await connect(url, open_timeout=120, max_queue=None)
        await socket.recv()  # session:state
    ready.set()

    async def read() -> None:
        async for message in socket:
            frame = json.loads(message)
            if frame["type"] == "playback:update":
                listener.received[frame["data"]["revision"]] = time.perf_counter()

    async with socket:
        # One reader per socket that only wakes for a frame (a recv with a timeout woke each of
        # 10,000 sockets twice a second, and that client work shared the cores with the servers).
        reader = asyncio.create_task(read())
        await stop.wait()
        reader.cancel()


async def host_loop(
    url: str,
    songs: list[Song],
    sent: dict[int, float],
    seconds: float,
    every: float,
    offset: float,
    stop: asyncio.Event,
) -> None:
    async with connect(url, open_timeout=60, max_queue=None) as socket:
        await socket.recv()
        revision, deadline = 0, time.monotonic() + seconds
        await asyncio.sleep(1 + offset)  # hosts spread over the interval, not all at once
        while time.monotonic() < deadline:
            command = (
                {"type": "playback:play", "data": {"songId": songs[revision % len(songs)].pk}}
                if revision % 2 == 0
                else {"type": "playback:seek", "data": {"currentTime": 10.0}}
            )
            started = time.perf_counter()
            await socket.send(json.dumps(command))
            while True:  # our own update tells us the revision this command got
                frame = json.loads(await socket.recv())
                if frame["type"] == "playback:update":
                    revision = frame["data"]["revision"]
                    sent[revision] = started
                    break
            await asyncio.sleep(max(0.0, every - (time.perf_counter() - started)))
        await asyncio.sleep(3)  # the last updates' way to everyone
        stop.set()


async def run(
    groups, songs, urls: list[str], seconds: float, rate: float, client_gc: str, pauses: ClientPauses
) -> tuple[list[float], int, int]:
    stop = asyncio.Event()
    listeners: list[tuple[dict[int, float], list[Listener]]] = []
    tasks, readies = [], []
    handshakes = asyncio.Semaphore(200)
    for index, (code, members) in enumerate(groups):
        sent: dict[int, float] = {}
        group_listeners = []
        for position, user in enumerate(members[1:], start=1):
            url = f"{urls[(index + position) % 2]}/ws/session/{code}/?token={AccessToken.for_user(user)}"
            listener, ready = Listener(), asyncio.Event()
            group_listeners.append(listener)
            readies.append(ready)
            tasks.append(asyncio.create_task(listen(url, listener, ready, stop, handshakes)))
        listeners.append((sent, group_listeners))
    connecting = time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.gather(*(ready.wait() for ready in readies)), timeout=900)
    except TimeoutError:
        stop.set()
        raise SystemExit(
            f"only {sum(r.is_set() for r in readies)} of {len(readies)} sockets connected in 900 s"
        ) from None
    print(f"{len(readies):,} listener sockets connected in {time.perf_counter() - connecting:.0f} s", flush=True)
    if client_gc == "freeze":  # the sockets live to the end: later full collections skip them
        gc.freeze()
    pauses.reset()
    hosts = [
        asyncio.create_task(
            host_loop(
                f"{urls[index % 2]}/ws/session/{code}/?token={AccessToken.for_user(members[0])}",
                songs,
                sent,
                seconds,
                len(groups) / rate,
                index / rate,
                stop,
            )
        )
        for index, ((code, members), (sent, _)) in enumerate(zip(groups, listeners, strict=True))
    ]
    await asyncio.gather(*hosts)
    await asyncio.gather(*tasks)
    latencies, lost, expected = [], 0, 0
    for sent, group_listeners in listeners:
        for revision, started in sent.items():
            arrivals = [listener.received.get(revision) for listener in group_listeners]
            arrived = [arrival for arrival in arrivals if arrival is not None]
            expected += len(arrivals)
            lost += len(arrivals) - len(arrived)
            if len(arrived) == len(arrivals):
                latencies.append((max(arrived) - started) * 1000)
    return latencies, lost, expected


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rate", type=float, help="playback commands a second, all hosts together")
    parser.add_argument(
        "--client-gc",
        choices=["freeze", "collect"],
        default="freeze",
        help="freeze: the connected client sockets are left out of the benchmark's own full garbage "
        "collections (they held it seconds at 10,000 sockets); collect: as Python does by default",
    )
    args = parser.parse_args()
    rate = args.rate or float(args.sessions)
    run_id = str(int(time.time()))
    groups, songs = make_people(args.sessions, args.participants, run_id)
    ports = [free_port(), free_port()]
    servers = [start_server(port) for port in ports]
    try:
        idle = [rss_mb(server) for server in servers]
        pauses = ClientPauses()
        latencies, lost, expected = asyncio.run(
            run(groups, songs, [f"ws://127.0.0.1:{port}" for port in ports], args.seconds, rate, args.client_gc, pauses)
        )
        loaded = [rss_mb(server) for server in servers]
    finally:
        for server in servers:
            server.terminate()
            server.wait(30)
        ListeningSession.objects.filter(code__in=[code for code, _ in groups]).delete()
        User.objects.filter(email__startswith=f"bench-session-{run_id}-").delete()
    sockets = args.sessions * args.participants
    latencies.sort()
    result = {
        "sessions": args.sessions,
        "participants": args.participants,
        "sockets": sockets,
        "commands_per_s": rate,
        "commands": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 1) if latencies else None,
        "max_ms": round(latencies[-1], 1) if latencies else None,
        "updates_expected": expected,
        "updates_lost": lost,
        "rss_idle_mb": [round(x, 1) for x in idle],
        "rss_loaded_mb": [round(x, 1) for x in loaded],
        "rss_per_socket_kib": round((sum(loaded) - sum(idle)) * 1024 / sockets, 1),
        "client_gc": args.client_gc,
        "client_full_collections": pauses.full,
        "client_longest_full_collection_ms": round(pauses.longest_ms, 1),
    }
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "sessions.json").write_text(json.dumps(result, indent=2))
    print(
        "| sessions x participants | sockets | commands/s | commands | command -> last update p50 | p99 | lost "
        "| RSS of both processes | RSS per socket |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {args.sessions} x {args.participants} | {sockets} | {rate:g} | {result['commands']} "
        f"| {result['p50_ms']} ms | {result['p99_ms']} ms | {lost} of {expected} | {sum(loaded):.0f} MB "
        f"| {result['rss_per_socket_kib']} KiB |"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
