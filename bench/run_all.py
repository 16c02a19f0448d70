"""`make bench`: every scenario of issue 14, one after another, and their results written into
docs/PERFORMANCE.md.

Run (the Makefile's `bench` target does it, after building the data set):
    .venv/bin/python -m musicapp.dev.devservices -- .venv/bin/python bench/run_all.py

Each scenario is its own script (bench/load.py, sessions.py, fanout.py, auth.py, growth.py),
run as a child process against the services already started. Its output is shown as it comes
and kept; at the end the block between the two `make bench` markers in docs/PERFORMANCE.md is
replaced by this run's: when, on which commit and machine, the exact commands, and each
scenario's tables and JSON as the script printed them. The rest of the file (the analysis,
written by hand) is left as it is. A scenario that fails is reported in the block, the others
still run, and the exit status says so.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "PERFORMANCE.md"
BEGIN = "<!-- make bench: begin (bench/run_all.py writes this block; edit outside it) -->"
END = "<!-- make bench: end -->"

SCENARIOS: list[tuple[str, list[str]]] = [
    ("Closed loop, catalog at the front, open loop, Zipf mix", ["bench/load.py"]),
    (
        "10,000 listening-session sockets on two `ws` processes",
        ["bench/sessions.py", "--sessions", "200", "--participants", "50", "--rate", "20", "--seconds", "30"],
    ),
    ("One live playlist with 3,000 listeners", ["bench/fanout.py", "--listeners", "3000", "--edits", "20"]),
    ("Logins from 10 clients at once", ["bench/auth.py", "--concurrency", "10"]),
    ("Cost growth with the plays table", ["bench/growth.py"]),
]


def run(argv: list[str]) -> tuple[int, str, float]:
    """Run one scenario, echoing its output; (exit status, what it printed, seconds)."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        lines.append(line)
    return proc.wait(), "".join(lines), time.monotonic() - started


def commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True)
        return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown"


def block(results: list[tuple[str, list[str], int, str, float]], data_set: str) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    cores = os.cpu_count()
    lines = [
        BEGIN,
        "",
        f"## `make bench`, last run: {now}",
        "",
        f"Commit {commit()}, {platform.machine()} with {cores} cores shared by the servers, PostgreSQL,",
        "Redis and the load generators. Written by `bench/run_all.py`; the analysis around it is not.",
        "",
        "```sh",
        "make bench",
        f"# = manage.py seed_demo --totals {data_set}",
        *(f"#   {' '.join(argv)}" for _, argv, *_ in results),
        "```",
        "",
    ]
    for title, argv, status, output, seconds in results:
        verdict = "" if status == 0 else f" (**failed**, exit status {status})"
        lines += [f"### {title}{verdict}", "", f"`{' '.join(argv)}`, {seconds / 60:.1f} min.", ""]
        text = [line for line in output.splitlines() if not line.startswith("{")]
        data = [line for line in output.splitlines() if line.startswith("{")]
        lines += [line.rstrip() for line in text]
        if data:
            lines += ["", "```json", *data, "```"]
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def write(text: str) -> None:
    doc = DOC.read_text()
    if BEGIN in doc and END in doc:
        doc = doc[: doc.index(BEGIN)] + text + doc[doc.index(END) + len(END) :]
    else:
        doc = doc.rstrip("\n") + "\n\n" + text + "\n"
    DOC.write_text(doc)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-set", default="", help="the seed_demo arguments, for the record")
    parser.add_argument("--load-args", default="", help="more arguments for bench/load.py (BENCH_ARGS)")
    parser.add_argument("--only", nargs="*", help="scenario scripts to run (e.g. bench/fanout.py)")
    args = parser.parse_args()
    results = []
    for title, argv in SCENARIOS:
        if args.only and argv[0] not in args.only:
            continue
        if argv[0] == "bench/load.py":
            argv = [*argv, *shlex.split(args.load_args)]
        print(f"\n== {title}: {' '.join(argv)}", flush=True)
        status, output, seconds = run(argv)
        results.append((title, argv, status, output, seconds))
    write(block(results, args.data_set))
    print(f"\nWritten into {DOC.relative_to(ROOT)}.")
    return 0 if all(status == 0 for _, _, status, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
