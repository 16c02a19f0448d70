"""WebSocket fan-out: N idle listeners of one live playlist on the Procfile's `ws` server.

Run:
    .venv/bin/python -m musicapp.dev.devservices -- .venv/bin/python bench/fanout.py \
        --listeners 3000 --edits 20

Starts one `ws` process as the Procfile does (uvicorn, musicapp.asgi; --processes for more, the
listeners alternating between them), connects N sockets to a public playlist's live updates
(ws/playlist/<id>/), then, --edits times a second apart, sends the playlist's state as a
committed edit does (playlists.services.broadcast_state) and measures the time from that call to
the *last* listener's playlist:update. Also reads the servers' RSS before and after the sockets
connect, and the CPU the servers and this process spent during the edits. The listeners run in
this process (on the same two cores), so the numbers include the clients' own cost of reading N
frames. Prints a Markdown row and JSON.
"""

from __future__ import annotations

import argparse
import asyncio
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

from asgiref.sync import sync_to_async  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.servers import ALL_MAY_WAIT, wait_ready  # noqa: E402
from library.models import Song  # noqa: E402
from musicapp.dev.devservices import free_port  # noqa: E402
from playlists import services  # noqa: E402

BIN = Path(sys.executable).parent


def start_ws_server(port: int) -> subprocess.Popen:
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("ws:"))
    command = line.split(":", 1)[1].replace("${WS_PORT:-8001}", str(port)).replace("${WS_CONCURRENCY:-1}", "1")
    command = command.replace("0.0.0.0", "127.0.0.1")  # noqa: S104 (the Procfile's bind, made loopback)
    env = {**os.environ, "RATELIMIT_ENABLE": "false", "LOG_LEVEL": "WARNING", **ALL_MAY_WAIT}
    args = command.split()
    proc = subprocess.Popen([str(BIN / args[0]), *args[1:]], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    wait_ready(port)
    return proc


def rss_mb(proc: subprocess.Popen) -> float:
    return psutil.Process(proc.pid).memory_info().rss / 2**20


class Arrivals:
    """When each listener got each edit's frame; an edit is done when all of them have it."""

    def __init__(self, listeners: int, edits: int) -> None:
        self.listeners = listeners
        self.times: list[list[float]] = [[] for _ in range(listeners)]
        self.counts = [0] * edits
        self.all_in = [asyncio.Event() for _ in range(edits)]

    def arrived(self, listener: int) -> None:
        edit = len(self.times[listener])
        self.times[listener].append(time.perf_counter())
        if edit < len(self.counts):
            self.counts[edit] += 1
            if self.counts[edit] == self.listeners:
                self.all_in[edit].set()


async def listen(url: str, n: int, arrivals: Arrivals, ready: asyncio.Event, stop: asyncio.Event) -> None:
    async with connect(url, open_timeout=120, max_queue=None, ping_interval=None) as socket:
        ready.set()

        async def read() -> None:
            async for frame in socket:
                if '"playlist:update"' in frame:
                    arrivals.arrived(n)

        # One reader that only wakes for a frame (polling with a timeout woke every socket twice
        # a second, on the cores the server uses too).
        reader = asyncio.create_task(read())
        await stop.wait()
        reader.cancel()


def cpu_seconds(processes: list[psutil.Process]) -> float:
    return sum(sum(process.cpu_times()[:2]) for process in processes)


async def run(
    urls: list[str], listeners: int, edits: int, playlist_id: str, servers: list[psutil.Process]
) -> tuple[list[float], dict[str, float]]:
    stop = asyncio.Event()
    arrivals = Arrivals(listeners, edits)
    readies = [asyncio.Event() for _ in range(listeners)]
    tasks = []
    for n in range(listeners):
        tasks.append(asyncio.create_task(listen(urls[n % len(urls)], n, arrivals, readies[n], stop)))
        if n % 200 == 199:
            await asyncio.sleep(0.2)  # connect in waves, as clients arrive
    await asyncio.wait_for(asyncio.gather(*(ready.wait() for ready in readies)), timeout=300)
    await asyncio.sleep(1)
    latencies = []
    broadcast = sync_to_async(services.broadcast_state, thread_sensitive=False)
    # Whose CPU the edits took: the servers', and this process's (the listeners reading).
    started_cpu = cpu_seconds(servers), time.process_time()
    for edit in range(edits):
        started = time.perf_counter()
        await broadcast(playlist_id)
        try:  # woken by the last arrival, not by polling every listener
            await asyncio.wait_for(arrivals.all_in[edit].wait(), timeout=10)
            latencies.append((max(times[edit] for times in arrivals.times) - started) * 1000)
        except TimeoutError:
            pass
        await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - started)))
    cpu = {
        "server_cpu_ms_per_edit": (cpu_seconds(servers) - started_cpu[0]) * 1000 / edits,
        "client_cpu_ms_per_edit": (time.process_time() - started_cpu[1]) * 1000 / edits,
    }
    stop.set()
    await asyncio.gather(*tasks)
    return latencies, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listeners", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--processes", type=int, default=1, help="`ws` processes, listeners alternating")
    args = parser.parse_args()
    run_id = str(int(time.time()))
    owner = User.objects.create(email=f"bench-fanout-{run_id}@example.com", name="Bench", is_email_verified=True)
    playlist = services.playlist_create(owner=owner, name="Fan-out", is_public=True)
    for song in Song.objects.order_by("pk")[:30]:
        services.playlist_song_add(playlist_id=playlist.pk, user=owner, song_id=song.pk)
    ports = [free_port() for _ in range(args.processes)]
    servers = [start_ws_server(port) for port in ports]
    try:
        idle = sum(rss_mb(server) for server in servers)
        token = AccessToken.for_user(owner)
        urls = [f"ws://127.0.0.1:{port}/ws/playlist/{playlist.pk}/?token={token}" for port in ports]
        processes = [psutil.Process(server.pid) for server in servers]
        latencies, cpu = asyncio.run(run(urls, args.listeners, args.edits, playlist.pk, processes))
        loaded = sum(rss_mb(server) for server in servers)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(60)
        playlist.delete()
        owner.delete()
    latencies.sort()
    result = {
        "listeners": args.listeners,
        "processes": args.processes,
        "edits": args.edits,
        "delivered_to_all": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 1) if latencies else None,
        "max_ms": round(latencies[-1], 1) if latencies else None,
        "rss_idle_mb": round(idle, 1),
        "rss_loaded_mb": round(loaded, 1),
        "rss_per_socket_kib": round((loaded - idle) * 1024 / args.listeners, 1),
        **{name: round(value, 1) for name, value in cpu.items()},
    }
    print(
        "| listeners | `ws` processes | edits reaching all | edit -> last listener p50 | p99 | max | RSS per socket "
        "| CPU per edit: servers / listeners |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {args.listeners} | {args.processes} | {len(latencies)} of {args.edits} | {result['p50_ms']} ms "
        f"| {result['p99_ms']} ms | {result['max_ms']} ms | {result['rss_per_socket_kib']} KiB "
        f"| {result['server_cpu_ms_per_edit']} / {result['client_cpu_ms_per_edit']} ms |"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
