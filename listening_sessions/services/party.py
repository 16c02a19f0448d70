"""The party's extras: reactions pinned to the song and second, and sync telemetry (each
player's drift and round trip; a player out of step gets a resync of its own, the host a
`sync:status`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import emoji as unicode_emoji
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from listening_sessions import broadcast, sync
from listening_sessions.models import EMOJI_MAX_LENGTH, ListeningSession, Reaction, SessionParticipant
from musicapp.platform import switches
from musicapp.platform.errors import InvalidInput, NotAllowed, NotFound, RateLimited


def reaction_data(reaction: Reaction) -> dict[str, Any]:
    return {
        "id": reaction.pk,
        "user": broadcast.public_user(reaction.user),
        "emoji": reaction.emoji,
        "songId": reaction.song_id,
        "position": round(reaction.position, 3),
        "createdAt": reaction.created_at.isoformat().replace("+00:00", "Z"),
    }


def reaction_add(*, session_id: str, user: User, emoji: str) -> Reaction:
    """An emoji pinned to the song playing and its position, kept with the session and sent to
    everyone; SESSION_REACTIONS_PER_S per user across tabs and processes."""
    switches.check_writable()
    if len(emoji) > EMOJI_MAX_LENGTH or not unicode_emoji.is_emoji(emoji):  # one emoji, as Unicode defines them
        raise InvalidInput("A reaction is one emoji.", errors={"emoji": ["One emoji."]})
    if not cache.add(f"sessions:react:{session_id}:{user.pk}", 1, timeout=1 / settings.SESSION_REACTIONS_PER_S):
        raise RateLimited(1, "Too many reactions; a moment, please.")
    with transaction.atomic():
        session = ListeningSession.objects.select_related("current_song").filter(pk=session_id, is_active=True).first()
        if session is None:
            raise NotFound("This session has ended.")
        if not SessionParticipant.objects.present().filter(session=session, user=user).exists():
            raise NotAllowed("Join the session first.")
        reaction = Reaction.objects.create(
            session=session,
            user=user,
            song_id=session.current_song_id,
            position=session.position_at(timezone.now()),
            emoji=emoji,
        )
        broadcast.send_on_commit(session_id, "reaction.added", data=reaction_data(reaction))
    return reaction


def sync_report(*, session_id: str, user: User, position: float, offset: float, rtt: float) -> dict[str, Any] | None:
    """A player says where it is (`position`, in the song, when it sent this), its clock offset
    and round trip. Kept as its latest drift; returns a playback:update for it alone when it is
    out of step (at most one per SESSION_RESYNC_EVERY_S), else None. The host hears when
    someone falls out of step or comes back (sync:status)."""
    session = ListeningSession.objects.select_related("current_song").filter(pk=session_id, is_active=True).first()
    if session is None:
        raise NotFound("This session has ended.")
    now = timezone.now()
    sent_at = now - timedelta(seconds=rtt / 2)  # the report took half a round trip to get here
    expected = session.position_at(sent_at) if session.current_song_id else position
    drift = position - expected
    changed = sync.report(session_id, user.pk, drift=drift, rtt=rtt, offset=offset)
    if changed:
        present = SessionParticipant.objects.present().filter(session=session).user_ids()
        broadcast.send_to_user(session_id, session.host_id, "sync.status", data=sync_status(session, present))
    if abs(drift) > settings.SESSION_RESYNC_DRIFT_S and sync.resync_allowed(session_id, user.pk):
        return {**broadcast.playback(session, now=now), "resync": True, "drift": round(drift, 3)}
    return None


def sync_status(session: ListeningSession, present: list[str]) -> dict[str, Any]:
    """Who is out of step, for the host: each present participant's latest report."""
    participants = sync.status(session.pk, present)
    return {
        "threshold": settings.SESSION_RESYNC_DRIFT_S,
        "participants": participants,
        "outOfStep": [entry["userId"] for entry in participants if entry["outOfStep"]],
    }
