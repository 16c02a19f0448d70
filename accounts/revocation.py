"""Ended logins, as the hot path sees them: a Redis key per revoked login for as long as an
access token of it could still be alive, so a token whose login was signed out or revoked (a
replayed refresh token) is refused at once instead of living on for up to 15 minutes. A
mirrored value (musicapp.platform.mirror), read with the user's version on every authenticated
request (accounts.authentication.token_user) at no round trip; the login row in PostgreSQL
stays the truth."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from musicapp.platform import realtime
from musicapp.platform.mirror import mirror
from musicapp.platform.websocket import login_group


def revoked_key(login_id: str) -> str:
    return f"accounts:revoked-login:{login_id}"


def mark_revoked_on_commit(login_ids: Iterable[str]) -> None:
    ids = list(login_ids)
    if not ids:
        return
    # An access token lives ACCESS_TOKEN_LIFETIME; a minute more covers clock skew between hosts.
    ttl = int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()) + 60

    def mark() -> None:
        # Announced to every process's mirrored copy (musicapp.platform.mirror).
        mirror.set_many({revoked_key(login_id): 1 for login_id in ids}, timeout=ttl)
        for login_id in ids:
            realtime.send_now(login_group(login_id), {"type": "login.ended"})  # its sockets close

    transaction.on_commit(mark)
