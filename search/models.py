"""What search reads: one row per searchable thing (song, album, artist, public playlist), kept
in step with the catalog and playlists in the same transaction as their writes; changes bound
for Meilisearch wait in an outbox until a job has pushed them; a user's recent searches."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from musicapp.platform.ids import ObjectIdField
from musicapp.platform.models import BaseModel

MAX_RECENT = 20


class Kind(models.TextChoices):
    SONG = "song"
    ALBUM = "album"
    ARTIST = "artist"
    PLAYLIST = "playlist"


class SearchDocument(models.Model):
    """`name_norm` and `text_norm` are lower-case and unaccented (PostgreSQL's unaccent, applied
    when the row is written), `text_norm` also holding the words that find it besides its name:
    a song's artist and album, an album's artist, a playlist's description."""

    kind = models.CharField(max_length=10, choices=Kind.choices)
    object_id = ObjectIdField()
    artist_id = ObjectIdField(null=True, blank=True, help_text="A song's or album's artist; an artist's own id.")
    name = models.CharField(max_length=300)
    context = models.CharField(max_length=600, blank=True)
    name_norm = models.TextField(db_collation="C")  # "C": a btree serves LIKE 'prefix%' too
    text_norm = models.TextField()
    tsv = models.GeneratedField(
        expression=SearchVector("text_norm", config="simple"), output_field=SearchVectorField(), db_persist=True
    )
    popularity = models.FloatField(
        default=0.0, help_text="Plays in the last 30 days (an album's or artist's: its songs')."
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="search_document_unique")]
        indexes = [
            # Each tier of a search is a scan of one of these that stops after a few rows.
            models.Index(
                fields=["kind", "name_norm"], include=["popularity", "object_id"], name="search_document_name"
            ),
            models.Index(fields=["kind", "-popularity", "object_id"], name="search_document_popular"),
            # One per kind: a search within artists reads the artists' posting lists only.
            *(GinIndex(fields=["tsv"], condition=Q(kind=kind), name=f"search_document_{kind}_tsv") for kind in Kind),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class SearchWord(models.Model):
    """Every word of the catalog's documents (songs, albums, artists; not the playlists users
    write): what a mistyped word is corrected to, the most common first. A new word is added
    with its document; the counts, and the words no document holds any more, are brought up to
    date by the `search.vocabulary` job and by `search_reindex`."""

    word = models.TextField(primary_key=True, db_collation="C")
    docs = models.PositiveIntegerField(default=1, help_text="Documents holding the word (as last counted).")

    class Meta:
        indexes = [GinIndex(OpClass("word", name="gin_trgm_ops"), name="search_word_trgm")]

    def __str__(self) -> str:
        return self.word


class SearchChange(models.Model):
    """Outbox for Meilisearch: written in the transaction that changed the thing, deleted by the
    job once Meilisearch has it. A failed push leaves it here to be retried; nothing is lost."""

    kind = models.CharField(max_length=10, choices=Kind.choices)
    object_id = ObjectIdField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["id"], name="search_change_order")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"


class RecentSearch(BaseModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recent_searches")
    query = models.CharField(max_length=100)

    class Meta:
        constraints = [
            # One row per query whatever its case: searching again moves it to the top.
            models.UniqueConstraint("user", Lower("query"), name="search_recent_once"),
        ]
        indexes = [models.Index(fields=["user", "-created_at", "-id"], name="search_recent_user_idx")]

    def __str__(self) -> str:
        return self.query
