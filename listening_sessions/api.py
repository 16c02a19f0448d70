"""The Listening sessions section of API.md: parse, call a service, render. Live play happens
over the WebSocket (consumers.py)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from listening_sessions import services
from listening_sessions.models import ChatMessage, ListeningSession, PlayedItem, Reaction
from listening_sessions.serializers import (
    ChatMessageSerializer,
    CreateInput,
    InviteInput,
    InviteJoinInput,
    InviteSerializer,
    PatchInput,
    PlayedSerializer,
    ReactionSerializer,
    RecapSerializer,
    SessionSerializer,
)
from musicapp.platform.pagination import KeysetPagination
from musicapp.platform.responses import envelope_schema, ok, validated
from musicapp.platform.schema import ERROR, list_schema

SESSION = envelope_schema("SessionResponse", session=SessionSerializer())
MESSAGE = envelope_schema("SessionMessage", message=serializers.CharField())
INVITE = envelope_schema("SessionInviteResponse", invite=InviteSerializer())


RECAP = envelope_schema("SessionRecapResponse", recap=RecapSerializer())


def render(session_id: str) -> dict:
    return dict(SessionSerializer(ListeningSession.objects.for_api().get(pk=session_id)).data)


class CreateSessionView(APIView):
    @extend_schema(tags=["sessions"], request=CreateInput, responses={201: SESSION, 409: ERROR})
    def post(self, request):
        session = services.session_create(host=request.user, **validated(CreateInput, request))
        return ok(201, session=render(session.pk))


class SessionView(APIView):
    @extend_schema(tags=["sessions"], responses={200: SESSION})
    def get(self, request, code):
        return ok(session=SessionSerializer(services.readable(code=code, user=request.user)).data)

    @extend_schema(tags=["sessions"], request=PatchInput, responses={200: SESSION, 403: ERROR})
    def patch(self, request, code):
        session = services.session_update(code=code, user=request.user, **validated(PatchInput, request))
        return ok(session=render(session.pk))


class JoinView(APIView):
    @extend_schema(tags=["sessions"], request=None, responses={200: SESSION, 409: ERROR})
    def post(self, request, code):
        session, _joined = services.session_join(code=code, user=request.user)
        return ok(session=render(session.pk))


class LeaveView(APIView):
    @extend_schema(tags=["sessions"], request=None, responses={200: MESSAGE})
    def post(self, request, code):
        services.session_leave(code=code, user=request.user)
        return ok(message="You left the session.")


class EndView(APIView):
    @extend_schema(tags=["sessions"], request=None, responses={200: MESSAGE, 403: ERROR})
    def post(self, request, code):
        services.session_end(code=code, user=request.user)
        return ok(message="Session ended.")


class MessagesView(APIView):
    pagination_class = KeysetPagination.named("messages")

    @extend_schema(tags=["sessions"], **list_schema("messages", ChatMessageSerializer()))
    def get(self, request, code):
        session = services.member_session(code=code, user=request.user)
        messages = ChatMessage.objects.for_api().filter(session=session)
        return ok(**self.pagination_class().page_payload(messages, request, ChatMessageSerializer))


class InviteView(APIView):
    @extend_schema(tags=["sessions"], request=InviteInput, responses={201: INVITE, 403: ERROR})
    def post(self, request, code):
        invite = services.invite_create(code=code, user=request.user, **validated(InviteInput, request))
        return ok(201, invite=InviteSerializer(invite).data)


class InviteJoinView(APIView):
    @extend_schema(tags=["sessions"], request=InviteJoinInput, responses={200: SESSION, 403: ERROR, 404: ERROR})
    def post(self, request):
        session = services.invite_join(token=validated(InviteJoinInput, request)["invite"], user=request.user)
        return ok(session=render(session.pk))


class ParticipantView(APIView):
    @extend_schema(tags=["sessions"], request=None, responses={200: MESSAGE, 403: ERROR, 404: ERROR})
    def delete(self, request, code, user_id):
        session = services.readable(code=code, user=request.user)
        services.participant_remove(session_id=session.pk, user=request.user, user_id=user_id)
        return ok(message="Removed from the session.")


class RecapView(APIView):
    @extend_schema(tags=["sessions"], request=None, responses={200: RECAP, 404: ERROR})
    def post(self, request, code):
        participant = services.recap_request(code=code, user=request.user)
        return ok(recap={"requested": participant.wants_recap, "playlist_id": participant.recap_id})


class HistoryView(APIView):
    """The songs the session played, in order, and who added each (readable after it ended)."""

    pagination_class = KeysetPagination.named("played", keyset="played_at", ascending=True)

    @extend_schema(tags=["sessions"], **list_schema("played", PlayedSerializer()))
    def get(self, request, code):
        session = services.member_session(code=code, user=request.user)
        played = PlayedItem.objects.filter(session=session).select_related(
            "song__album", "song__artist", "song__genre", "added_by"
        )
        return ok(**self.pagination_class().page_payload(played, request, PlayedSerializer))


class ReactionsView(APIView):
    pagination_class = KeysetPagination.named("reactions", ascending=True)

    @extend_schema(tags=["sessions"], **list_schema("reactions", ReactionSerializer()))
    def get(self, request, code):
        session = services.member_session(code=code, user=request.user)
        reactions = Reaction.objects.filter(session=session).select_related("user")
        return ok(**self.pagination_class().page_payload(reactions, request, ReactionSerializer))
