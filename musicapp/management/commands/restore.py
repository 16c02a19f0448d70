from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from musicapp.platform import backups


class Command(BaseCommand):
    help = (
        "Replace the database's contents with a backup's and put its media files back "
        "(musicapp.platform.backups). Stop the app's processes first."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", type=Path, help="a file written by `manage.py backup`")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, backup, yes, **options):
        if not backup.is_file():
            raise CommandError(f"{backup} is not a file")
        try:
            manifest = backups.read_manifest(backup)
            self.stdout.write(
                f"Backup of {manifest['database']} made {manifest['createdAt']}: "
                f"{manifest['mediaFiles']} media file(s), {len(manifest['migrations'])} migrations applied."
            )
            if not yes and input("This replaces everything in the database. Type 'restore' to go on: ") != "restore":
                raise CommandError("Nothing was changed.")
            restored = backups.restore(backup)
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored the database and {restored['mediaRestored']} media file(s). "
                "Run `manage.py migrate` if this release is newer than the backup's, and "
                "`manage.py search_reindex` when Meilisearch is in use."
            )
        )
