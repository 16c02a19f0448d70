"""Input checks and output shapes of listening sessions (API.md, WS.md)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import AVATAR_SIDE_PX
from accounts.serializers import PublicUserSerializer
from library.serializers import SongSerializer, object_id_field
from listening_sessions.broadcast import queue_of, unix
from listening_sessions.models import MAX_QUEUE, ChatMessage, ListeningSession
from musicapp.adapters import media
from musicapp.platform import fields


class ParticipantSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    avatar = serializers.URLField(allow_null=True)
    is_host = serializers.BooleanField()


class QueueEntrySerializer(serializers.Serializer):
    song_id = serializers.CharField()
    added_by = serializers.CharField(allow_null=True)


class SessionSerializer(serializers.Serializer):
    """The REST `session` object; a socket's session:state adds serverTime (here too)."""

    code = serializers.CharField()
    name = serializers.CharField()
    host = PublicUserSerializer()
    is_active = serializers.BooleanField()
    current_song_id = serializers.CharField(allow_null=True)
    current_time = serializers.SerializerMethodField()
    is_playing = serializers.BooleanField()
    queue_ids = serializers.SerializerMethodField()
    queue = serializers.SerializerMethodField()
    participants = serializers.SerializerMethodField()
    shuffle = serializers.BooleanField()
    loop = serializers.CharField()
    guests_can_control = serializers.BooleanField()
    fair_queue = serializers.BooleanField()
    queue_limit = serializers.IntegerField(allow_null=True)
    skip_share = serializers.FloatField()
    track = serializers.IntegerField()
    start_at = serializers.SerializerMethodField()
    revision = serializers.IntegerField()
    server_time = serializers.SerializerMethodField()
    expires_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    def _now(self) -> Any:
        return self.context.setdefault("now", timezone.now())

    def _at(self, session: ListeningSession) -> Any:
        """The moment currentTime and serverTime describe: now, or a pending start (broadcast.playback)."""
        return session.start_at(self._now()) or self._now()

    @extend_schema_field(serializers.FloatField())
    def get_current_time(self, session: ListeningSession) -> float:
        return round(session.position_at(self._at(session)), 3)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_start_at(self, session: ListeningSession) -> float | None:
        start = session.start_at(self._now())
        return unix(start) if start else None

    @extend_schema_field(serializers.FloatField())
    def get_server_time(self, session: ListeningSession) -> float:
        return unix(self._at(session))

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_queue_ids(self, session: ListeningSession) -> list[str]:
        return [item.song_id for item in queue_of(session)]

    @extend_schema_field(QueueEntrySerializer(many=True))
    def get_queue(self, session: ListeningSession) -> list[dict[str, Any]]:
        return [{"song_id": item.song_id, "added_by": item.added_by_id} for item in queue_of(session)]

    @extend_schema_field(ParticipantSerializer(many=True))
    def get_participants(self, session: ListeningSession) -> list[dict[str, Any]]:
        # PublicUserSerializer's fields, from rows (ParticipantQuerySet.public_rows says why).
        return [
            {
                "id": user_id,
                "name": name,
                "avatar": media.url(avatar, side=AVATAR_SIDE_PX),
                "is_host": user_id == session.host_id,
            }
            for user_id, name, avatar in session.participants.public_rows()
        ]


class ChatMessageSerializer(serializers.Serializer):
    id = serializers.CharField()
    user = PublicUserSerializer(allow_null=True)
    text = serializers.CharField()
    created_at = serializers.DateTimeField()

    class Meta:
        model = ChatMessage


# --- inputs -----------------------------------------------------------------------------------


class CreateInput(serializers.Serializer):
    name = fields.NameField(max_length=100, required=False)


class PatchInput(serializers.Serializer):
    name = fields.NameField(max_length=100, required=False)
    guests_can_control = fields.BooleanField(required=False)
    fair_queue = fields.BooleanField(required=False)
    queue_limit = fields.IntegerField(min_value=1, max_value=MAX_QUEUE, required=False, allow_null=True)
    skip_share = fields.FloatField(min_value=0, max_value=0.99, required=False)


class InviteInput(serializers.Serializer):
    hours = fields.FloatField(min_value=0.01, max_value=7 * 24, required=False)


class InviteJoinInput(serializers.Serializer):
    invite = serializers.CharField(max_length=1000)


class InviteSerializer(serializers.Serializer):
    token = serializers.CharField()
    url = serializers.CharField(help_text="The link to share; also the QR code's payload.")
    qr = serializers.CharField(help_text="What to encode in a QR code (the link).")
    code = serializers.CharField()
    expires_at = serializers.DateTimeField()


class PlayedSerializer(serializers.Serializer):
    """A song the session played, who added it, and when."""

    song = SongSerializer()
    added_by = PublicUserSerializer(allow_null=True)
    played_at = serializers.DateTimeField()


class RecapSerializer(serializers.Serializer):
    requested = serializers.BooleanField()
    playlist_id = serializers.CharField(allow_null=True, help_text="Made when the session ends.")


class ReactionSerializer(serializers.Serializer):
    id = serializers.CharField()
    user = PublicUserSerializer(allow_null=True)
    emoji = serializers.CharField()
    song_id = serializers.CharField(allow_null=True)
    position = serializers.FloatField()
    created_at = serializers.DateTimeField()


# WebSocket commands (WS.md, client -> server): one input shape per frame type.


def _position(**kwargs: Any) -> fields.FloatField:
    return fields.FloatField(min_value=0, max_value=24 * 3600, **kwargs)


class PlayInput(serializers.Serializer):
    song_id = object_id_field(required=False)
    current_time = _position(required=False)


class PositionInput(serializers.Serializer):
    current_time = _position()


class NoInput(serializers.Serializer):
    pass


class EndedInput(serializers.Serializer):
    song_id = object_id_field()


class QueueAddInput(serializers.Serializer):
    song_id = object_id_field()


class QueueRemoveInput(serializers.Serializer):
    index = fields.IntegerField(min_value=0)


class QueueReorderInput(serializers.Serializer):
    queue_ids = serializers.ListField(child=object_id_field(), max_length=1000)


class ShuffleInput(serializers.Serializer):
    shuffle = fields.BooleanField()


class LoopInput(serializers.Serializer):
    loop = fields.ChoiceField(choices=ListeningSession.Loop.choices)


class ChatInput(serializers.Serializer):
    text = fields.RawTextField(max_length=4000, trim_whitespace=False)  # cleaned and measured by the service


class PingInput(serializers.Serializer):
    client_time = fields.FloatField()


class ReadyInput(serializers.Serializer):
    song_id = object_id_field()


class SyncReportInput(serializers.Serializer):
    position = _position()
    offset = fields.FloatField(min_value=-86400, max_value=86400)
    rtt = fields.FloatField(min_value=0, max_value=60)


class VoteSkipInput(serializers.Serializer):
    song_id = object_id_field(required=False)


class ReactionInput(serializers.Serializer):
    emoji = fields.RawTextField(max_length=64, trim_whitespace=False)  # checked by the service


class RemoveInput(serializers.Serializer):
    user_id = object_id_field()
