"""Library, history, recommendations (API.md) and the public popular songs."""

from datetime import timedelta
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.views import APIView

from accounts.models import User
from library import recommend
from library.api.catalog import CatalogView
from library.models import Album, LikedSong, Play, PopularSong, Recommendation
from library.serializers import AlbumSerializer, PlayInput, PlaySerializer, SongSerializer
from library.services import listening as services
from musicapp.platform.pagination import KeysetPagination, parse_limit
from musicapp.platform.responses import cached_ok_for_user, envelope_schema, ok
from musicapp.platform.schema import limit_parameter, list_schema

MESSAGE = envelope_schema("LibraryMessage", message=serializers.CharField())
SONGS = envelope_schema("SongsResponse", songs=SongSerializer(many=True))


class LibraryView(APIView):
    @extend_schema(
        tags=["library"],
        responses={
            200: envelope_schema(
                "LibraryResponse",
                library=inline_serializer(
                    "Library", {"liked_songs": SongSerializer(many=True), "liked_albums": AlbumSerializer(many=True)}
                ),
            )
        },
    )
    def get(self, request):
        return cached_ok_for_user(request.user.pk, "library", "all", lambda: {"library": self.build(request.user)})

    @staticmethod
    def build(user) -> dict:
        likes = LikedSong.objects.for_user(user).with_song()
        albums = Album.objects.for_api().filter(likes__user=user).order_by("-likes__created_at", "-likes__id")
        return {
            "liked_songs": SongSerializer([like.song for like in likes], many=True).data,
            "liked_albums": AlbumSerializer(albums, many=True).data,
        }


class LikeSongView(APIView):
    """PUT likes, DELETE unlikes; both idempotent."""

    @extend_schema(tags=["library"], request=None, responses={200: MESSAGE})
    def put(self, request, song_id):
        services.song_like(user=request.user, song_id=song_id)
        return ok(message="Added the song to your liked songs.")

    @extend_schema(tags=["library"], request=None, responses={200: MESSAGE})
    def delete(self, request, song_id):
        services.song_unlike(user=request.user, song_id=song_id)
        return ok(message="Removed the song from your liked songs.")


class LikeAlbumView(APIView):
    @extend_schema(tags=["library"], request=None, responses={200: MESSAGE})
    def put(self, request, album_id):
        services.album_like(user=request.user, album_id=album_id)
        return ok(message="Added the album to your library.")

    @extend_schema(tags=["library"], request=None, responses={200: MESSAGE})
    def delete(self, request, album_id):
        services.album_unlike(user=request.user, album_id=album_id)
        return ok(message="Removed the album from your library.")


class RecentlyPlayedView(APIView):
    pagination_class = KeysetPagination.named("items", keyset="played_at")

    @extend_schema(
        tags=["library"], request=PlayInput, responses={201: envelope_schema("PlayResponse", item=PlaySerializer())}
    )
    def post(self, request):
        data = PlayInput(data=request.data)
        data.is_valid(raise_exception=True)
        play = services.play_record(user=request.user, **data.validated_data)
        return ok(201, item=PlaySerializer(play).data)

    @extend_schema(tags=["library"], **list_schema("items", PlaySerializer()))
    def get(self, request):
        if request.query_params.get("cursor"):
            return ok(**self.page(request))
        # The first page is what the app shows; it is cached until the next play.
        limit = parse_limit(request.query_params.get("limit"))
        return cached_ok_for_user(request.user.pk, "history", f"first:{limit}", lambda: self.page(request))

    def page(self, request) -> dict:
        return self.pagination_class().page_payload(Play.objects.history(request.user), request, PlaySerializer)


class RecommendationsView(APIView):
    @extend_schema(tags=["library"], responses={200: SONGS}, parameters=[limit_parameter()])
    def get(self, request):
        limit = min(parse_limit(request.query_params.get("limit")), recommend.LIMIT)
        return cached_ok_for_user(
            request.user.pk, "recommendations", str(limit), lambda: {"songs": self.build(request.user, limit)}
        )

    @staticmethod
    def build(user: User, limit: int) -> Any:
        # Whether the stored picks are missing or stale is asked when the page is built, not on
        # every read: a cached page lives minutes, a user's picks go stale after hours.
        services.recommendations_ensure(user=user)
        # Stored picks may predate the user's newest likes and plays: leave those out now.
        since = timezone.now() - timedelta(days=recommend.HISTORY_DAYS)
        liked = LikedSong.objects.filter(user=user, song=OuterRef("song"))
        played = Play.objects.filter(user=user, song=OuterRef("song"), played_at__gte=since)
        picks = Recommendation.objects.for_user(user).exclude(Exists(liked)).exclude(Exists(played)).with_song()[:limit]
        return SongSerializer([pick.song for pick in picks], many=True).data


@extend_schema(tags=["catalog"], responses={200: SONGS}, parameters=[limit_parameter()])
class PopularSongsView(CatalogView):
    """Public: the most played songs of the last 30 days, from the materialized view."""

    scope = "popular"

    def payload(self, request) -> dict:
        limit = parse_limit(request.query_params.get("limit"))
        rows = PopularSong.objects.with_song().ranked()[:limit]
        return {"songs": SongSerializer([row.song for row in rows], many=True).data}
