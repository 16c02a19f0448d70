import time

from django.core.management.base import BaseCommand

from library.models import PopularSong
from library.services import listening


class Command(BaseCommand):
    help = "Recompute the popular songs (last 30 days of public plays) without blocking readers."

    def handle(self, *args, **options):
        start = time.perf_counter()
        listening.popular_refresh()
        self.stdout.write(
            self.style.SUCCESS(
                f"Popular songs refreshed: {PopularSong.objects.count()} songs in {time.perf_counter() - start:.2f} s."
            )
        )
