"""Every write on listening sessions (STYLE.md: writes go through services)."""

from listening_sessions.services.chat import chat_delete, chat_send
from listening_sessions.services.lifecycle import (
    member_session,
    participant_gone,
    readable,
    send_state,
    session_create,
    session_end,
    session_end_by_staff,
    session_join,
    session_leave,
    session_update,
    sessions_expire,
)
from listening_sessions.services.playback import command_apply

__all__ = [
    "chat_delete",
    "chat_send",
    "command_apply",
    "member_session",
    "participant_gone",
    "readable",
    "send_state",
    "session_create",
    "session_end",
    "session_end_by_staff",
    "session_join",
    "session_leave",
    "session_update",
    "sessions_expire",
]
