"""The app's own Prometheus metrics, next to django-prometheus's request/DB/cache ones."""

import contextlib
import gc
import logging
import threading
import time

from django.conf import settings
from prometheus_client import Counter, Gauge, Histogram

logger = logging.getLogger(__name__)

rate_limited = Counter("musicapp_rate_limited_total", "Requests refused with 429.", ["group"])
requests_shed = Counter(
    "musicapp_requests_shed_total", "Requests answered 503 overloaded at once (wsgi_bridge).", ["reason"]
)
socket_connects_shed = Counter(
    "musicapp_socket_connects_shed_total",
    "WebSockets closed 1013 at connect: too many connects at once in this process (websocket.Admission).",
    ["reason"],
)
cache_lookups = Counter(
    "musicapp_cache_lookups_total",
    "scoped_cache reads, by where the value came from: this process, Redis, or built (a miss).",
    ["level"],
)
mirror_reads = Counter(
    "musicapp_mirror_reads_total",
    "Reads of mirrored Redis values (versions, ended logins): this process's copies, or Redis.",
    ["source"],
)
health_check_failures = Counter("musicapp_health_check_failures_total", "Failed /health checks.", ["check"])
health_check_up = Gauge(
    "musicapp_health_check_up",
    "1 if the dependency answered the last /health check.",
    ["check"],
    multiprocess_mode="liveall",
)

# Listening sessions' sync telemetry (sync:report), per session: labelled with the session's id
# (never its join code, which is all it takes to join), at most SESSION_SERIES sessions per
# process (later ones share "other"). A process drops a session's series when its sockets hear
# that it ended. (In multiprocess mode prometheus_client cannot drop series: they stay in the
# process's files until it restarts, which the cap bounds.)
SESSION_SERIES = 200
SYNC_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
session_drift = Histogram(
    "musicapp_session_drift_seconds",
    "How far a participant's player was from the session's position when it reported (absolute).",
    ["session"],
    buckets=SYNC_BUCKETS,
)
session_rtt = Histogram(
    "musicapp_session_rtt_seconds",
    "The round trip a participant's player measured to the server (time:ping).",
    ["session"],
    buckets=SYNC_BUCKETS,
)
_labelled: set[str] = set()
_labelled_lock = threading.Lock()


def session_label(session_id: str) -> str:
    with _labelled_lock:
        if session_id in _labelled or len(_labelled) < SESSION_SERIES:
            _labelled.add(session_id)
            return session_id
    return "other"


def forget_session(session_id: str) -> None:
    with _labelled_lock:
        if session_id not in _labelled:
            return
        _labelled.discard(session_id)
    for histogram in (session_drift, session_rtt):
        with contextlib.suppress(KeyError):
            histogram.remove(session_id)


# Garbage-collector pauses: a full collection stops the whole process, every socket of a `ws`
# process at once. Measured through gc.callbacks (watch_gc_pauses, from asgi.py and wsgi.py);
# one over GC_PAUSE_WARN_S is also logged.
#
# At 5,000 session sockets a process holds a few million long-lived objects, and each full
# collection walked them all: 1-2.4 s, every few seconds, most freeing nothing
# (docs/PERFORMANCE.md). So what survives a full collection is frozen (gc.freeze: left out of
# later collections; reference counting still frees it), and the next full collection walks
# only what came since. Cycles among frozen objects would never be collected, so every
# GC_THAW_S the freeze is lifted and the next full collection walks everything once.
GC_PAUSE_WARN_S = 0.05
gc_pauses = Histogram(
    "musicapp_gc_pause_seconds",
    "How long each garbage collection held the process, by generation.",
    ["generation"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
# Bound once: the callback runs on every collection, young ones included (many a second).
_gc_pauses_by_generation = [gc_pauses.labels(str(generation)) for generation in range(3)]
_gc = threading.local()
_gc_thawed_at = time.monotonic()


def _gc_pause(phase: str, info: dict) -> None:
    global _gc_thawed_at
    if phase == "start":
        _gc.started = time.perf_counter()
        return
    took = time.perf_counter() - getattr(_gc, "started", time.perf_counter())
    _gc_pauses_by_generation[info["generation"]].observe(took)
    if took > GC_PAUSE_WARN_S:
        logger.warning(
            "garbage collection (generation %d) held the process %.0f ms (%d objects freed)",
            info["generation"],
            took * 1000,
            info["collected"],
        )
    if info["generation"] == 2 and settings.GC_THAW_S:
        if time.monotonic() - _gc_thawed_at > settings.GC_THAW_S:
            gc.unfreeze()
            _gc_thawed_at = time.monotonic()
        else:
            gc.freeze()


def watch_gc_pauses() -> None:
    if _gc_pause not in gc.callbacks:
        gc.callbacks.append(_gc_pause)
