"""The Search section of API.md."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.views import APIView

from accounts.authentication import AccessTokenAuthentication
from musicapp.platform import fields
from musicapp.platform.responses import envelope_schema, ok
from search import queries, services
from search.models import RecentSearch
from search.serializers import MAX_LIMIT, TYPES, RecentSearchSerializer, ResultsSerializer, SearchInput

KIND_OF = {"songs": "song", "albums": "album", "artists": "artist", "playlists": "playlist"}


@extend_schema(
    tags=["search"],
    parameters=[
        OpenApiParameter(
            "q", {"type": "string", "minLength": 1, "maxLength": 100, "pattern": fields.NAME_PATTERN}, required=True
        ),
        OpenApiParameter("type", {"type": "string", "enum": TYPES, "default": "all"}),
        OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 10}),
    ],
    responses={
        200: envelope_schema(
            "SearchResponse",
            results=ResultsSerializer(),
            engine=serializers.ChoiceField(choices=["postgres", "meilisearch"]),
        )
    },
)
class SearchView(APIView):
    """Public; a signed-in caller's query is also remembered (GET /api/search/recent)."""

    permission_classes = [AllowAny]
    authentication_classes = [AccessTokenAuthentication]

    def get(self, request):
        query = SearchInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        kind = data["type"]
        kinds = list(KIND_OF.values()) if kind == "all" else [KIND_OF.get(kind, kind)]
        results, engine = queries.search(data["q"], kinds, data["limit"])
        if request.user.is_authenticated and request.method == "GET":  # not HEAD
            services.recent_search_record(user=request.user, query=data["q"])
        return ok(results=results, engine=engine)


RECENT = envelope_schema("RecentSearchesResponse", searches=RecentSearchSerializer(many=True))


class RecentSearchesView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["search"], responses={200: RECENT})
    def get(self, request):
        searches = RecentSearch.objects.filter(user=request.user).order_by("-created_at", "-id")
        return ok(searches=RecentSearchSerializer(searches, many=True).data)

    @extend_schema(
        tags=["search"], responses={200: envelope_schema("RecentClearedResponse", message=serializers.CharField())}
    )
    def delete(self, request):
        services.recent_searches_clear(user=request.user)
        return ok(message="Recent searches cleared.")
