"""Session chat: persisted before it is broadcast, one message a second per user across all of
their tabs and server processes (a Redis key), control characters stripped."""

from __future__ import annotations

import re

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from listening_sessions import broadcast
from listening_sessions.models import ChatMessage, ListeningSession, SessionParticipant
from listening_sessions.services.lifecycle import expiry_from_now
from musicapp.platform import switches
from musicapp.platform.errors import InvalidInput, NotAllowed, NotFound, RateLimited

MAX_LENGTH = 1000
# C0 and C1 controls, but tabs and line breaks: they are text.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _message_data(message: ChatMessage) -> dict:
    return {
        "id": message.pk,
        "user": broadcast.public_user(message.user),
        "text": message.text,
        "createdAt": message.created_at.isoformat().replace("+00:00", "Z"),
    }


def chat_send(*, session_id: str, user: User, text: str) -> ChatMessage:
    switches.check_writable()
    switches.check_flag("session_chat", user.pk)
    text = CONTROL.sub("", text).strip()
    if not 1 <= len(text) <= MAX_LENGTH:
        raise InvalidInput(f"A message is 1 to {MAX_LENGTH} characters.", errors={"text": ["1 to 1000 characters."]})
    if not cache.add(f"sessions:chat:{session_id}:{user.pk}", 1, timeout=1):
        raise RateLimited(1, "One message a second, please.")
    with transaction.atomic():
        session = ListeningSession.objects.filter(pk=session_id, is_active=True).first()
        if session is None:
            raise NotFound("This session has ended.")
        if not SessionParticipant.objects.present().filter(session=session, user=user).exists():
            raise NotAllowed("Join the session first.")
        message = ChatMessage.objects.create(session=session, user=user, text=text)
        ListeningSession.objects.filter(pk=session_id).update(expires_at=timezone.now() + expiry_from_now())
        broadcast.send_on_commit(session_id, "chat.message", data=_message_data(message))
    return message


def chat_delete(*, message_id: str) -> None:
    """Staff take a message down; every socket is told (chat:deleted)."""
    with transaction.atomic():
        message = ChatMessage.objects.filter(pk=message_id).first()
        if message is not None:
            message.delete()
            broadcast.send_on_commit(message.session_id, "chat.deleted", message_id=message_id)
