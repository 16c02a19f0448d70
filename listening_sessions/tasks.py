"""Scheduled jobs of listening sessions: expiry, and sockets that vanished without a close."""

from __future__ import annotations

import logging

from listening_sessions import presence, services
from listening_sessions.models import ListeningSession
from musicapp.platform.jobs import periodic

logger = logging.getLogger(__name__)


@periodic(schedule="expire_sessions", name="sessions.expire", queueing_lock="sessions.expire")
def expire_sessions(timestamp: int) -> None:
    ended = services.sessions_expire()
    if ended:
        logger.info("ended %d idle session(s)", ended)


@periodic(schedule="sweep_presence", name="sessions.sweep_presence", queueing_lock="sessions.sweep_presence")
def sweep_presence(timestamp: int) -> None:
    """The safety net under each server's own sweeps: a process that died sweeps nothing."""
    for session_id in ListeningSession.objects.active().values_list("pk", flat=True):
        for user_id in presence.sweep(session_id):
            services.participant_gone(session_id=session_id, user_id=user_id)
