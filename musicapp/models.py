"""What the MongoDB import (manage.py import_mongo, musicapp.mongo_import) remembers between runs."""

from django.core.validators import MaxValueValidator
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


class Switches(models.Model):
    """The operator's switches: one row (pk 1), edited in the admin, read through
    musicapp.platform.switches (cached; a change is seen everywhere within a second)."""

    read_only = models.BooleanField(
        default=False,
        help_text="Maintenance: the API refuses writes (503 with Retry-After) and keeps answering reads.",
    )
    read_only_message = models.CharField(
        max_length=200, blank=True, help_text="Shown to users during maintenance (a default when empty)."
    )
    retry_after_s = models.PositiveIntegerField(
        default=300, help_text="Seconds clients are told to wait before writing again."
    )
    signups_open = models.BooleanField(default=True, help_text="Off: registration answers 403 signups_closed.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "operator switches"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="musicapp_switches_one_row")]

    def __str__(self) -> str:
        return "Operator switches"


class FeatureFlag(models.Model):
    """A feature that can be turned off, or rolled out to a share of users (the same users stay
    in as the share grows: a user's bucket is a hash of the flag and the user)."""

    name = models.SlugField(primary_key=True, max_length=50)
    enabled = models.BooleanField(default=True)
    rollout_percent = models.PositiveSmallIntegerField(
        default=100, validators=[MaxValueValidator(100)], help_text="Share of users who get it when enabled."
    )
    description = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(rollout_percent__lte=100), name="musicapp_flag_percent_max")
        ]

    def __str__(self) -> str:
        return self.name
