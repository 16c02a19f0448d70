from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from library.querysets import AlbumQuerySet, ArtistQuerySet, SongQuerySet
from musicapp.platform.models import BaseModel

HEX_COLOUR = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #1db954.")


class Genre(BaseModel):
    """The genre vocabulary: songs pick one; the API filters on its slug or its name."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Artist(BaseModel):
    name = models.CharField(max_length=200)
    bio = models.TextField(blank=True)
    image = models.CharField(max_length=500, blank=True, help_text="Media-store key or an external URL.")

    objects = ArtistQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["created_at", "id"], name="library_artist_created_idx")]

    def __str__(self) -> str:
        return self.name


class Album(BaseModel):
    name = models.CharField(max_length=200)
    desc = models.TextField(blank=True)
    image = models.CharField(max_length=500, blank=True, help_text="Media-store key or an external URL.")
    bg_colour = models.CharField(max_length=7, default="#121212", validators=[HEX_COLOUR])
    # db_index=False: the composite indexes below lead with these columns.
    artist = models.ForeignKey(
        Artist, null=True, blank=True, on_delete=models.SET_NULL, related_name="albums", db_index=False
    )
    release_date = models.DateField(null=True, blank=True)

    objects = AlbumQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["created_at", "id"], name="library_album_created_idx"),
            models.Index(fields=["artist", "created_at", "id"], name="library_album_artist_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Song(BaseModel):
    name = models.CharField(max_length=200)
    desc = models.TextField(blank=True)
    image = models.CharField(max_length=500, blank=True, help_text="Cover; the album's when empty.")
    file = models.CharField(max_length=500, help_text="Audio: media-store key or an external URL.")
    duration = models.FloatField(help_text="Seconds, read from the audio file.")
    # db_index=False: the composite indexes below lead with these columns.
    album = models.ForeignKey(
        Album, null=True, blank=True, on_delete=models.SET_NULL, related_name="songs", db_index=False
    )
    artist = models.ForeignKey(
        Artist, null=True, blank=True, on_delete=models.SET_NULL, related_name="songs", db_index=False
    )
    genre = models.ForeignKey(
        Genre, null=True, blank=True, on_delete=models.SET_NULL, related_name="songs", db_index=False
    )
    track_number = models.PositiveSmallIntegerField(null=True, blank=True)

    objects = SongQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["album", "track_number"],
                condition=Q(album__isnull=False) & Q(track_number__isnull=False),
                name="library_song_unique_track",
            ),
            models.CheckConstraint(condition=Q(duration__gte=0), name="library_song_duration_positive"),
        ]
        indexes = [
            models.Index(fields=["created_at", "id"], name="library_song_created_idx"),
            models.Index(fields=["album", "track_number", "id"], name="library_song_album_track_idx"),
            models.Index(fields=["album", "created_at", "id"], name="library_song_album_idx"),
            models.Index(fields=["artist", "created_at", "id"], name="library_song_artist_idx"),
            models.Index(fields=["genre", "created_at", "id"], name="library_song_genre_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Lyrics(BaseModel):
    """Plain text and/or synced LRC; `synced` holds the parsed LRC ([{time, text}]) kept with it."""

    song = models.OneToOneField(Song, on_delete=models.CASCADE, related_name="lyrics")
    plain = models.TextField(blank=True)
    synced_lrc = models.TextField(blank=True, help_text="LRC text: [mm:ss.xx] lines, [offset:ms] honoured.")
    synced = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name_plural = "lyrics"

    def __str__(self) -> str:
        return f"lyrics of {self.song_id}"
