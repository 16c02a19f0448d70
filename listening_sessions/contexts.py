from typing import Any

from listening_sessions.models import ListeningSession, SessionParticipant
from musicapp.platform.errors import InvalidInput

NOT_HERE = "No such listening session, or you are not in it."


def check_session_context(*, user: Any, song: Any, context_id: str) -> str:
    """A play "in a session" names the session by its id or its code, and the listener was in it."""
    session = (
        ListeningSession.objects.filter(pk=context_id).first()
        if len(context_id) == 24
        else ListeningSession.objects.with_code(context_id).first()
        if context_id
        else None
    )
    if session is None or not SessionParticipant.objects.filter(session=session, user=user).exists():
        raise InvalidInput(f"contextId: {NOT_HERE}", errors={"context_id": [NOT_HERE]})
    return session.pk
