"""The app's own Prometheus metrics, next to django-prometheus's request/DB/cache ones."""

from prometheus_client import Counter, Gauge

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
