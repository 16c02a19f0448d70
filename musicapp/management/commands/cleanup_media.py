from django.conf import settings
from django.core.management.base import BaseCommand

from musicapp.adapters import media


class Command(BaseCommand):
    help = "Delete files of the local media store that no row points at (the nightly job does the same)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-hours",
            type=float,
            default=settings.MEDIA_ORPHAN_GRACE_HOURS,
            help="leave younger files alone: an upload is stored before its row commits",
        )

    def handle(self, *args, older_than_hours, **options):
        deleted = media.delete_orphans(older_than_hours=older_than_hours)
        self.stdout.write(self.style.SUCCESS(f"Deleted {deleted} orphaned media file(s)."))
