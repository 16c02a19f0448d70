"""What a session's sockets are told, and the groups they listen on (WS.md, server -> client).

Events go through the channel layer to every process holding a socket of the session; they are
sent after the transaction that made them commits (musicapp.platform.realtime)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from listening_sessions.models import ListeningSession, QueueItem
from musicapp.platform import realtime


def group_name(session_id: str) -> str:
    return f"session.{session_id}"


def user_group_name(session_id: str, user_id: str) -> str:
    """One user's sockets in a session (all tabs, any process): what only they are told."""
    return f"session.{session_id}.user.{user_id}"


def unix(moment: datetime) -> float:
    return round(moment.timestamp(), 3)


def public_user(user: Any) -> dict[str, Any] | None:
    from accounts.serializers import PublicUserSerializer

    return dict(PublicUserSerializer(user).data) if user is not None else None


def queue_of(session: ListeningSession) -> list[QueueItem]:
    queued = getattr(session, "queued", None)
    return queued if queued is not None else list(session.queue.order_by("position"))


def playback(session: ListeningSession, *, by: Any = None, now: datetime | None = None) -> dict[str, Any]:
    """The playback:update data: the position at serverTime, and the queue. startAt: when a
    start is scheduled ahead (start together), the server time at which to start playing from
    currentTime; track counts the session's songs (what playback:ready and vote:skip are about)."""
    now = now or timezone.now()
    queue = queue_of(session)
    start_at = session.start_at(now)
    # While a start is pending, serverTime is the start instant and currentTime the position
    # then: WS.md's `currentTime + (now - serverTime)` holds for every client, and is negative
    # (wait) until the start.
    at = start_at or now
    return {
        "currentSongId": session.current_song_id,
        "currentTime": round(session.position_at(at), 3),
        "startAt": unix(start_at) if start_at else None,
        "track": session.track,
        "isPlaying": session.is_playing,
        "queueIds": [item.song_id for item in queue],
        "queue": [{"songId": item.song_id, "addedBy": item.added_by_id} for item in queue],
        "shuffle": session.shuffle,
        "loop": session.loop,
        "serverTime": unix(at),
        "by": public_user(by),
        "revision": session.revision,
    }


def send_on_commit(session_id: str, event_type: str, **data: Any) -> None:
    """Queue an event for every socket of the session once the transaction commits. The
    consumers' handler `event_type` (dots for colons) turns it into the frame."""
    realtime.send_on_commit(group_name(session_id), {"type": event_type, **data})


def send_now(session_id: str, event_type: str, **data: Any) -> None:
    realtime.send_now(group_name(session_id), {"type": event_type, **data})


def send_to_user(session_id: str, user_id: str, event_type: str, **data: Any) -> None:
    realtime.send_now(user_group_name(session_id, user_id), {"type": event_type, **data})
