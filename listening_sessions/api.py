"""The Listening sessions section of API.md: parse, call a service, render. Live play happens
over the WebSocket (consumers.py)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from listening_sessions import services
from listening_sessions.models import ChatMessage, ListeningSession
from listening_sessions.serializers import ChatMessageSerializer, CreateInput, PatchInput, SessionSerializer
from musicapp.platform.pagination import KeysetPagination
from musicapp.platform.responses import envelope_schema, ok, validated
from musicapp.platform.schema import ERROR, list_schema

SESSION = envelope_schema("SessionResponse", session=SessionSerializer())
MESSAGE = envelope_schema("SessionMessage", message=serializers.CharField())


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
