from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import PublicUserSerializer
from library.models import Song
from library.serializers import SongSerializer, object_id_field
from musicapp.adapters import media
from musicapp.platform import fields
from playlists.models import Playlist


class PlaylistSerializer(serializers.Serializer):
    """The REST `playlist` object (API.md), also what live listeners receive."""

    id = serializers.CharField()
    name = serializers.CharField()
    desc = serializers.CharField()
    banner = serializers.SerializerMethodField()
    song_ids = serializers.SerializerMethodField()
    is_public = serializers.BooleanField()
    collaborative = serializers.BooleanField()
    owner = PublicUserSerializer()
    collaborators = PublicUserSerializer(many=True)
    song_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_banner(self, playlist: Playlist) -> str | None:
        return media.url(playlist.banner, side=300)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_song_ids(self, playlist: Playlist) -> list[str]:
        return [entry.song_id for entry in playlist.entries.all()]  # prefetched in position order


class PlaylistRefSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    owner = PublicUserSerializer()


class InvitationSerializer(serializers.Serializer):
    """An invitation as its invitee sees it."""

    id = serializers.CharField()
    playlist = PlaylistRefSerializer()
    invited_by = PublicUserSerializer()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class PendingInvitationSerializer(serializers.Serializer):
    """An invitation as the playlist's owner sees it."""

    id = serializers.CharField()
    email = serializers.EmailField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class PlaylistDetailSerializer(PlaylistSerializer):
    songs = serializers.SerializerMethodField()

    @extend_schema_field(SongSerializer(many=True))
    def get_songs(self, playlist: Playlist) -> Any:
        ids = [entry.song_id for entry in playlist.entries.all()]
        songs = Song.objects.for_api().in_bulk(ids)
        return SongSerializer([songs[i] for i in ids if i in songs], many=True).data


class PlaylistInput(serializers.Serializer):
    name = fields.NameField(max_length=100)
    desc = fields.TextField(max_length=300, required=False, allow_blank=True, default="")
    is_public = fields.BooleanField(required=False, default=False)
    collaborative = fields.BooleanField(required=False, default=False)


class PlaylistPatchInput(serializers.Serializer):
    name = fields.NameField(max_length=100, required=False)
    desc = fields.TextField(max_length=300, required=False, allow_blank=True)
    is_public = fields.BooleanField(required=False)
    collaborative = fields.BooleanField(required=False)


class AddSongInput(serializers.Serializer):
    song_id = object_id_field()
    position = fields.IntegerField(min_value=0, required=False)


class ReorderInput(serializers.Serializer):
    song_ids = serializers.ListField(child=object_id_field(), max_length=10_000, allow_empty=True)


class CollaboratorInput(serializers.Serializer):
    email = fields.EmailField(max_length=254)


class BannerInput(serializers.Serializer):
    banner = serializers.FileField()
