"""What listeners do with the catalog: likes, plays, and what is derived from plays."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from library.models.catalog import Album, Song
from library.querysets import LikedQuerySet, PlayQuerySet, PopularSongQuerySet, RecommendationQuerySet
from musicapp.platform.models import BaseModel


class LikedSong(BaseModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="liked_songs", db_index=False
    )
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="likes")

    objects = LikedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "song"], name="library_likedsong_unique")]
        indexes = [models.Index(fields=["user", "-created_at", "-id"], name="library_likedsong_user_idx")]


class LikedAlbum(BaseModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="liked_albums", db_index=False
    )
    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="likes")

    objects = LikedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "album"], name="library_likedalbum_unique")]
        indexes = [models.Index(fields=["user", "-created_at", "-id"], name="library_likedalbum_user_idx")]


class Play(BaseModel):
    """One listen. Private-session plays stay in the listener's history but feed neither
    popularity nor recommendations."""

    class Context(models.TextChoices):
        ALBUM = "album"
        PLAYLIST = "playlist"
        ARTIST = "artist"
        SESSION = "session"
        SEARCH = "search"
        OTHER = "other"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plays", db_index=False)
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="plays", db_index=False)
    played_at = models.DateTimeField(default=timezone.now)
    play_duration = models.FloatField(help_text="Seconds listened.")
    skipped = models.BooleanField(default=False)
    context_type = models.CharField(max_length=10, choices=Context.choices, default=Context.OTHER)
    context_id = models.CharField(max_length=200, blank=True)
    is_private = models.BooleanField(default=False)

    objects = PlayQuerySet.as_manager()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(play_duration__gte=0), name="library_play_duration")]
        indexes = [
            # History: WHERE user_id = ? AND (played_at, id) < (?, ?) ORDER BY played_at DESC, id DESC.
            # The included columns let recommendations read a listener's songs from the index alone.
            models.Index(
                fields=["user", "-played_at", "-id"], include=["song", "is_private"], name="library_play_history_idx"
            ),
            # Co-listening (who else played this song) from the index alone; also song deletes.
            models.Index(fields=["song", "user"], include=["played_at", "is_private"], name="library_play_song_idx"),
            # The popular-songs view reads the last 30 days of public plays from this index alone.
            models.Index(
                fields=["played_at"],
                include=["song", "user", "play_duration", "skipped"],
                condition=Q(is_private=False),
                name="library_play_recent_idx",
            ),
        ]


class PopularSong(models.Model):
    """Read-only: the materialized view library_popular_song (last 30 days of public plays),
    refreshed by `manage.py refresh_popular`."""

    song = models.OneToOneField(Song, primary_key=True, on_delete=models.DO_NOTHING, related_name="+")
    play_count = models.IntegerField()
    unique_listeners = models.IntegerField()
    avg_play_duration = models.FloatField()

    objects = PopularSongQuerySet.as_manager()

    class Meta:
        managed = False
        db_table = "library_popular_song"

    def __str__(self) -> str:
        return f"{self.song_id}: {self.play_count} plays"


class Recommendation(BaseModel):
    """A song picked for a user by `compute_recommendations`, best first (rank 1)."""

    class Reason(models.TextChoices):
        CO_LISTENING = "co_listening", "Listeners like you played it"
        LIKED_ARTIST = "liked_artist", "From an artist of an album you like"
        POPULAR = "popular", "Popular right now"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recommendations", db_index=False
    )
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveIntegerField()
    score = models.FloatField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    generated_at = models.DateTimeField(default=timezone.now)

    objects = RecommendationQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "song"], name="library_recommendation_unique")]
        indexes = [models.Index(fields=["user", "rank"], name="library_recommendation_idx")]
