import time

from django.core.management.base import BaseCommand
from tqdm import tqdm

from search import services


class Command(BaseCommand):
    help = (
        "Rebuild every search document (PostgreSQL) and, with MEILI_URL, every Meilisearch index with no "
        "downtime: each is built whole under a new name, then swapped in for the live one."
    )

    def handle(self, *args, **options):
        start = time.perf_counter()
        bars: dict[str, tqdm] = {}

        def progress(stage: str, total: int, done: int) -> None:
            if stage not in bars:
                bars[stage] = tqdm(total=total, desc=stage, disable=None, file=self.stderr)
            bars[stage].update(done)

        counts = services.reindex(progress=progress)
        for bar in bars.values():
            bar.close()
        summary = ", ".join(f"{count} {kind}s" for kind, count in counts.items())
        engine = "PostgreSQL and Meilisearch" if services.meili_enabled() else "PostgreSQL"
        self.stdout.write(self.style.SUCCESS(f"Reindexed {summary} ({engine}) in {time.perf_counter() - start:.1f} s."))
