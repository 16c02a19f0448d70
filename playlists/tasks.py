"""Scheduled jobs of playlists."""

from __future__ import annotations

from musicapp.platform.jobs import periodic
from playlists import services


@periodic(schedule="cleanup_invitations", name="playlists.cleanup_invitations", queueing_lock="playlists.cleanup")
def cleanup_invitations(timestamp: int) -> None:
    services.invitations_expired_delete()
