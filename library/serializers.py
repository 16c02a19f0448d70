"""Output shapes of the catalog (API.md). Every nested object comes from select_related or a
prefetch, so serializing a page costs no query."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from library.models import Album, Artist, Song
from musicapp.adapters import media
from musicapp.platform import fields

COVER_SIDE_PX = 300


class RefSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()


def cover_url(key: str) -> str | None:
    return media.url(key, side=COVER_SIDE_PX)


class ArtistSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    bio = serializers.CharField()
    image = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_image(self, artist: Artist) -> str | None:
        return cover_url(artist.image)


class AlbumSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    desc = serializers.CharField()
    image = serializers.SerializerMethodField()
    bg_colour = serializers.CharField()
    artist = RefSerializer(allow_null=True)
    release_date = serializers.DateField(allow_null=True)
    song_count = serializers.IntegerField()

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_image(self, album: Album) -> str | None:
        return cover_url(album.image)


class SongSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    desc = serializers.CharField()
    image = serializers.SerializerMethodField()
    file = serializers.SerializerMethodField()
    duration = serializers.FloatField()
    album = RefSerializer(allow_null=True)
    artist = RefSerializer(allow_null=True)
    genre = serializers.SerializerMethodField()
    track_number = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_image(self, song: Song) -> str | None:
        return cover_url(song.image or (song.album.image if song.album else ""))

    @extend_schema_field(serializers.URLField())
    def get_file(self, song: Song) -> str | None:
        return media.url(song.file)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_genre(self, song: Song) -> str | None:
        return song.genre.name if song.genre else None


class AlbumDetailSerializer(AlbumSerializer):
    songs = SongSerializer(many=True)


class ArtistDetailSerializer(ArtistSerializer):
    albums = AlbumSerializer(many=True)


class LyricsSerializer(serializers.Serializer):
    plain = serializers.CharField()
    synced = serializers.ListField(
        child=serializers.DictField(), allow_null=True, help_text="[{time (seconds), text}] in time order, or null."
    )


def object_id_field(**kwargs) -> serializers.RegexField:
    return fields.RegexField(
        r"^[0-9a-f]{24}$", error_messages={"invalid": "Enter an id of 24 hex characters."}, **kwargs
    )


class SongFilterInput(serializers.Serializer):
    album = object_id_field(required=False)
    artist = object_id_field(required=False)
    genre = fields.CharField(max_length=60, required=False)


class PlaySerializer(serializers.Serializer):
    id = fields.CharField()
    song = SongSerializer()
    played_at = serializers.DateTimeField()
    play_duration = fields.FloatField()
    skipped = fields.BooleanField()
    context_type = fields.CharField()
    context_id = serializers.SerializerMethodField()

    @extend_schema_field(fields.CharField(allow_null=True))
    def get_context_id(self, play) -> str | None:
        return play.context_id or None


class PlayInput(serializers.Serializer):
    song_id = object_id_field()
    play_duration = fields.FloatField(min_value=0)
    skipped = fields.BooleanField(default=False)
    context_type = fields.ChoiceField(
        choices=["album", "playlist", "artist", "session", "search", "other"], default="other"
    )
    context_id = fields.CharField(max_length=200, required=False, allow_blank=True, allow_null=True, default="")

    def validate_context_id(self, value):
        return value or ""
