"""import_mongo on a dump of 10,000 users, 100,000 songs and 1,000,000 plays: time, rate, memory.

Run:
    .venv/bin/python -m musicapp.dev.devservices -- .venv/bin/python bench/import_mongo.py

It builds the dump once with pymongo's bson (under .devdata/bench-mongo-dump, reused while the
sizes are the same), then, in a database of its own (`<name>_bench_import`, dropped and
migrated afresh each run), runs `manage.py import_mongo` as a child process three times:

1. the first import, sampling the child's resident memory (VmRSS) every 0.2 s;
2. the same dump again (every document unchanged: nothing written);
3. `--verify` (every document converted again and compared with its rows), with --verify.

It prints a Markdown table per collection (documents, seconds, documents per second), the peak
memory and the memory along the plays (to show it flat), and writes bench/results/import_mongo.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import bcrypt
import bson
import psycopg
from bson import ObjectId

ROOT = Path(__file__).resolve().parent.parent
WORDS = [
    "midnight",
    "blue",
    "river",
    "song",
    "summer",
    "rain",
    "velvet",
    "lantern",
    "morning",
    "golden",
    "echo",
    "city",
    "heart",
    "fire",
    "road",
    "coração",
    "café",
    "noche",
    "luz",
    "sombra",
    "kaze",
    "yume",
    "étoile",
    "rêve",
    "himmel",
    "nacht",
    "sterne",
]


def object_ids(count: int, start: datetime) -> list[ObjectId]:
    return [ObjectId.from_datetime(start + timedelta(seconds=i)) for i in range(count)]


def unique_ids(count: int, salt: int) -> list[ObjectId]:
    # ObjectId.from_datetime leaves the last 8 bytes zero: fill them so every id is unique.
    base = datetime(2023, 1, 1, tzinfo=UTC)
    return [ObjectId(f"{int((base + timedelta(seconds=i)).timestamp()):08x}{salt:04x}{i:012x}") for i in range(count)]


def build_dump(folder: Path, users: int, songs: int, plays: int) -> None:
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    t0 = datetime(2023, 1, 1, tzinfo=UTC)
    hashes = [
        bcrypt.hashpw(f"password-{i}".encode(), bcrypt.gensalt(4)).decode().replace("$2b$", "$2a$") for i in range(16)
    ]
    user_ids, album_ids, song_ids = unique_ids(users, 1), unique_ids(max(1, songs // 10), 2), unique_ids(songs, 3)

    def write(name: str, docs) -> None:
        with (folder / f"{name}.bson").open("wb") as out:
            for doc in docs:
                out.write(bson.encode(doc))

    def title(n: int) -> str:
        return " ".join(rng.choice(WORDS).capitalize() for _ in range(1 + n % 3))

    write(
        "users",
        (
            {
                "_id": u,
                "email": f"user{i}@example.com",
                "password": hashes[i % 16],
                "name": f"Listener {i}",
                "isEmailVerified": True,
                "createdAt": t0 + timedelta(minutes=i),
                "updatedAt": t0 + timedelta(minutes=i),
            }
            for i, u in enumerate(user_ids)
        ),
    )
    write(
        "usersettings",
        (
            {"_id": ObjectId(), "userId": u, "theme": "light", "crossfade": i % 8, "audioQuality": "high"}
            for i, u in enumerate(user_ids)
        ),
    )
    album_names = [f"{title(i)} {i}" for i in range(len(album_ids))]
    write(
        "albums",
        (
            {"_id": a, "name": album_names[i], "desc": f"Artist {i % 1500}", "bgColour": "#336699"}
            for i, a in enumerate(album_ids)
        ),
    )
    write(
        "songs",
        (
            {
                "_id": s,
                "name": title(i),
                "desc": f"Artist {(i // 10) % 1500}",
                "album": album_names[(i // 10) % len(album_ids)],
                "image": f"https://img.example/{i}.jpg",
                "file": f"https://audio.example/{i}.mp3",
                "duration": f"{2 + i % 5}:{i % 60:02d}",
                "createdAt": t0,
            }
            for i, s in enumerate(song_ids)
        ),
    )
    write(
        "lyrics",
        (
            {"_id": ObjectId(), "songId": s, "plain": "la la la", "synced": "[00:01.00]la\n[00:02.50]la la"}
            for s in song_ids[: songs // 10]
        ),
    )
    write(
        "playlists",
        (
            {
                "_id": ObjectId(),
                "userId": user_ids[i % users],
                "name": f"Mix {i}",
                "isPublic": i % 3 == 0,
                "songIds": [song_ids[(i * 37 + k) % songs] for k in range(5000 if i == 0 else 30)],
            }
            for i in range(users * 2)
        ),
    )
    write(
        "libraries",
        (
            {
                "_id": ObjectId(),
                "userId": u,
                "likedSongIds": [song_ids[(i * 13 + k) % songs] for k in range(50)],
                "likedAlbumIds": [album_ids[(i + k) % len(album_ids)] for k in range(5)],
            }
            for i, u in enumerate(user_ids)
        ),
    )
    play_ids = unique_ids(plays, 4)
    write(
        "recentlyplayeds",
        (
            {
                "_id": p,
                "userId": user_ids[i % users],
                "songId": song_ids[(i * 7919) % songs],
                "playDuration": 30 + i % 200,
                "skipped": i % 9 == 0,
                "contextType": "album",
                "contextId": "",
                "playedAt": t0 + timedelta(seconds=i * 30),
            }
            for i, p in enumerate(play_ids)
        ),
    )
    write(
        "recentsearches",
        (
            {
                "_id": ObjectId(),
                "userId": user_ids[i % users],
                "query": f"{rng.choice(WORDS)} {i}",
                "searchedAt": t0 + timedelta(seconds=i),
            }
            for i in range(users * 5)
        ),
    )
    write(
        "recommendations",
        (
            {
                "_id": ObjectId(),
                "userId": u,
                "songIds": [song_ids[(i * 31 + k) % songs] for k in range(20)],
                "reason": "popular",
            }
            for i, u in enumerate(user_ids)
        ),
    )
    session_ids = object_ids(max(1, users // 10), t0)
    write(
        "sessions",
        (
            {
                "_id": s,
                "sessionCode": f"S{i:05d}",
                "hostId": user_ids[i % users],
                "isActive": False,
                "queueIds": [song_ids[(i + k) % songs] for k in range(10)],
                "expiresAt": t0,
            }
            for i, s in enumerate(session_ids)
        ),
    )
    write(
        "sessionparticipants",
        (
            {"_id": ObjectId(), "sessionId": session_ids[i % len(session_ids)], "userId": user_ids[(i * 3 + 1) % users]}
            for i in range(len(session_ids) * 5)
        ),
    )
    write(
        "chatmessages",
        (
            {
                "_id": ObjectId(),
                "sessionId": session_ids[i % len(session_ids)],
                "userId": user_ids[i % users],
                "text": f"message {i}",
            }
            for i in range(len(session_ids) * 20)
        ),
    )


def fresh_database(suffix: str) -> dict[str, str]:
    url = urlsplit(os.environ["DATABASE_URL"])
    name = f"{url.path.lstrip('/')}_{suffix}"
    with psycopg.connect(urlunsplit(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": urlunsplit(url._replace(path=f"/{name}")), "LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return env


def run(command: list[str], env: dict[str, str], *, check: bool = True) -> tuple[float, list[tuple[float, int]], str]:
    """Run a manage.py command; returns seconds, (seconds, RSS KiB) samples, its output."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", *command], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    samples: list[tuple[float, int]] = []

    def sample() -> None:
        while proc.poll() is None:
            try:
                status = Path(f"/proc/{proc.pid}/status").read_text()
            except OSError:
                return
            rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
            samples.append((time.monotonic() - started, rss))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = proc.communicate()[0].decode()
    sampler.join()
    if check and proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return time.monotonic() - started, samples, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--songs", type=int, default=100_000)
    parser.add_argument("--plays", type=int, default=1_000_000)
    parser.add_argument("--verify", action="store_true", help="also time --verify")
    parser.add_argument("--first-only", action="store_true", help="time the first import only (no rerun)")
    args = parser.parse_args()

    dump = ROOT / ".devdata" / "bench-mongo-dump"
    sizes = f"{args.users} {args.songs} {args.plays}"
    marker = dump / "sizes.txt"
    if not marker.exists() or marker.read_text() != sizes:
        print(f"Building the dump ({sizes})...", flush=True)
        started = time.monotonic()
        build_dump(dump, args.users, args.songs, args.plays)
        marker.write_text(sizes)
        print(f"  built in {time.monotonic() - started:.0f} s", flush=True)
    megabytes = sum(f.stat().st_size for f in dump.glob("*.bson")) / 1e6
    env = fresh_database("bench_import")
    report = ROOT / ".devdata" / "bench-import-report.json"
    common = ["import_mongo", str(dump), "--no-progress", "--no-refresh", "--report", str(report)]

    print("First import...", flush=True)
    first_seconds, samples, _ = run(common, env)
    stats = json.loads(report.read_text())["collections"]
    second_seconds, second_samples = 0.0, [(0.0, 0)]
    if not args.first_only:
        print("Same dump again...", flush=True)
        second_seconds, second_samples, output = run(common, env)
        assert "Nothing changed" in output, output[-2000:]
    verify_seconds = None
    if args.verify:
        print("Verify...", flush=True)
        verify_seconds, _, output = run(["import_mongo", str(dump), "--verify"], env)

    plays = stats["recentlyplayeds"]
    before_plays = sum(
        s["seconds"]
        for name, s in stats.items()
        if name != "recentlyplayeds" and list(stats).index(name) < list(stats).index("recentlyplayeds")
    )
    during = [rss for t, rss in samples if before_plays + 2 < t < before_plays + plays["seconds"]]
    quartiles = [during[int(len(during) * q)] // 1024 for q in (0.1, 0.5, 0.9)] if during else []
    print(f"\nDump: {megabytes:.0f} MB of BSON, {sum(s['read'] for s in stats.values()):,} documents\n")
    print("| collection | documents | seconds | documents/s |\n|---|---:|---:|---:|")
    for name, s in stats.items():
        rate = s["read"] / s["seconds"] if s["seconds"] else 0
        print(f"| {name} | {s['read']:,} | {s['seconds']:.1f} | {rate:,.0f} |")
    peak = max(rss for _, rss in samples) // 1024
    print(f"\nWhole first import: {first_seconds:.0f} s (including Django start-up); peak RSS {peak} MiB")
    print(f"RSS along the plays (10%, 50%, 90% of the way): {quartiles} MiB")
    if not args.first_only:
        second_peak = max(r for _, r in second_samples) // 1024
        print(f"Second run over the same dump (nothing written): {second_seconds:.0f} s, peak RSS {second_peak} MiB")
    if verify_seconds is not None:
        print(f"--verify: {verify_seconds:.0f} s")
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "import_mongo.json").write_text(
        json.dumps(
            {
                "sizes": vars(args),
                "dumpMegabytes": round(megabytes),
                "collections": stats,
                "firstSeconds": round(first_seconds, 1),
                "secondSeconds": round(second_seconds, 1),
                "verifySeconds": verify_seconds,
                "peakRssMiB": peak,
                "playsRssMiB": quartiles,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
