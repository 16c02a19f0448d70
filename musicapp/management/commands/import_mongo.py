import argparse
import json
import sys
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from musicapp.mongo_import.dump import DumpError, find_collections
from musicapp.mongo_import.engine import BATCH, STATS, Importer, ImportFailed
from musicapp.mongo_import.verify import verify

AFTERWARDS = (("search_reindex",), ("refresh_popular",), ("compute_recommendations",))
SHOWN_PROBLEMS = 40


class Command(BaseCommand):
    help = (
        "Import the MongoDB data of the Express app from a mongodump folder (BSON) or mongoexport "
        "files (Extended JSON, one document per line); docs/IMPORT.md. Safe to rerun."
    )

    def add_arguments(self, parser):
        parser.add_argument("dump_dir", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="do everything, report, then roll it all back")
        parser.add_argument("--verify", action="store_true", help="compare the dump with the database; import nothing")
        parser.add_argument(
            "--report", type=Path, default=Path("import-report.json"), help="where the JSON report goes"
        )
        parser.add_argument("--batch-size", type=int, default=BATCH)
        parser.add_argument("--no-progress", action="store_true", help="no progress bars (logs, CI)")
        parser.add_argument(
            "--no-refresh", action="store_true", help="print the follow-up commands instead of running them"
        )
        # The second process of a big collection (engine.Importer._helper): not for people.
        parser.add_argument("--part", help=argparse.SUPPRESS)
        parser.add_argument("--run-id", type=int, help=argparse.SUPPRESS)

    def handle(self, *args, dump_dir, dry_run, verify, report, batch_size, no_progress, no_refresh, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            files = find_collections(dump_dir)
        except DumpError as exc:
            raise CommandError(str(exc)) from None
        if options["part"]:
            collection, start, end = options["part"].split(":")
            importer = Importer(files, dump=str(dump_dir), batch_size=batch_size)
            counts = importer.execute_part(collection, int(start), int(end), options["run_id"])
            self.stdout.write(json.dumps(counts))
            return
        if verify:
            return self.verify(files)
        importer = Importer(
            files,
            dump=str(dump_dir.resolve()),
            dry_run=dry_run,
            batch_size=batch_size,
            progress=None if no_progress else self.bar,
        )
        try:
            run = importer.execute(on_finish=lambda done: self.report(done, report))
        except (DumpError, ImportFailed) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Report written to {report}")
        changed = sum(s.get("imported", 0) + s.get("updated", 0) for s in run.stats.values())
        if dry_run:
            self.stdout.write(self.style.WARNING("Dry run: everything above was rolled back."))
        elif not changed:
            self.stdout.write(self.style.SUCCESS("Nothing changed: the database already holds this dump."))
        if dry_run or no_refresh:
            self.stdout.write("Then run: " + " && ".join(f"python manage.py {' '.join(c)}" for c in AFTERWARDS))
        elif changed:
            for command in AFTERWARDS:
                self.stdout.write(f"Running {' '.join(command)}...")
                call_command(*command, stdout=self.stdout, stderr=self.stderr)

    def report(self, importer: Importer, path: Path) -> None:
        """The table, the first problems, and the JSON report, written as the problems are read."""
        run = importer.run
        self.print_table(run.stats)
        unknown = importer.unknown_collections()
        if unknown:
            self.stdout.write(self.style.WARNING(f"Not imported, unknown to this app: {', '.join(unknown)}"))
        head = {
            "dump": run.dump,
            "dryRun": run.dry_run,
            "startedAt": run.started_at.isoformat(),
            "finishedAt": run.finished_at.isoformat() if run.finished_at else None,
            "collections": run.stats,
            "unknownCollections": unknown,
        }
        count = 0
        with path.open("w") as out:
            out.write(json.dumps(head, indent=1)[:-2] + ',\n "problems": [')
            for count, problem in enumerate(importer.problems(), start=1):
                out.write(("," if count > 1 else "") + "\n  " + json.dumps(problem, default=str))
                if count == 1:
                    self.stdout.write("\nDocuments rejected, merged, changed on the way or absent:")
                if count <= SHOWN_PROBLEMS:
                    target = f" -> {problem['target']}" if problem["outcome"] == "merged" else ""
                    reasons = "; ".join(problem["reasons"])
                    self.stdout.write(
                        f"  {problem['collection']}/{problem['id']} {problem['outcome']}{target}: {reasons}"
                    )
            out.write("\n ]\n}\n")
        if count > SHOWN_PROBLEMS:
            self.stdout.write(f"  ... {count:,} in all: see the JSON report")
        elif not count:
            self.stdout.write(self.style.SUCCESS("Every document was imported as it was."))

    def bar(self, collection: str, total: int):
        return tqdm(total=total, desc=f"{collection:>20}", unit="B", unit_scale=True, file=sys.stderr, leave=True)

    def print_table(self, stats: dict) -> None:
        header = ["collection", *STATS, "seconds", "docs/s"]
        lines = [header]
        for name, counts in stats.items():
            seconds = counts.get("seconds", 0) or 0
            rate = f"{counts.get('read', 0) / seconds:,.0f}" if seconds else "-"
            lines.append([name, *(f"{counts.get(k, 0):,}" for k in STATS), f"{seconds:.1f}", rate])
        widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
        for number, row in enumerate(lines):
            self.stdout.write(
                "  ".join(
                    cell.ljust(w) if i == 0 else cell.rjust(w)
                    for i, (cell, w) in enumerate(zip(row, widths, strict=True))
                )
            )
            if number == 0:
                self.stdout.write("  ".join("-" * w for w in widths))

    def verify(self, files) -> None:
        result = verify(files)
        header = ["collection", "documents", "imported", "merged", "rejected", "differences", "checksum"]
        self.stdout.write("  ".join(header))
        for name, counts in result.counts.items():
            cells = [name, *(str(counts.get(k, 0)) for k in header[1:-1]), result.checksums.get(name, "")[:12]]
            self.stdout.write("  ".join(cells))
        for difference in result.differences:
            self.stdout.write(f"  {difference.collection}/{difference.id}: {difference.what}")
        if not result.ok:
            total = sum(c.get("differences", 0) for c in result.counts.values())
            raise CommandError(f"{total} difference(s) between the dump and the database that no report explains")
        self.stdout.write(
            self.style.SUCCESS("The database matches the dump (rejected and merged documents as reported).")
        )
