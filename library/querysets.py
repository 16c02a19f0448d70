"""Read vocabulary of the catalog (STYLE.md: reads as QuerySet methods)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.db import models
from django.db.models import Count, F, Q

if TYPE_CHECKING:
    from accounts.models import User


class ArtistQuerySet(models.QuerySet):
    def for_api(self) -> Self:
        return self.only("id", "name", "bio", "image", "created_at")


class AlbumQuerySet(models.QuerySet):
    def with_song_count(self) -> Self:
        return self.annotate(song_count=Count("songs"))

    def for_api(self) -> Self:
        return self.select_related("artist").with_song_count()


class SongQuerySet(models.QuerySet):
    def for_api(self) -> Self:
        """Everything the song JSON shows, in one query."""
        return self.select_related("album", "artist", "genre")

    def filtered(self, *, album: str | None = None, artist: str | None = None, genre: str | None = None) -> Self:
        songs = self
        if album:
            songs = songs.filter(album_id=album)
        if artist:
            songs = songs.filter(artist_id=artist)
        if genre:
            songs = songs.filter(Q(genre__slug=genre.lower()) | Q(genre__name__iexact=genre))
        return songs

    def in_track_order(self) -> Self:
        return self.order_by(F("track_number").asc(nulls_last=True), "created_at", "id")


class WithSongQuerySet(models.QuerySet):
    """Rows that point at a song (a like, a play, a pick): the song comes with what its JSON shows."""

    def with_song(self) -> Self:
        return self.select_related("song__album", "song__artist", "song__genre")


class LikedQuerySet(WithSongQuerySet):
    def for_user(self, user: User) -> Self:
        return self.filter(user=user).order_by("-created_at", "-id")


class PlayQuerySet(WithSongQuerySet):
    def public(self) -> Self:
        """Plays that count for popularity and recommendations (not from a private session)."""
        return self.filter(is_private=False)

    def history(self, user: User) -> Self:
        return self.filter(user=user).with_song()


class RecommendationQuerySet(WithSongQuerySet):
    def for_user(self, user: User) -> Self:
        return self.filter(user=user).order_by("rank")


class PopularSongQuerySet(WithSongQuerySet):
    def ranked(self) -> Self:
        return self.order_by("-play_count", "-unique_listeners", "song_id")
