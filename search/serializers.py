import unicodedata

from rest_framework import serializers

from library.serializers import AlbumSerializer, ArtistSerializer, SongSerializer
from musicapp.platform import fields
from playlists.serializers import PlaylistSerializer

TYPES = ["all", "song", "album", "artist", "playlist", "songs", "albums", "artists", "playlists"]
MAX_LIMIT = 50


class QueryTextField(fields.NameField):
    """A search as typed: one line of visible text, composed (NFC) first, so that "é" typed as
    e + a combining accent is one character, as PostgreSQL's unaccent expects it."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = unicodedata.normalize("NFC", data)
        return super().to_internal_value(data)


class SearchInput(serializers.Serializer):
    q = QueryTextField(min_length=1, max_length=100)
    type = fields.ChoiceField(choices=TYPES, required=False, default="all")
    limit = fields.QueryIntegerField(min_value=1, max_value=MAX_LIMIT, required=False, default=10)

    def to_internal_value(self, data):
        # A query string's empty value would mean "the default" to DRF; it is a mistake here.
        blank = {name: ["This field may not be blank."] for name in ("type", "limit") if data.get(name) == ""}
        if blank:
            raise serializers.ValidationError(blank)
        return super().to_internal_value(data)


class ResultsSerializer(serializers.Serializer):
    songs = SongSerializer(many=True, required=False)
    albums = AlbumSerializer(many=True, required=False)
    artists = ArtistSerializer(many=True, required=False)
    playlists = PlaylistSerializer(many=True, required=False)


class RecentSearchSerializer(serializers.Serializer):
    query = serializers.CharField()
    created_at = serializers.DateTimeField()
