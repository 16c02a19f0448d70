"""Search with the PostgreSQL engine on 100,000 songs: database time per search, P50 and P99.

Run:
    .venv/bin/python -m musicapp.dev.devservices -- .venv/bin/python bench/search.py --songs 100000
    .venv/bin/python -m musicapp.dev.devservices -- .venv/bin/python bench/search.py --relevance

It uses databases of its own next to the development one (`<name>_bench_search`, and
`<name>_bench_relevance` for --relevance), created, migrated and seeded on the first run, so the
development data is untouched: the demo catalog (`seed_demo`) plus --songs bulk songs named the
way the demo's are (shared words, several languages), about 500 artists and 8,000 albums per
100,000 songs.

For each query of a fixed mix (as typed letter by letter, common words that match thousands of
songs, two words, one typo, accents dropped, nothing found) it runs the engine --repeat times
after a warm-up, every kind at once with limit 10 as the SPA asks, and records

- database time: the time spent in cursor.execute for the engine's statements (its transaction
  with the similarity thresholds, then the ranked ids), from Django's execute wrapper;
- whole search: the engine plus building the API's objects (songs, albums, artists, playlists),
  as GET /api/search does on a cache miss.

It prints a Markdown table (P50/P99 per class of query and overall), EXPLAIN (ANALYZE, BUFFERS)
of the slowest query, and writes bench/results/search.json. --relevance prints hit@1 and hit@5
of the relevance set (search/tests/relevance.py) per kind and per category, on the demo catalog.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicapp.settings")

QUERIES = {
    "typing": ["m", "mi", "mid", "midn", "midni", "midnig", "midnight", "midnight s", "midnight spar"],
    "common word": ["night", "the", "blue", "song", "love", "river", "summer"],
    "two or more words": ["blue night", "river song", "where the morning ends", "the velvet lanterns"],
    "one typo": ["beatels", "nigth", "summre rain", "velvet lantrens", "moring"],
    "accents dropped": ["cafe", "coracao", "sostrene gronn", "beyonce", "motorhead"],
    "artist and title": ["beatles road", "beyonce wire", "kaze no uta summer"],
    "nothing found": ["zzzxq", "qwertyuiop", "xylophonic banjo"],
}


def use_database(suffix: str) -> str:
    """Point DATABASE_URL at a database of the bench's own (created if missing); returns its name."""
    url = urlsplit(os.environ["DATABASE_URL"])
    name = f"{url.path.lstrip('/')}_{suffix}"
    with psycopg.connect(urlunsplit(url), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunsplit(url._replace(path=f"/{name}"))
    os.environ.setdefault("MEDIA_ROOT", str(ROOT / ".devdata" / "bench-media"))
    return name


def prepare(songs: int) -> None:
    from django.core.management import call_command

    from library.models import Song

    call_command("migrate", verbosity=0)
    have = Song.objects.count()
    if have == 0:
        print("Loading the demo catalog...", flush=True)
        call_command("seed_demo", stdout=io.StringIO())
        have = Song.objects.count()
    if songs > have:
        print(f"Adding {songs - have} songs (once; kept for the next run)...", flush=True)
        call_command("seed_demo", songs=songs - have, stdout=io.StringIO())
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) search_searchdocument")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(repeat: int) -> dict:
    from django.db import connection

    from search import engines, queries

    engine = engines.postgres()
    kinds = list(engines.KINDS)
    db_time = [0.0]

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            db_time[0] += time.perf_counter() - started

    results: dict = {"classes": {}, "queries": {}}
    every_db: list[float] = []
    slowest = ("", 0.0)
    for klass, texts in QUERIES.items():
        db_ms, whole_ms = [], []
        for text in texts:
            engine.search(text, kinds, 10)  # warm-up
            per_query = []
            for _ in range(repeat):
                db_time[0] = 0.0
                started = time.perf_counter()
                with connection.execute_wrapper(timed):
                    found = engine.search(text, kinds, 10)
                    queries._hydrate(found)
                whole = (time.perf_counter() - started) * 1000
                db_time[0] = 0.0
                with connection.execute_wrapper(timed):
                    engine.search(text, kinds, 10)
                db_ms.append(db_time[0] * 1000)
                every_db.append(db_time[0] * 1000)
                per_query.append(db_time[0] * 1000)
                whole_ms.append(whole)
            p99 = percentile(per_query, 99)
            results["queries"][text] = {"p50_ms": statistics.median(per_query), "p99_ms": p99}
            if p99 > slowest[1]:
                slowest = (text, p99)
        results["classes"][klass] = {
            "db_p50_ms": statistics.median(db_ms),
            "db_p99_ms": percentile(db_ms, 99),
            "whole_p50_ms": statistics.median(whole_ms),
            "whole_p99_ms": percentile(whole_ms, 99),
            "searches": len(db_ms),
        }
    results["overall"] = {"db_p50_ms": statistics.median(every_db), "db_p99_ms": percentile(every_db, 99)}
    results["slowest"] = {"query": slowest[0], "explain": explain(slowest[0])}
    return results


def explain(text: str) -> str:
    from django.db import connection, transaction

    from search import engines

    engine = engines.postgres()
    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = engine.ranked(engine.plan(cursor, text), list(engines.KINDS), 10)
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def relevance_report() -> None:
    from search import queries
    from search.tests import relevance

    def run(q: str, kind: str) -> list[dict]:
        found = queries._ids(q, [kind], 10)[0]
        return queries._hydrate(found)[queries.PLURALS[kind]]

    by_kind, by_category, misses = relevance.score(run)
    print(f"Relevance set: {len(relevance.CASES)} queries on the demo catalog (PostgreSQL engine)\n")
    print("| | queries | hit@1 | hit@5 |\n|---|---|---|---|")
    for label, table in (("kind", by_kind), ("category", by_category)):
        for name, score in table.items():
            hit1, hit5 = score.hit1 / score.cases, score.hit5 / score.cases
            print(f"| {label}: {name} | {score.cases} | {hit1:.0%} | {hit5:.0%} |")
    total = sum(s.cases for s in by_kind.values())
    hit1 = sum(s.hit1 for s in by_kind.values())
    hit5 = sum(s.hit5 for s in by_kind.values())
    print(f"| **all** | {total} | {hit1 / total:.0%} | {hit5 / total:.0%} |")
    print("\nNot first:")
    for case, rank in misses:
        print(f"- `{case.query}` ({case.kind}) -> {case.name}: rank {rank}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--songs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--relevance", action="store_true", help="report the relevance set instead")
    args = parser.parse_args()
    name = use_database("bench_relevance" if args.relevance else "bench_search")
    import django

    django.setup()
    if args.relevance:
        prepare(0)
        relevance_report()
        return
    prepare(args.songs)
    from search.models import SearchDocument

    docs = {k: SearchDocument.objects.filter(kind=k).count() for k in ("song", "album", "artist", "playlist")}
    print(f"Database {name}: {docs}")
    results = measure(args.repeat)
    results["documents"] = docs
    print("\n| queries | searches | DB P50 ms | DB P99 ms | whole P50 ms | whole P99 ms |\n|---|---|---|---|---|---|")
    for klass, row in results["classes"].items():
        print(
            f"| {klass} | {row['searches']} | {row['db_p50_ms']:.1f} | {row['db_p99_ms']:.1f} "
            f"| {row['whole_p50_ms']:.1f} | {row['whole_p99_ms']:.1f} |"
        )
    print(f"| **all** | | {results['overall']['db_p50_ms']:.1f} | {results['overall']['db_p99_ms']:.1f} | | |")
    print(f"\nSlowest: {results['slowest']['query']!r}\n{results['slowest']['explain']}")
    out = ROOT / "bench" / "results" / "search.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"\nWrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
