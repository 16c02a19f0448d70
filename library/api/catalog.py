"""The Catalog section of API.md: public, cached, ETag'd."""

from collections.abc import Callable
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from library.cache import cached_catalog_response
from library.models import Album, Artist, Lyrics, Song
from library.serializers import (
    AlbumDetailSerializer,
    AlbumSerializer,
    ArtistDetailSerializer,
    ArtistSerializer,
    LyricsSerializer,
    SongFilterInput,
    SongSerializer,
)
from musicapp.platform.errors import NotFound
from musicapp.platform.pagination import KeysetPagination
from musicapp.platform.responses import envelope_schema
from musicapp.platform.schema import OBJECT_ID_OR_EMPTY, list_schema


class CatalogView(APIView):
    """Public and cached: anyone may read, and a stale token must not turn a read into a 401."""

    permission_classes = [AllowAny]
    authentication_classes = []
    scope = "catalog"  # the cache version these responses live under (see library.cache)
    # payload(request, **url kwargs) -> the named payload of the response (each view's own signature)
    payload: Callable[..., dict[str, Any]]

    def get(self, request: Request, **kwargs: Any) -> HttpResponse:
        build = lambda: self.payload(request, **kwargs)  # noqa: E731
        return cached_catalog_response(request, build, self.get_renderers()[0], scope=self.scope)


class CatalogListView(CatalogView):
    serializer_class: type[Serializer]
    pagination_class: type[KeysetPagination]

    def queryset(self, request: Request) -> QuerySet:
        raise NotImplementedError

    def payload(self, request: Request) -> dict[str, Any]:
        return self.pagination_class().page_payload(self.queryset(request), request, self.serializer_class)


@extend_schema(
    tags=["catalog"],
    **list_schema(
        "songs",
        SongSerializer(),
        parameters=[
            # An empty value is no filter at all (as a form would send it).
            OpenApiParameter("album", OBJECT_ID_OR_EMPTY, description="Album id"),
            OpenApiParameter("artist", OBJECT_ID_OR_EMPTY, description="Artist id"),
            OpenApiParameter("genre", {"type": "string", "maxLength": 60}, description="Genre slug or name"),
        ],
    ),
)
class SongListView(CatalogListView):
    serializer_class = SongSerializer
    pagination_class = KeysetPagination.named("songs")

    def queryset(self, request):
        filters = SongFilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return Song.objects.for_api().filtered(**filters.validated_data)


@extend_schema(tags=["catalog"], responses={200: envelope_schema("SongResponse", song=SongSerializer())})
class SongDetailView(CatalogView):
    def payload(self, request, song_id):
        return {"song": SongSerializer(get_object_or_404(Song.objects.for_api(), pk=song_id)).data}


@extend_schema(tags=["catalog"], responses={200: envelope_schema("LyricsResponse", lyrics=LyricsSerializer())})
class LyricsView(CatalogView):
    def payload(self, request, song_id):
        lyrics = Lyrics.objects.filter(song_id=song_id).only("plain", "synced").first()
        if lyrics is None:
            get_object_or_404(Song.objects.only("id"), pk=song_id)
            raise NotFound("This song has no lyrics.")
        return {"lyrics": {"plain": lyrics.plain, "synced": lyrics.synced}}


@extend_schema(tags=["catalog"], **list_schema("albums", AlbumSerializer()))
class AlbumListView(CatalogListView):
    serializer_class = AlbumSerializer
    pagination_class = KeysetPagination.named("albums")

    def queryset(self, request):
        return Album.objects.for_api()


@extend_schema(tags=["catalog"], responses={200: envelope_schema("AlbumResponse", album=AlbumDetailSerializer())})
class AlbumDetailView(CatalogView):
    def payload(self, request, album_id):
        songs = Prefetch("songs", queryset=Song.objects.for_api().in_track_order())
        album = get_object_or_404(Album.objects.for_api().prefetch_related(songs), pk=album_id)
        return {"album": AlbumDetailSerializer(album).data}


@extend_schema(tags=["catalog"], **list_schema("artists", ArtistSerializer()))
class ArtistListView(CatalogListView):
    serializer_class = ArtistSerializer
    pagination_class = KeysetPagination.named("artists")

    def queryset(self, request):
        return Artist.objects.for_api()


@extend_schema(tags=["catalog"], responses={200: envelope_schema("ArtistResponse", artist=ArtistDetailSerializer())})
class ArtistDetailView(CatalogView):
    def payload(self, request, artist_id):
        albums = Prefetch("albums", queryset=Album.objects.for_api().order_by("-release_date", "-created_at"))
        artist = get_object_or_404(Artist.objects.for_api().prefetch_related(albums), pk=artist_id)
        return {"artist": ArtistDetailSerializer(artist).data}
