"""The app's own Prometheus metrics, next to django-prometheus's request/DB/cache ones."""

import contextlib

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

# Listening sessions' sync telemetry (sync:report), per active session (by its code); a session's
# series go when it ends. (In multiprocess mode a process's series stay in its files until it
# restarts: prometheus_client cannot remove them there.)
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


def forget_session(code: str) -> None:
    for histogram in (session_drift, session_rtt):
        with contextlib.suppress(KeyError):
            histogram.remove(code)
