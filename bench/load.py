"""`make bench`: the production layout under load, closed loop and open loop, against the goals.

Run:
    make bench                                   # the data set, then every bench; or only this one:
    .venv/bin/python -m musicapp.dev.devservices -- .venv/bin/python bench/load.py --seconds 10 --reps 3

Layout: the Procfile's `web` (granian WSGI, 2 workers, WEB_THREADS threads each) on the
devservices' database and Redis, with whatever data set it holds (`make bench` first tops it up
to issue 14's: 100,000 songs, 10,000 users, 20,000 playlists, 1,000,000 plays), rate limits on
with a limit no run reaches, /metrics adding up both workers. One listener with 30 liked songs,
5 liked albums and 50 plays is made for the authenticated paths (and deleted afterwards).

- closed: wrk, 32 connections, each path for --seconds, --reps times (paths interleaved):
  median req/s and p99, against a trivial JSON 404 in the same run.
- front: the public catalog through deploy/'s nginx (its 1 s page cache) against the app alone.
- open: requests sent on a fixed schedule whatever the server does (a mix: the song list 2/7;
  album, `me`, recently played, library, recommendations 1/7 each), each latency measured from
  the request's *scheduled* time (no coordinated omission), at each --rates for --seconds,
  --reps times after a 3 s warm-up: medians of P50 / P95 / P99 and the errors.
- zipf: the open loop with a Zipf mix over the whole data set, 10% writes (ZipfMix), and the
  cache hit rate from the app's own counters (musicapp_cache_lookups_total in /metrics).
- overload: past capacity, one `web` worker offered --overload-rate of the mix's authenticated
  reads, reached directly (granian queues without bound) and through deploy/'s nginx (the app
  sheds what waited over WEB_QUEUE_MAX_WAIT_S since nginx passed it on): how much is served,
  how fast, and how much is shed with 503.

The generator is Python (and wrk) on the same two cores as the server.

Goals (issue 14): in the closed loop, public reads at >= 80% and authenticated reads at >= 50%
of a trivial JSON 404's rate in the same run; in the open loop, P50 <= 10 ms, P95 <= 25 ms,
P99 <= 50 ms at 1,000 req/s, and the highest rate that still keeps P99 <= 50 ms; a cache hit
rate >= 90% in the Zipf mix. Prints Markdown and writes JSON to bench/results/load.json.
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
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicapp.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.servers import BIN, wait_ready, wrk, wrk_run  # noqa: E402
from library.models import Album, LikedAlbum, LikedSong, Play, Song  # noqa: E402
from musicapp.dev.devservices import free_port  # noqa: E402
from musicapp.dev.layout import NGINX, nginx  # noqa: E402
from playlists.models import Playlist  # noqa: E402

METRICS_TOKEN = "bench-metrics"

GOALS = {"p50": 10.0, "p95": 25.0, "p99": 50.0}  # issue 14's open-loop goals, at 1,000 req/s
Request = tuple[str, str, str, bytes]  # method, path, header lines, body


def listener() -> tuple[User, str]:
    user = User.objects.create(email=f"bench-load-{int(time.time())}@example.com", is_email_verified=True)
    songs = list(Song.objects.order_by("pk")[:50])
    LikedSong.objects.bulk_create([LikedSong(user=user, song=song) for song in songs[:30]])
    LikedAlbum.objects.bulk_create([LikedAlbum(user=user, album=album) for album in Album.objects.order_by("pk")[:5]])
    Play.objects.bulk_create([Play(user=user, song=song, play_duration=30.0) for song in songs])
    return user, long_token(user)


def long_token(user: User) -> str:
    """An access token that outlives the whole run (make bench takes longer than the default 15 min)."""
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(hours=3))
    return str(token)


def start_web(port: int, metrics_dir: str | None, workers: int = 2, **extra_env: str) -> subprocess.Popen:
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    command = line.split(":", 1)[1].replace("$PORT", str(port)).replace("${WEB_CONCURRENCY:-2}", str(workers))
    command = command.replace("${WEB_THREADS:-8}", os.environ.get("WEB_THREADS", "8"))
    command = command.replace("0.0.0.0", "127.0.0.1")  # noqa: S104 (the Procfile's bind, made loopback)
    args = command.split()
    env = {
        **os.environ,
        "RATELIMIT_ENABLE": "true",
        "API_RATE": "100000000/1m",
        "LOG_LEVEL": "ERROR",
        "METRICS_TOKEN": METRICS_TOKEN,
        **extra_env,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # set even to "", it turns multiprocess mode on
    if metrics_dir:
        env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir  # /metrics adds up both workers (README)
    proc = subprocess.Popen([str(BIN / args[0]), *args[1:]], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    wait_ready(port)
    return proc


class Connections:
    """Keep-alive HTTP/1.1 connections for the open loop: a free one, or a new one (the
    schedule never waits for a connection)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.free: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def send(self, request: Request) -> int:
        method, path, headers, body = request
        reader, writer = self.free.pop() if self.free else await asyncio.open_connection("127.0.0.1", self.port)
        try:
            head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
            if body:
                head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            writer.write(head.encode() + b"\r\n" + body)
            answer = await reader.readuntil(b"\r\n\r\n")
            status = int(answer.split(b" ", 2)[1])
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in answer.split(b"\r\n")
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


async def open_loop(
    port: int, rate: float, seconds: float, mix: list[Request] | Callable[[random.Random], Request]
) -> dict:
    """Requests sent at `rate` for `seconds` whatever the server does, each timed from its
    scheduled send: drawn from `mix` (equally often), or made by `mix(rng)`."""
    connections = Connections(port)
    latencies: list[float] = []
    served: list[float] = []  # the answers under 400 alone
    errors: dict[str, int] = {}
    start = time.perf_counter() + 0.2
    total = int(rate * seconds)
    rng = random.Random(7)  # the same sequence each run
    choices = [mix(rng) for _ in range(total)] if callable(mix) else rng.choices(mix, k=total)
    tasks = []

    async def one(scheduled: float, request: Request) -> None:
        try:
            status = await asyncio.wait_for(connections.send(request), 10)
        except Exception as exc:  # noqa: BLE001 (every failure is counted by kind)
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            return
        took = (time.perf_counter() - scheduled) * 1000
        if status >= 400:
            errors[str(status)] = errors.get(str(status), 0) + 1
        else:
            served.append(took)
        latencies.append(took)

    for n, request in enumerate(choices):
        scheduled = start + n / rate
        if (delay := scheduled - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled, request)))
    await asyncio.gather(*tasks)
    latencies.sort()
    served.sort()

    def pct(q: float, of: list[float] = latencies) -> float:
        return of[min(len(of) - 1, int(len(of) * q))] if of else float("nan")

    achieved = len(latencies) / (max(seconds, 1e-9))
    return {"rate": rate, "sent": total, "answered": len(latencies), "achieved": achieved, "errors": errors,
            "p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99),
            "served": len(served), "served_p50": pct(0.50, served), "served_p99": pct(0.99, served)}  # fmt: skip


class ZipfMix:
    """Reads and writes of a real service's shape: a few songs, albums, playlists and listeners
    get most of the traffic (Zipf, s = 1.1, over every row of the data set), 10% writes (plays
    reported, likes and unlikes) that retire the cached pages of their listener."""

    def __init__(self, listeners: int) -> None:
        rng = random.Random(11)
        self.songs = list(Song.objects.values_list("pk", flat=True))
        self.albums = list(Album.objects.values_list("pk", flat=True))
        self.playlists = list(Playlist.objects.filter(is_public=True).values_list("pk", flat=True))
        users = list(User.objects.filter(is_active=True, is_email_verified=True).order_by("?")[:listeners])
        self.auth = [f"Authorization: Bearer {long_token(user)}\r\n" for user in users]
        for rows in (self.songs, self.albums, self.playlists):
            rng.shuffle(rows)  # popularity unrelated to age or id
        self.weights = {len(rows): self.zipf(len(rows)) for rows in (self.songs, self.albums, self.playlists, users)}

    @staticmethod
    def zipf(n: int, s: float = 1.1) -> list[float]:
        return list(itertools.accumulate(1 / (k**s) for k in range(1, n + 1)))

    def pick(self, rng: random.Random, rows: list):
        return rng.choices(rows, cum_weights=self.weights[len(rows)])[0]

    def __call__(self, rng: random.Random) -> Request:
        roll = rng.random()
        auth = self.pick(rng, self.auth)
        song = self.pick(rng, self.songs)
        if roll < 0.30:
            return ("GET", f"/api/song/{song}", "", b"")
        if roll < 0.45:
            return ("GET", f"/api/album/{self.pick(rng, self.albums)}", "", b"")
        if roll < 0.52:
            return ("GET", "/api/song/list?limit=20", "", b"")
        if roll < 0.62:
            return ("GET", f"/api/playlist/{self.pick(rng, self.playlists)}", "", b"")
        if roll < 0.72:
            return ("GET", "/api/library", auth, b"")
        if roll < 0.82:
            return ("GET", "/api/recently-played", auth, b"")
        if roll < 0.90:
            return ("GET", "/api/recommendations", auth, b"")
        if roll < 0.96:
            body = {"songId": song, "playDuration": 5, "skipped": False, "contextType": "other", "contextId": ""}
            return ("POST", "/api/recently-played", auth, json.dumps(body).encode())
        return ("PUT" if roll < 0.98 else "DELETE", f"/api/library/songs/{song}", auth, b"")


def cache_lookups(port: int) -> dict[str, float]:
    """musicapp_cache_lookups_total by level, summed over the server's workers."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    counts = dict.fromkeys(("process", "redis", "built"), 0.0)
    for line in text.splitlines():
        if line.startswith("musicapp_cache_lookups_total{"):
            level = line.split('level="', 1)[1].split('"', 1)[0]
            counts[level] += float(line.rsplit(" ", 1)[1])
    return counts


def median_row(runs: list[tuple[float, str]]) -> tuple[float, str]:
    return statistics.median(r for r, _ in runs), sorted(p for _, p in runs)[len(runs) // 2]


# Answers that were not 2xx/3xx, or failed at the socket, by closed-loop path over all runs.
failures: dict[str, int] = {}


def closed_loop(args, base: str, paths: dict[str, tuple[str, str]]) -> dict[str, list[tuple[float, str]]]:
    """wrk on each path, the paths interleaved, --reps times."""
    runs: dict[str, list[tuple[float, str]]] = {}
    for path, headers in paths.values():
        wrk(f"{base}{path}", 2, args.connections, ["-H", headers.strip()] if headers else [])  # warm-up
    for _rep, (label, (path, headers)) in itertools.product(range(args.reps), paths.items()):
        wrk_headers = ["-H", headers.strip()] if headers else []
        rps, p99, failed = wrk_run(f"{base}{path}", args.seconds, args.connections, wrk_headers)
        runs.setdefault(label, []).append((rps, p99))
        failures[label] = failures.get(label, 0) + failed
    return runs


def print_closed(args, closed: dict, paths: dict) -> None:
    print(f"\n### Closed loop (wrk, {args.connections} connections, {args.seconds} s, medians of {args.reps})\n")
    print("Goals: public reads >= 80% and authenticated reads >= 50% of the trivial request's rate, no errors.\n")
    print("| path | requests/s | share of trivial | p99 | errors (all runs) | goal |\n|---|---:|---:|---:|---:|---|")
    baseline = median_row(closed["trivial (JSON 404, the baseline)"])[0]
    for label, runs in closed.items():
        rps, p99 = median_row(runs)
        need = 0.5 if paths[label][1] else 0.8
        trivial = label.startswith("trivial")
        failed = "(404s, by design)" if trivial else f"{failures.get(label, 0):,}"
        met = rps >= need * baseline and not failures.get(label)
        verdict = "" if trivial else "met" if met else "missed"
        print(f"| {label} | {rps:,.0f} | {rps / baseline:.0%} | {p99} | {failed} | {verdict} |")


def front(args, port: int, paths: dict[str, tuple[str, str]]) -> dict[str, list[tuple[float, str]]] | None:
    """The public catalog through deploy/'s nginx (its 1 s cache) against the app alone."""
    if not NGINX.exists():
        print("\n(nginx is not under .devdata/debian: `make proxy-tools`; the catalog-at-the-front runs are skipped)")
        return None
    names = ("trivial (JSON 404, the baseline)", "song list (anonymous, cached)", "album (anonymous, cached)")
    upstream = f"127.0.0.1:{port}"
    with nginx(
        [upstream],
        [upstream],
        media_root=settings.MEDIA_ROOT,
        static_root=settings.STATIC_ROOT,
        catalog_rate="1000000r/s",  # limits no run reaches
        catalog_burst=1000000,
    ) as url:
        targets = {
            **{f"{name}, app": (f"http://{upstream}", paths[name]) for name in names},
            **{f"{name}, nginx": (url, paths[name]) for name in names},
        }
        runs: dict[str, list[tuple[float, str]]] = {}
        for base, (path, _headers) in targets.values():
            wrk(f"{base}{path}", 2, args.connections)  # warm-up
        for _rep, (label, (base, (path, _headers))) in itertools.product(range(args.reps), targets.items()):
            runs.setdefault(label, []).append(wrk(f"{base}{path}", args.seconds, args.connections))
    print(f"\n### Public catalog at the front (wrk, {args.connections} connections, medians of {args.reps})\n")
    print("| path | the app alone (granian) | through nginx, its 1 s cache | nginx / app |\n|---|---:|---:|---:|")
    for name in names:
        app, proxied = median_row(runs[f"{name}, app"])[0], median_row(runs[f"{name}, nginx"])[0]
        print(f"| {name} | {app:,.0f} req/s | {proxied:,.0f} req/s | {proxied / app:.2f}x |")
    return runs


def open_loops(args, port: int, mix: list[Request]) -> dict[str, dict]:
    opened: dict[float, list[dict]] = {}
    asyncio.run(open_loop(port, 100, 3, mix))  # warm-up: the open loop's own connections
    for _rep, rate in itertools.product(range(args.reps), [float(r) for r in args.rates.split(",")]):
        opened.setdefault(rate, []).append(asyncio.run(open_loop(port, rate, args.seconds, mix)))
        time.sleep(1)
    print(f"\n### Open loop (the mix on schedule, {args.seconds} s, medians of {args.reps})\n")
    print("Goals at 1,000 req/s: P50 <= 10 ms, P95 <= 25 ms, P99 <= 50 ms, no errors.\n")
    print("| offered req/s | answered req/s | P50 ms | P95 ms | P99 ms | errors (all runs) | goals |")
    print("|---:|---:|---:|---:|---:|---|---|")
    results: dict[str, dict] = {}
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
        results[str(rate)] = {"median": med, "errors": errors, "runs": rate_runs}
    meeting = [float(rate) for rate, r in results.items() if r["median"]["p99"] <= GOALS["p99"] and not r["errors"]]
    print(f"\nHighest offered rate with P99 <= 50 ms and no errors: {max(meeting, default=0):,.0f} req/s")
    return results


def overload(args, mix: list[Request]) -> dict | None:
    """Past capacity: one `web` worker offered --overload-rate of the authenticated reads, reached
    directly (granian's queue, without bound) and through deploy/'s nginx (which stamps when it
    passed each request on; the app sheds what waited over WEB_QUEUE_MAX_WAIT_S)."""
    if not NGINX.exists():
        print("\n(nginx is not under .devdata/debian: `make proxy-tools`; the overload runs are skipped)")
        return None
    port = free_port()
    server = start_web(port, None, workers=1, TRUSTED_PROXIES="127.0.0.1")
    runs: dict[str, list[dict]] = {}
    try:
        upstream = f"127.0.0.1:{port}"
        with nginx([upstream], [upstream], media_root=settings.MEDIA_ROOT, static_root=settings.STATIC_ROOT) as url:
            targets = {"directly (granian's queue)": port, "through nginx (shed past 1 s)": int(url.rsplit(":", 1)[1])}
            for target in targets.values():
                asyncio.run(open_loop(target, 100, 2, mix))  # warm-up
            for _rep, (label, target) in itertools.product(range(args.reps), targets.items()):
                runs.setdefault(label, []).append(asyncio.run(open_loop(target, args.overload_rate, args.seconds, mix)))
                time.sleep(3)  # the queue of the run before drains
    finally:
        server.terminate()
        server.wait(30)
    print(
        f"\n### Past capacity: one `web` worker offered {args.overload_rate:,.0f} req/s of the authenticated reads "
        f"({args.seconds} s, medians of {args.reps})\n"
    )
    print("Goal: shed load quickly (503 `overloaded` with Retry-After) instead of queueing requests for seconds.\n")
    print("| reached | answered 2xx/s | P50 / P99 of 2xx ms | answered 503/s | P99 of all ms | other errors |")
    print("|---|---:|---:|---:|---:|---|")
    results = {}
    for label, label_runs in runs.items():
        med = {
            key: statistics.median(run[key] for run in label_runs)
            for key in ("served", "served_p50", "served_p99", "p99")
        }
        shed = statistics.median(run["errors"].get("503", 0) for run in label_runs)
        others: dict[str, int] = {}
        for run in label_runs:
            for kind, count in run["errors"].items():
                if kind != "503":
                    others[kind] = others.get(kind, 0) + count
        print(
            f"| {label} | {med['served'] / args.seconds:,.0f} | {med['served_p50']:.1f} / {med['served_p99']:.1f} "
            f"| {shed / args.seconds:,.0f} | {med['p99']:.1f} | {others or 'none'} |"
        )
        results[label] = {"median": med, "shed": shed, "other_errors": others, "runs": label_runs}
    return results


def zipf_mix(args, port: int) -> dict:
    mix = ZipfMix(args.zipf_listeners)
    asyncio.run(open_loop(port, args.zipf_rate, 5, mix))  # warm-up: caches fill as they would in service
    runs = []
    for _rep in range(args.reps):
        before = cache_lookups(port)
        run = asyncio.run(open_loop(port, args.zipf_rate, args.seconds, mix))
        after = cache_lookups(port)
        delta = {level: after[level] - before[level] for level in after}
        run["lookups"] = delta
        run["hit_rate"] = 1 - delta["built"] / max(1.0, sum(delta.values()))
        runs.append(run)
        time.sleep(1)
    med = {key: statistics.median(run[key] for run in runs) for key in ("achieved", "p50", "p95", "p99", "hit_rate")}
    errors: dict[str, int] = {}
    for run in runs:
        for kind, count in run["errors"].items():
            errors[kind] = errors.get(kind, 0) + count
    print(
        f"\n### Zipf mix of reads and writes ({args.zipf_rate:,.0f} req/s offered, {len(mix.songs):,} songs, "
        f"{len(mix.auth):,} listeners, {args.seconds} s, medians of {args.reps})\n"
    )
    print("Goal: cache hit rate >= 90% (musicapp_cache_lookups_total: 1 - built / all).\n")
    print("| answered req/s | P50 ms | P95 ms | P99 ms | errors | lookups: process / Redis / built | hit rate | goal |")
    print("|---:|---:|---:|---:|---|---|---:|---|")
    total = {level: sum(run["lookups"][level] for run in runs) for level in ("process", "redis", "built")}
    verdict = "met" if med["hit_rate"] >= 0.9 and not errors else "missed"
    print(
        f"| {med['achieved']:,.0f} | {med['p50']:.1f} | {med['p95']:.1f} | {med['p99']:.1f} | {errors or 'none'} "
        f"| {total['process']:,.0f} / {total['redis']:,.0f} / {total['built']:,.0f} | {med['hit_rate']:.1%} "
        f"| {verdict} |"
    )
    return {"median": med, "errors": errors, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--rates", default="500,1000,1250,1500,1750,2000")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--zipf-rate", type=float, default=200)
    parser.add_argument("--zipf-listeners", type=int, default=2000)
    parser.add_argument("--overload-rate", type=float, default=3000)
    parser.add_argument(
        "--only",
        default="closed,front,open,zipf,overload",
        help="comma-separated parts: closed, front, open, zipf, overload",
    )
    args = parser.parse_args()
    parts = set(args.only.split(","))
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
    mix = [("GET", *paths["song list (anonymous, cached)"], b"")] * 2 + [
        ("GET", *paths[name], b"")
        for name in (
            "album (anonymous, cached)",
            "`/api/user/me`",
            "`/api/recently-played`",
            "`/api/library`",
            "`/api/recommendations`",
        )
    ]
    print(
        f"Data set: {Song.objects.count():,} songs, {User.objects.count():,} users, "
        f"{Playlist.objects.count():,} playlists, {Play.objects.count():,} plays."
    )
    port = free_port()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as metrics_dir:
        server = start_web(port, metrics_dir)
        try:
            if "closed" in parts:
                results["closed"] = closed = closed_loop(args, f"http://127.0.0.1:{port}", paths)
                print_closed(args, closed, paths)
            if "front" in parts:
                results["front"] = front(args, port, paths)
            if "open" in parts:
                results["open"] = open_loops(args, port, mix)
            if "zipf" in parts:
                results["zipf"] = zipf_mix(args, port)
            if "overload" in parts:
                authenticated = [request for request in mix if request[2]]
                results["overload"] = overload(args, authenticated)
        finally:
            server.terminate()
            server.wait(30)
            user.delete()
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "load.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
