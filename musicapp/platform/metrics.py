"""The app's own Prometheus metrics, next to django-prometheus's request/DB/cache ones."""

import contextlib
import threading

from prometheus_client import Counter, Gauge, Histogram

rate_limited = Counter("musicapp_rate_limited_total", "Requests refused with 429.", ["group"])
requests_shed = Counter(
    "musicapp_requests_shed_total", "Requests answered 503 overloaded at once (wsgi_bridge).", ["reason"]
)
cache_lookups = Counter(
    "musicapp_cache_lookups_total",
    "scoped_cache reads, by where the value came from: this process, Redis, or built (a miss).",
    ["level"],
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
