"""What the MongoDB import (manage.py import_mongo, musicapp.mongo_import) remembers between runs."""

from django.db import models
from django.utils import timezone


class ImportRun(models.Model):
    """One run of import_mongo: where from, when, and what it did per collection."""

    dump = models.CharField(max_length=500)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    dry_run = models.BooleanField(default=False)
    stats = models.JSONField(default=dict, help_text="Per collection: read, imported, updated, unchanged, ...")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"import of {self.dump} at {self.started_at:%Y-%m-%d %H:%M}"


class ImportedDocument(models.Model):
    """One MongoDB document the import has seen, by collection and `_id`.

    `checksum` is a digest of the rows the document became: a rerun skips a document whose
    digest has not changed (so an edit made in the new app since is not overwritten), and
    `--verify` compares it with the rows in the database. A document that was merged into
    another (a user whose email differs only by case) names it in `target_id`; a rejected or
    partly imported one says why in `notes`, which the report lists.
    """

    class Outcome(models.TextChoices):
        IMPORTED = "imported"
        MERGED = "merged"
        REJECTED = "rejected"

    pk = models.CompositePrimaryKey("collection", "source_id")
    collection = models.CharField(max_length=40)
    source_id = models.CharField(max_length=64, db_collation="C")
    checksum = models.CharField(max_length=32, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    target_id = models.CharField(max_length=24, blank=True, db_collation="C")
    notes = models.JSONField(default=list, blank=True)
    run = models.ForeignKey(ImportRun, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False)

    def __str__(self) -> str:
        return f"{self.collection}/{self.source_id}: {self.outcome}"
