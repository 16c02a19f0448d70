"""Likes, plays, popularity and recommendations."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User, UserSettings
from library import recommend
from library.contexts import check_context
from library.models import Album, LikedAlbum, LikedSong, Play, Recommendation, Song
from musicapp.platform import indexing, scoped_cache
from musicapp.platform.errors import InvalidInput, NotFound

# Scopes of the per-user cache that each kind of write makes stale.
LIKES_CHANGE = ("library", "recommendations")
PLAYS_CHANGE = ("history", "recommendations")


def _song(song_id: str) -> Song:
    song = Song.objects.filter(pk=song_id).first()
    if song is None:
        raise NotFound("No such song.")
    return song


def _album(album_id: str) -> Album:
    album = Album.objects.filter(pk=album_id).first()
    if album is None:
        raise NotFound("No such album.")
    return album


# --- likes ------------------------------------------------------------------------------
# Idempotent by construction: the unique constraint decides, ON CONFLICT DO NOTHING, so two
# concurrent likes of the same song make one row (no check-then-insert race).


def song_like(*, user: User, song_id: str) -> None:
    with transaction.atomic():
        LikedSong.objects.bulk_create([LikedSong(user=user, song=_song(song_id))], ignore_conflicts=True)
        scoped_cache.user_changed_on_commit(user.pk, *LIKES_CHANGE)


def song_unlike(*, user: User, song_id: str) -> None:
    with transaction.atomic():
        LikedSong.objects.filter(user=user, song=_song(song_id)).delete()
        scoped_cache.user_changed_on_commit(user.pk, *LIKES_CHANGE)


def album_like(*, user: User, album_id: str) -> None:
    with transaction.atomic():
        LikedAlbum.objects.bulk_create([LikedAlbum(user=user, album=_album(album_id))], ignore_conflicts=True)
        scoped_cache.user_changed_on_commit(user.pk, *LIKES_CHANGE)


def album_unlike(*, user: User, album_id: str) -> None:
    with transaction.atomic():
        LikedAlbum.objects.filter(user=user, album=_album(album_id)).delete()
        scoped_cache.user_changed_on_commit(user.pk, *LIKES_CHANGE)


# --- plays ------------------------------------------------------------------------------


def play_record(
    *, user: User, song_id: str, play_duration: float, skipped: bool, context_type: str, context_id: str
) -> Play:
    """Check, then record one listen. A private session keeps it out of popularity and
    recommendations, not out of the listener's own history."""
    song = Song.objects.filter(pk=song_id).first()
    if song is None:
        raise InvalidInput("songId: no such song.", errors={"song_id": ["No such song."]})
    longest = song.duration + settings.PLAY_DURATION_SLACK_S
    if not 0 <= play_duration <= longest:
        text = f"Must be between 0 and {longest:g} seconds for this song."
        raise InvalidInput(f"playDuration: {text}", errors={"play_duration": [text]})
    context_id = check_context(user=user, song=song, context_type=context_type, context_id=context_id)
    private = UserSettings.objects.filter(user=user, private_session=True).exists()
    with transaction.atomic():
        play = Play.objects.create(
            user=user,
            song=song,
            play_duration=play_duration,
            skipped=skipped,
            context_type=context_type,
            context_id=context_id,
            is_private=private,
        )
        scoped_cache.user_changed_on_commit(user.pk, *PLAYS_CHANGE)
    return play


# --- derived ----------------------------------------------------------------------------


def popular_refresh() -> None:
    """Recompute the last 30 days of plays; CONCURRENTLY, so readers are never blocked."""
    with connection.cursor() as cursor:
        cursor.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY library_popular_song")
    with transaction.atomic():
        scoped_cache.changed_on_commit("popular")
        indexing.popularity_changed()  # search ranks by plays too


def recommendations_compute(*, user_ids: list[str]) -> int:
    written = recommend.compute_for(user_ids)
    for user_id in user_ids:
        scoped_cache.user_changed_on_commit(user_id, "recommendations")
    return written


def recommendations_refresh_changed(*, since: datetime, batch_size: int = 200) -> tuple[int, int]:
    """Recompute only for users with new public plays or likes since their last recommendations
    (looking at activity since `since`). Returns (users, rows written)."""
    user_ids = recommend.users_with_new_activity(since)
    written = 0
    for start in range(0, len(user_ids), batch_size):
        written += recommendations_compute(user_ids=user_ids[start : start + batch_size])
    return len(user_ids), written


def recommendations_ensure(*, user: User) -> None:
    """Compute this user's recommendations now if they have none or they are stale."""
    newest = (
        Recommendation.objects.filter(user=user)
        .order_by("-generated_at")
        .values_list("generated_at", flat=True)
        .first()
    )
    if newest is None or newest < timezone.now() - timedelta(hours=settings.RECOMMENDATIONS_MAX_AGE_HOURS):
        with transaction.atomic():
            recommendations_compute(user_ids=[user.pk])
