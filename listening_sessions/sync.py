"""What each participant's player says about itself, across server processes (Redis): its
round trip and drift (sync telemetry), whether it says `playback:ready` (start together), and
which song it is ready for. Only hints: losing them (Redis restarted) costs a default margin and
one report's wait, never a command; the session row stays the truth of what plays.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django_redis import get_redis_connection  # type: ignore[import-untyped]

from musicapp.platform import metrics

KEEP_S = 24 * 3600


def _key(kind: str, session_id: str, *rest: object) -> str:
    return ":".join(["musicapp:sessions", kind, session_id, *map(str, rest)])


def _redis():
    return get_redis_connection("default")


# --- telemetry ---------------------------------------------------------------------------------


def report(session_id: str, user_id: str, *, drift: float, rtt: float, offset: float) -> bool:
    """Keep a participant's latest drift and round trip; True if being in or out of step changed
    with this report (the host is told then)."""
    out_of_step = abs(drift) > settings.SESSION_RESYNC_DRIFT_S
    entry = {"drift": round(drift, 4), "rtt": round(rtt, 4), "offset": round(offset, 4), "at": round(time.time(), 3)}
    key = _key("sync", session_id)
    client = _redis()
    with client.pipeline() as pipe:
        pipe.hget(key, user_id)
        pipe.hset(key, user_id, json.dumps({**entry, "outOfStep": out_of_step}))
        pipe.expire(key, KEEP_S)
        previous, *_ = pipe.execute()
    label = metrics.session_label(session_id)
    metrics.session_drift.labels(label).observe(abs(drift))
    metrics.session_rtt.labels(label).observe(rtt)
    was_out = bool(previous) and json.loads(previous).get("outOfStep", False)
    return was_out != out_of_step


def status(session_id: str, user_ids: list[str]) -> list[dict[str, Any]]:
    """The latest report of each of `user_ids` (those present), for the host:
    [{userId, drift, rtt, offset, at, outOfStep}]; users who never reported are left out."""
    if not user_ids:
        return []
    values = _redis().hmget(_key("sync", session_id), user_ids)
    return [{"userId": user_id, **json.loads(value)} for user_id, value in zip(user_ids, values, strict=True) if value]


def start_margin(session_id: str, user_ids: list[str]) -> float:
    """How far ahead to schedule a start so that every present player hears of it first: the
    slowest reported round trip (or an assumed one) plus a slack, within the configured bounds."""
    rtts = [entry["rtt"] for entry in status(session_id, user_ids)]
    slowest = max(rtts, default=settings.SESSION_ASSUMED_RTT_S)
    margin = slowest + settings.SESSION_START_SLACK_S
    return min(max(margin, settings.SESSION_START_MIN_S), settings.SESSION_START_MAX_S)


def resync_allowed(session_id: str, user_id: str) -> bool:
    """At most one resync per SESSION_RESYNC_EVERY_S for a user (all of their tabs): the same
    once-per-interval key as chat's and reactions' limits."""
    return cache.add(f"sessions:resync:{session_id}:{user_id}", 1, timeout=settings.SESSION_RESYNC_EVERY_S)


def forget(session_id: str) -> None:
    """The session ended: its hints go (each process drops its own metrics' series)."""
    _redis().delete(_key("sync", session_id), _key("ready-capable", session_id))


# --- readiness ---------------------------------------------------------------------------------


def mark_ready(session_id: str, track: int | None, user_id: str) -> None:
    """The user's player says ready: later songs wait for it (up to SESSION_READY_CAP_S); and
    it has the session's song number `track` buffered (None: a song no longer current)."""
    client = _redis()
    with client.pipeline() as pipe:
        pipe.sadd(_key("ready-capable", session_id), user_id)
        pipe.expire(_key("ready-capable", session_id), KEEP_S)
        if track is not None:
            pipe.sadd(_key("ready", session_id, track), user_id)
            pipe.expire(_key("ready", session_id, track), 3600)
        pipe.execute()


def waiting_for(session_id: str, track: int, user_ids: list[str]) -> set[str]:
    """Which of `user_ids` (those present) say ready and are not ready for `track` yet."""
    if not user_ids:
        return set()
    client = _redis()
    with client.pipeline() as pipe:
        pipe.smismember(_key("ready-capable", session_id), user_ids)
        pipe.smismember(_key("ready", session_id, track), user_ids)
        capable, ready = pipe.execute()
    return {user_id for user_id, c, r in zip(user_ids, capable, ready, strict=True) if c and not r}


def any_ready_capable(session_id: str, user_ids: list[str]) -> bool:
    if not user_ids:
        return False
    return any(_redis().smismember(_key("ready-capable", session_id), user_ids))
