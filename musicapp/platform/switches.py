"""The operator's switches and feature flags (musicapp.models.Switches / FeatureFlag), as one
cached snapshot: a request reads it from this process (no round trip) and sees a change made
in the admin at once (its version is mirrored: musicapp.platform.mirror). While Redis cannot answer, each read asks
PostgreSQL; when neither can, the last snapshot this process read (or the defaults) holds, so a
switch never turns an outage into more errors.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from django.db import transaction

from musicapp.platform import scoped_cache
from musicapp.platform.errors import FeatureDisabled, Maintenance

logger = logging.getLogger(__name__)

SCOPE = "switches"
# Every flag the code asks about, with what it does; a flag with no row in the database is on
# for everyone (a data migration makes their rows for the admin).
FLAGS = {
    "session_chat": "Chat in listening sessions (chat:message).",
}


@dataclass(frozen=True)
class Snapshot:
    read_only: bool = False
    read_only_message: str = ""
    retry_after_s: int = 300
    signups_open: bool = True
    flags: dict[str, tuple[bool, int]] = field(default_factory=dict)  # name -> (enabled, rollout %)

    def flag(self, name: str, user_id: str | None) -> bool:
        """Whether this user gets the feature: on, and the user's bucket within the rollout."""
        enabled, percent = self.flags.get(name, (True, 100))
        if not enabled or percent <= 0:
            return False
        if percent >= 100:
            return True
        digest = hashlib.blake2b(f"{name}:{user_id or ''}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") % 100 < percent

    def as_json(self) -> dict:
        return {
            "readOnly": self.read_only,
            "signupsOpen": self.signups_open,
            "flags": {
                name: {"enabled": enabled, "rolloutPercent": percent}
                for name, (enabled, percent) in sorted(self.flags.items())
            },
        }


_last = Snapshot()


def _load() -> Snapshot:
    from musicapp.models import FeatureFlag, Switches

    # In a savepoint when the caller is in a transaction: a failed read must not break it.
    with transaction.atomic():
        row = Switches.objects.filter(pk=1).first() or Switches()
        flags = {name: (True, 100) for name in FLAGS}
        flags.update({f.name: (f.enabled, f.rollout_percent) for f in FeatureFlag.objects.all()})
    return Snapshot(
        read_only=row.read_only,
        read_only_message=row.read_only_message,
        retry_after_s=row.retry_after_s,
        signups_open=row.signups_open,
        flags=flags,
    )


def current() -> Snapshot:
    global _last
    try:
        _last = scoped_cache.cached(SCOPE, "snapshot", _load, timeout=3600)
    except Exception:  # noqa: BLE001 - Redis away: PostgreSQL itself, or else the last known
        try:
            _last = _load()
        except Exception:
            logger.warning("operator switches could not be read; using the last known", exc_info=True)
    return _last


def check_writable() -> None:
    """Raise Maintenance (503, Retry-After) while the operators have the service read-only."""
    snapshot = current()
    if snapshot.read_only:
        raise Maintenance(snapshot.read_only_message or None, retry_after=snapshot.retry_after_s)


def check_flag(name: str, user_id: str | None) -> None:
    """Raise FeatureDisabled unless this user gets the feature."""
    if not current().flag(name, user_id):
        raise FeatureDisabled()


def last_known() -> Snapshot:
    """What this process read last, without asking anyone (for /health while a check fails)."""
    return _last


def forget_last() -> None:
    """Forget what this process read last (tests do, between tests)."""
    global _last
    _last = Snapshot()


def changed() -> None:
    """After a change to the switches or flags: every process reads them again (on commit)."""
    scoped_cache.changed_on_commit(SCOPE)
