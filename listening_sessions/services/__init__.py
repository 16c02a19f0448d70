"""Every write on listening sessions (STYLE.md: writes go through services)."""

from listening_sessions.services.chat import chat_delete, chat_send
from listening_sessions.services.lifecycle import (
    invite_create,
    invite_join,
    member_session,
    participant_gone,
    participant_remove,
    readable,
    recap_request,
    send_state,
    session_create,
    session_end,
    session_end_by_staff,
    session_join,
    session_leave,
    session_update,
    sessions_expire,
)
from listening_sessions.services.party import reaction_add, sync_report, sync_status
from listening_sessions.services.playback import command_apply, playback_ready, vote_skip

__all__ = [
    "chat_delete",
    "chat_send",
    "command_apply",
    "invite_create",
    "invite_join",
    "member_session",
    "participant_gone",
    "participant_remove",
    "playback_ready",
    "reaction_add",
    "readable",
    "recap_request",
    "send_state",
    "session_create",
    "session_end",
    "session_end_by_staff",
    "session_join",
    "session_leave",
    "session_update",
    "sessions_expire",
    "sync_report",
    "sync_status",
    "vote_skip",
]
