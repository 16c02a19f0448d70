"""`make bench`: the production layout under load, closed loop and open loop, against the goals.

Run:
    make bench                                   # or, with options:
    .venv/bin/python -m musicapp.dev.devservices -- .venv/bin/python bench/load.py --seconds 10 --reps 3

Layout: the Procfile's `web` (granian WSGI, 2 workers, WEB_THREADS threads each) on the
devservices' database and Redis, with whatever catalog it holds (`make run`'s demo, or a bigger
`seed_demo`), rate limits on with a limit no run reaches. One listener with 30 liked songs, 5
liked albums and 50 plays is made for the authenticated paths (and deleted afterwards).

- Closed loop: wrk, 32 connections, each path for --seconds, --reps times: median req/s and p99.
- Open loop: requests sent on a fixed schedule whatever the server does (a mix: the song list
  2/7; album, `me`, recently played, library, recommendations 1/7 each), each latency measured
  from the request's *scheduled* time (no coordinated omission), at each --rates for
  --seconds, --reps times after a 3 s warm-up: medians of P50 / P95 / P99 and the errors. The
  generator is Python on the same two cores.

Goals (issue 14): in the closed loop, public reads at >= 80% and authenticated reads at >= 50%
of a trivial JSON 404's rate in the same run; in the open loop, P50 <= 10 ms, P95 <= 25 ms,
P99 <= 50 ms at 1,000 req/s, and the highest rate that still keeps P99 <= 50 ms. Prints
Markdown and writes JSON to bench/results/load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicapp.settings")

import django  # noqa: E402

django.setup()

from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.servers import BIN, wait_ready, wrk  # noqa: E402
from library.models import Album, LikedAlbum, LikedSong, Play, Song  # noqa: E402
from musicapp.dev.devservices import free_port  # noqa: E402

GOALS = {"p50": 10.0, "p95": 25.0, "p99": 50.0}  # issue 14's open-loop goals, at 1,000 req/s


def listener() -> tuple[User, str]:
    user = User.objects.create(email=f"bench-load-{int(time.time())}@example.com", is_email_verified=True)
    songs = list(Song.objects.order_by("pk")[:50])
    LikedSong.objects.bulk_create([LikedSong(user=user, song=song) for song in songs[:30]])
    LikedAlbum.objects.bulk_create([LikedAlbum(user=user, album=album) for album in Album.objects.order_by("pk")[:5]])
    Play.objects.bulk_create([Play(user=user, song=song, play_duration=30.0) for song in songs])
    return user, str(AccessToken.for_user(user))


def start_web(port: int) -> subprocess.Popen:
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    command = line.split(":", 1)[1].replace("$PORT", str(port)).replace("${WEB_CONCURRENCY:-2}", "2")
    command = command.replace("${WEB_THREADS:-8}", os.environ.get("WEB_THREADS", "8"))
    command = command.replace("0.0.0.0", "127.0.0.1")  # noqa: S104 (the Procfile's bind, made loopback)
    args = command.split()
    env = {**os.environ, "RATELIMIT_ENABLE": "true", "API_RATE": "100000000/1m", "LOG_LEVEL": "ERROR"}
    proc = subprocess.Popen([str(BIN / args[0]), *args[1:]], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    wait_ready(port)
    return proc


class Connections:
    """Keep-alive HTTP/1.1 connections for the open loop: a free one, or a new one (the
    schedule never waits for a connection)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.free: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def get(self, path: str, headers: str) -> int:
        reader, writer = self.free.pop() if self.free else await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            await reader.readexactly(length)
        except Exception:
            writer.close()
            raise
        self.free.append((reader, writer))
        return status


async def open_loop(port: int, rate: float, seconds: float, mix: list[tuple[str, str]]) -> dict:
    connections = Connections(port)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    start = time.perf_counter() + 0.2
    total = int(rate * seconds)
    choices = random.Random(7).choices(mix, k=total)  # the same sequence each run
    tasks = []

    async def one(scheduled: float, path: str, headers: str) -> None:
        try:
            status = await asyncio.wait_for(connections.get(path, headers), 10)
        except Exception as exc:  # noqa: BLE001 (every failure is counted by kind)
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            return
        if status >= 400:
            errors[str(status)] = errors.get(str(status), 0) + 1
        latencies.append((time.perf_counter() - scheduled) * 1000)

    for n, (path, headers) in enumerate(choices):
        scheduled = start + n / rate
        if (delay := scheduled - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled, path, headers)))
    await asyncio.gather(*tasks)
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * q))] if latencies else float("nan")

    achieved = len(latencies) / (max(seconds, 1e-9))
    return {"rate": rate, "sent": total, "answered": len(latencies), "achieved": achieved, "errors": errors,
            "p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--rates", default="250,400,550,700,1000")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    user, token = listener()
    album = Album.objects.order_by("pk").first()
    if album is None:
        raise SystemExit("needs a catalog: run `make run` once (demo catalog) or seed_demo")
    auth = f"Authorization: Bearer {token}\r\n"
    paths = {
        "trivial (JSON 404, the baseline)": ("/api/does-not-exist", ""),
        "song list (anonymous, cached)": ("/api/song/list?limit=20", ""),
        "album (anonymous, cached)": (f"/api/album/{album.pk}", ""),
        "`/api/user/me`": ("/api/user/me", auth),
        "`/api/library`": ("/api/library", auth),
        "`/api/recently-played`": ("/api/recently-played", auth),
        "`/api/playlist/public`": ("/api/playlist/public", ""),
        "`/api/recommendations`": ("/api/recommendations", auth),
    }
    # The mix: song list, album, `me`, recently played, plus library and recommendations.
    mix = [paths["song list (anonymous, cached)"]] * 2 + [
        paths[name]
        for name in (
            "album (anonymous, cached)",
            "`/api/user/me`",
            "`/api/recently-played`",
            "`/api/library`",
            "`/api/recommendations`",
        )
    ]
    port = free_port()
    server = start_web(port)
    closed: dict[str, list[tuple[float, str]]] = {}
    opened: dict[float, list[dict]] = {}
    try:
        for path, headers in paths.values():
            wrk_headers = ["-H", headers.strip()] if headers else []
            wrk(f"http://127.0.0.1:{port}{path}", 2, args.connections, wrk_headers)  # warm-up
        for _rep, (label, (path, headers)) in itertools.product(range(args.reps), paths.items()):
            wrk_headers = ["-H", headers.strip()] if headers else []
            closed.setdefault(label, []).append(
                wrk(f"http://127.0.0.1:{port}{path}", args.seconds, args.connections, wrk_headers)
            )
        asyncio.run(open_loop(port, 100, 3, mix))  # warm-up: the open loop's own connections
        for _rep, rate in itertools.product(range(args.reps), [float(r) for r in args.rates.split(",")]):
            opened.setdefault(rate, []).append(asyncio.run(open_loop(port, rate, args.seconds, mix)))
            time.sleep(1)
    finally:
        server.terminate()
        server.wait(30)
        user.delete()

    print(f"\n### Closed loop (wrk, {args.connections} connections, {args.seconds} s, medians of {args.reps})\n")
    print("Goals: public reads >= 80% and authenticated reads >= 50% of the trivial request's rate.\n")
    print("| path | requests/s | share of trivial | p99 | goal |\n|---|---:|---:|---:|---|")
    baseline = statistics.median(r for r, _ in closed["trivial (JSON 404, the baseline)"])
    for label, runs in closed.items():
        rps = statistics.median(r for r, _ in runs)
        p99 = sorted(p for _, p in runs)[len(runs) // 2]
        need = 0.5 if paths[label][1] else 0.8
        verdict = "" if label.startswith("trivial") else ("met" if rps >= need * baseline else "missed")
        print(f"| {label} | {rps:,.0f} | {rps / baseline:.0%} | {p99} | {verdict} |")
    print(f"\n### Open loop (the mix on schedule, {args.seconds} s, medians of {args.reps})\n")
    print("Goals at 1,000 req/s: P50 <= 10 ms, P95 <= 25 ms, P99 <= 50 ms, no errors.\n")
    print("| offered req/s | answered req/s | P50 ms | P95 ms | P99 ms | errors (all runs) | goals |")
    print("|---:|---:|---:|---:|---:|---|---|")
    results: dict[float, dict] = {}
    medians: dict[float, dict[str, float]] = {}
    all_errors: dict[float, dict[str, int]] = {}
    for rate, rate_runs in opened.items():
        med = {key: statistics.median(run[key] for run in rate_runs) for key in ("achieved", "p50", "p95", "p99")}
        errors: dict[str, int] = {}
        for run in rate_runs:
            for kind, count in run["errors"].items():
                errors[kind] = errors.get(kind, 0) + count
        met = all(med[key] <= goal for key, goal in GOALS.items()) and not errors
        print(
            f"| {rate:,.0f} | {med['achieved']:,.0f} | {med['p50']:.1f} | {med['p95']:.1f} | {med['p99']:.1f} "
            f"| {errors or 'none'} | {'met' if met else 'missed'} |"
        )
        results[rate] = {"median": med, "errors": errors, "runs": rate_runs}
        medians[rate], all_errors[rate] = med, errors
    meeting = [
        rate for rate, result in results.items() if result["median"]["p99"] <= GOALS["p99"] and not result["errors"]
    ]
    print(f"\nHighest offered rate with P99 <= 50 ms and no errors: {max(meeting, default=0):,.0f} req/s")
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "load.json").write_text(
        json.dumps({"closed": closed, "open": {str(k): v for k, v in results.items()}}, indent=2)
    )


if __name__ == "__main__":
    main()
