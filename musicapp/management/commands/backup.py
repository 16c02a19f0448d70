from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from musicapp.platform import backups


class Command(BaseCommand):
    help = "Back up the database (pg_dump) and the local media store into one tar file (musicapp.platform.backups)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            type=Path,
            help="the file to write (default: musicapp-backup-<UTC time>.tar in the current folder)",
        )

    def handle(self, *args, output, **options):
        target = output or Path(f"musicapp-backup-{timezone.now():%Y%m%d-%H%M%S}.tar")
        if target.exists():
            raise CommandError(f"{target} exists: choose another --output")
        if not target.parent.is_dir():
            raise CommandError(f"{target.parent} is not a folder")
        try:
            summary = backups.backup(target)
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up to {summary.path}: database {summary.database_bytes:,} bytes, "
                f"{summary.media_files} media file(s)."
            )
        )
