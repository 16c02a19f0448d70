"""Settings, all read from the environment (see .env.example and the README's table).

Every knob has a local default that works; production secrets fail fast when missing.
DATABASE_URL and REDIS_URL have no default here: `make run` / `make test` (through
musicapp.dev.devservices) start an embedded PostgreSQL and Redis and set them.
"""

import ipaddress
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import environ
import redis.exceptions
from django.core.exceptions import ImproperlyConfigured
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

TESTING = "pytest" in sys.modules
DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (`make run` sets a local one under .devdata/)."
        )
    SECRET_KEY = "insecure-local-only-key-do-not-use-in-production-0123456789"  # noqa: S105 - DEBUG/tests only

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=["http://localhost:5173", "http://127.0.0.1:5173"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=CORS_ALLOWED_ORIGINS)
PORT = env.int("PORT", default=8000)
WEB_CONCURRENCY = env.int("WEB_CONCURRENCY", default=1)

INSTALLED_APPS = [
    "musicapp.apps.StaffAdminConfig",  # django.contrib.admin with a rate-limited sign-in
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_prometheus",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "procrastinate.contrib.django",
    "musicapp",
    "accounts",
    "library",
    "playlists",
    "listening_sessions",
    "search",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "musicapp.platform.middleware.GZipOver1KBMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "musicapp.platform.middleware.AdminSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "musicapp.platform.middleware.ReadOnlyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "musicapp.platform.middleware.AdminAuthenticationMiddleware",
    "musicapp.platform.middleware.AdminMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "musicapp.urls"
CSRF_FAILURE_VIEW = "musicapp.platform.handlers.csrf_failure"
WSGI_APPLICATION = "musicapp.wsgi.application"
ASGI_APPLICATION = "musicapp.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- PostgreSQL -------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL", default="")
if not DATABASE_URL:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Use `make run` / `make test`, or wrap the command: "
        "`.venv/bin/python -m musicapp.dev.devservices -- .venv/bin/python manage.py ...`."
    )
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=0)
_db["ENGINE"] = "django_prometheus.db.backends.postgresql"
_timeouts = (
    f"-c statement_timeout={env.int('DB_STATEMENT_TIMEOUT_MS', default=30_000)} "
    f"-c idle_in_transaction_session_timeout={env.int('DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', default=60_000)}"
)
_options = _db.setdefault("OPTIONS", {})  # sslmode=require etc. from the URL's query string land here
# Behind PgBouncer in transaction mode (`...?pgbouncer=transaction`, deploy/README.md): no
# server-side cursors (one would outlive its transaction's server connection) and no startup
# `options` (PgBouncer refuses them; the timeouts go on the database role instead). Django
# never prepares statements (psycopg's prepare_threshold stays None), as PgBouncer needs.
PGBOUNCER_TRANSACTION_MODE = _options.pop("pgbouncer", "") == "transaction"
if PGBOUNCER_TRANSACTION_MODE:
    _db["DISABLE_SERVER_SIDE_CURSORS"] = True
else:
    # A URL may carry its own libpq `options` (Neon's `endpoint=...`); keep them and add ours.
    _options["options"] = f"{_options['options']} {_timeouts}" if _options.get("options") else _timeouts
# A database that stops answering must cost a request seconds, not as long as it hangs: a
# connection attempt gives up after DB_CONNECT_TIMEOUT_S; a dead peer is found by TCP
# keepalives within ~20 s, and sent data left unacknowledged fails after DB_TCP_USER_TIMEOUT_MS.
_options.setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT_S", default=3))
_options.setdefault("keepalives", 1)
_options.setdefault("keepalives_idle", 10)
_options.setdefault("keepalives_interval", 5)
_options.setdefault("keepalives_count", 2)
_options.setdefault("tcp_user_timeout", env.int("DB_TCP_USER_TIMEOUT_MS", default=10_000))
# Threads of one process that may each hold a database connection: the request threads
# (WEB_THREADS, see "Requests" below) and the sockets' database threads (WS_DB_THREADS,
# musicapp.platform.websocket.socket_db). The pool's default fits both.
WEB_THREADS = env.int("WEB_THREADS", default=8)
WS_DB_THREADS = env.int("WS_DB_THREADS", default=4)
if env.int("DB_POOL_MAX_SIZE", default=WEB_THREADS + WS_DB_THREADS) > 0:
    # Django's native psycopg pool; CONN_MAX_AGE must stay 0 with it. A request that finds no
    # free connection within DB_POOL_TIMEOUT_S gets the 503 envelope.
    _options["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=WEB_THREADS + WS_DB_THREADS),
        "timeout": env.float("DB_POOL_TIMEOUT_S", default=3.0),
    }
else:
    _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    _db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}


# --- Redis: cache, rate-limit counters, channel layer -----------------------------------
def _redis_url(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


REDIS_URL = env("REDIS_URL", default="")
if not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL is not set. Use `make run` / `make test` (see DATABASE_URL above).")
_redis_db = int(urlsplit(REDIS_URL).path.strip("/") or 0)
if TESTING:
    # Tests own a database of their own (one per xdist worker) and flush it between tests,
    # so a `make run` sharing the same Redis keeps its data.
    _worker = env("PYTEST_XDIST_WORKER", default="gw0")
    _redis_db += 1 + int(_worker.removeprefix("gw") or 0)
REDIS_CACHE_URL = _redis_url(REDIS_URL, _redis_db)

CACHES = {
    "default": {
        "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_CACHE_URL,
        "KEY_PREFIX": "musicapp",
        "TIMEOUT": 300,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_CONNECT_TIMEOUT_S", default=2.0),
            "SOCKET_TIMEOUT": env.float("REDIS_TIMEOUT_S", default=2.0),
            # More threads than connections wait for one (up to REDIS_POOL_TIMEOUT_S) instead of
            # failing with "Too many connections": granian's threads share this pool.
            "CONNECTION_POOL_CLASS": "redis.BlockingConnectionPool",
            "CONNECTION_POOL_KWARGS": {
                "max_connections": env.int("REDIS_POOL_MAX_SIZE", default=50),
                "timeout": env.float("REDIS_POOL_TIMEOUT_S", default=2.0),
                "health_check_interval": 30,
            },
        },
    }
}
CACHES["ratelimit"] = {**CACHES["default"], "BACKEND": "musicapp.platform.counters.CounterCache"}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "musicapp.platform.realtime.ChannelLayer",  # channels-redis's pub/sub layer
        "CONFIG": {
            "hosts": [
                {
                    "address": REDIS_CACHE_URL,
                    # A hung Redis holds a broadcast (and the request that sent it) 5 s at most;
                    # the pub/sub receive loop reads with its own 0.1 s timeout.
                    "socket_timeout": 5,
                    "socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT_S", default=2.0),
                    "socket_keepalive": True,
                    "health_check_interval": 15,
                    # A broadcast right after Redis came back finds the pool's connections dead:
                    # reconnected and sent again, not lost (redis-py retries nothing by default).
                    # Not on a timeout: that would hold a hung Redis's broadcast 4 x 5 s.
                    "retry": Retry(
                        ExponentialWithJitterBackoff(base=0.05, cap=0.5),
                        3,
                        supported_errors=(redis.exceptions.ConnectionError,),
                    ),
                    "retry_on_error": [redis.exceptions.ConnectionError],
                }
            ],
            "prefix": "musicapp:asgi:",
            # A socket this many messages behind (its client reads too slowly) is closed for a
            # resync (1013) rather than its backlog growing without bound.
            "capacity": 1000,
        },
    }
}
# What survives a full garbage collection is frozen out of later ones; every GC_THAW_S the
# freeze is lifted so that cycles among those objects are collected after all (0: never freeze).
# musicapp.platform.metrics.watch_gc_pauses.
GC_THAW_S = env.float("GC_THAW_S", default=600)
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"  # admin sessions
# Where cookie sessions (and with them Django's messages) exist at all: the admin. The API
# authenticates with tokens; no session is built for it (musicapp.platform.middleware).
SESSION_PATH_PREFIXES = ("/admin/",)

# --- Auth -------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

PASSWORD_HASHERS = [
    "accounts.hashers.BoundedArgon2idHasher",
    # Hashes imported from the Express app (bcryptjs, $2a$/$2b$): verified, then upgraded to Argon2id.
    "accounts.hashers.LegacyBcryptPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Argon2id takes ~19 MiB per hash: at most this many at once per process, so a burst of
# logins queues instead of exhausting memory.
ARGON2_MAX_CONCURRENT = env.int("ARGON2_MAX_CONCURRENT", default=4)

OTP_TTL_MINUTES = env.int("OTP_TTL_MINUTES", default=10)
OTP_MAX_ATTEMPTS = env.int("OTP_MAX_ATTEMPTS", default=5)
OTP_RESEND_COOLDOWN_S = env.int("OTP_RESEND_COOLDOWN_S", default=60)
AVATAR_MAX_BYTES = env.int("AVATAR_MAX_BYTES", default=5 * 1024 * 1024)
COVER_MAX_BYTES = env.int("COVER_MAX_BYTES", default=5 * 1024 * 1024)
BANNER_MAX_BYTES = env.int("BANNER_MAX_BYTES", default=5 * 1024 * 1024)
AUDIO_MAX_BYTES = env.int("AUDIO_MAX_BYTES", default=50 * 1024 * 1024)
# The ASGI origin (musicapp.asgi: `make run`, the Procfile's ws) reads bodies before a thread
# takes the request: one larger than its limit is refused (413) unread; one that stalls
# REQUEST_BODY_IDLE_S, or takes over REQUEST_BODY_TOTAL_S in all, gets 408; at most
# WEB_BODY_READERS bodies arrive at once per process (503 beyond).
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=int(2.5 * 1024 * 1024))  # JSON bodies
UPLOAD_BODY_LIMITS = [  # (path pattern, limit): uploads may be larger than API bodies
    (r"^/admin/", AUDIO_MAX_BYTES + COVER_MAX_BYTES + 1024 * 1024),  # the catalog's audio files
    (r"^/api/user/avatar$", AVATAR_MAX_BYTES + 1024 * 1024),
    (r"^/api/playlist/[0-9a-f]{24}/banner$", BANNER_MAX_BYTES + 1024 * 1024),
]
REQUEST_BODY_IDLE_S = env.float("REQUEST_BODY_IDLE_S", default=15.0)
REQUEST_BODY_TOTAL_S = env.float("REQUEST_BODY_TOTAL_S", default=120.0)
WEB_BODY_READERS = env.int("WEB_BODY_READERS", default=32)
# WEB_THREADS (above, with the database pool): threads that run requests per process (granian's
# --blocking-threads in the Procfile's web, the bridge's pool under ASGI); under ASGI, how many
# more may wait for one before a request is shed with 503 `overloaded` (a bounded queue instead
# of a growing one); and how long a request may have waited before it is shed: for a thread
# under ASGI (musicapp.platform.wsgi_bridge), since the proxy passed it on under WSGI
# (musicapp.platform.queue_time).
WEB_QUEUE = env.int("WEB_QUEUE", default=64)
WEB_QUEUE_MAX_WAIT_S = env.float("WEB_QUEUE_MAX_WAIT_S", default=1.0)
# Pixels an uploaded image may declare, checked before decoding (image bombs). PNG and WebP
# decode whole (12 MP, e.g. 4000 x 3000: ~100 MB to decode as RGBA and shrink); JPEG decodes at
# 1/8 scale for thumbnails.
MAX_IMAGE_PIXELS = env.int("MAX_IMAGE_PIXELS", default=12_000_000)
MAX_JPEG_PIXELS = env.int("MAX_JPEG_PIXELS", default=100_000_000)
CATALOG_CACHE_SECONDS = env.int("CATALOG_CACHE_SECONDS", default=600)
PLAY_DURATION_SLACK_S = env.float("PLAY_DURATION_SLACK_S", default=5.0)
RECOMMENDATIONS_MAX_AGE_HOURS = env.int("RECOMMENDATIONS_MAX_AGE_HOURS", default=24)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=SECRET_KEY),
    # Tokens carry a digest of the password hash: a password reset invalidates every token at once.
    "CHECK_REVOKE_TOKEN": True,
    "UPDATE_LAST_LOGIN": False,
}

# --- API platform -----------------------------------------------------------------------
# djangorestframework-camel-case reads its settings here (JSON_UNDERSCOREIZE sat in REST_FRAMEWORK,
# unread; no field name has a digit, so nothing changes). Its renderer camelizes, then orjson
# writes the JSON (drf-orjson-renderer): byte for byte DRF's output, 15x faster.
JSON_CAMEL_CASE = {
    "RENDERER_CLASS": "drf_orjson_renderer.renderers.ORJSONRenderer",
    "JSON_UNDERSCOREIZE": {"no_underscore_before_number": True},
}
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["djangorestframework_camel_case.render.CamelCaseJSONRenderer"],
    # JSON only; the two upload endpoints (avatar, banner) read multipart themselves. A form
    # body elsewhere is a 415, never silently read as empty.
    "DEFAULT_PARSER_CLASSES": ["djangorestframework_camel_case.parser.CamelCaseJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.AccessTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["musicapp.platform.ratelimit.ApiRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "musicapp.platform.handlers.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# The in-process level of musicapp.platform.scoped_cache: how many values (each at most how big)
# a process keeps. Versions are kept current by musicapp.platform.mirror.
CACHE_LOCAL_MAX_ENTRIES = env.int("CACHE_LOCAL_MAX_ENTRIES", default=2000)
CACHE_LOCAL_MAX_BYTES = env.int("CACHE_LOCAL_MAX_BYTES", default=256 * 1024)
# Gzipped copies of recent response bodies kept per process (musicapp.platform.middleware).
GZIP_MEMO_MAX_BYTES = env.int("GZIP_MEMO_MAX_BYTES", default=8 * 1024 * 1024)
PAGINATION_DEFAULT_LIMIT = 20
PAGINATION_MAX_LIMIT = 100

SPECTACULAR_SETTINGS = {
    "TITLE": "Music streaming API",
    "DESCRIPTION": (
        "REST API of the music streaming app. Errors carry a stable `code` (schema ErrorEnvelope). "
        "Live listening sessions and live playlist updates use WebSockets at /ws/session/<code>/ and "
        "/ws/playlist/<id>/ (access token in ?token=); docs/WEBSOCKETS.md has every frame."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "CAMELIZE_NAMES": False,
    # <oid:...> path segments (musicapp.platform.converters) are 24-hex ids.
    "PATH_CONVERTER_OVERRIDES": {
        "oid": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
        "code": {"type": "string", "pattern": "^[A-Za-z0-9]{4,12}$"},
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.contrib.djangorestframework_camel_case.camelize_serializer_fields",
        "drf_spectacular.hooks.postprocess_schema_enums",
        "musicapp.platform.schema.document_errors",
    ],
}

# django-ratelimit, counters in the Redis cache. RATELIMIT_ENABLE=false switches all limits off.
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_USE_CACHE = "ratelimit"  # the same Redis, counted in one round trip (platform.counters)
RATELIMIT_IP_META_KEY = "musicapp.platform.net.client_ip"
# Addresses or networks of our own reverse proxies: only their X-Forwarded-For is believed.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _entry in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_entry, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_entry!r} is not an address or network.") from _exc
API_RATE = env("API_RATE", default="1000/15m")
# Per-endpoint limits on the auth flows, each "count/period" and overridable, e.g. RATE_LOGIN_IP=20/15m.
AUTH_RATES = {
    name: env(f"RATE_{name.upper()}", default=default)
    for name, default in {
        "login_ip": "5/15m",
        "login_email": "5/15m",
        "register_ip": "10/h",
        "register_email": "3/h",
        "verify_ip": "20/15m",
        "verify_email": "10/15m",
        "resend_ip": "10/h",
        "resend_email": "5/h",
        "forgot_ip": "10/h",
        "forgot_email": "5/h",
        "reset_ip": "20/15m",
        "reset_email": "10/15m",
    }.items()
}

INVITE_RATE = env("RATE_INVITE", default="30/h")  # collaboration invitations (emails) per owner

# Listening sessions: idle expiry, how long a socket counts as present without news, and the
# frames a socket may send a second (bursts of twice that).
SESSION_IDLE_HOURS = env.float("SESSION_IDLE_HOURS", default=6)
SESSION_HEARTBEAT_S = env.float("SESSION_HEARTBEAT_S", default=15)
SESSION_PRESENCE_TTL_S = env.float("SESSION_PRESENCE_TTL_S", default=45)
SESSION_LEAVE_GRACE_S = env.float("SESSION_LEAVE_GRACE_S", default=8)
SESSION_FRAMES_PER_S = env.float("SESSION_FRAMES_PER_S", default=20)
# WebSocket connects per process (musicapp.platform.websocket.Admission): at most
# WS_CONNECTS_AT_ONCE under way (token check, session join, state), WS_CONNECT_QUEUE more
# waiting, none longer than WS_CONNECT_WAIT_S; the others are closed with 1013 at once, for
# their clients to come back after a pause.
WS_CONNECTS_AT_ONCE = env.int("WS_CONNECTS_AT_ONCE", default=2 * WS_DB_THREADS)
WS_CONNECT_QUEUE = env.int("WS_CONNECT_QUEUE", default=200)
WS_CONNECT_WAIT_S = env.float("WS_CONNECT_WAIT_S", default=5.0)
# Start together (docs/WEBSOCKETS.md): a song starts this far ahead of the command, from the
# slowest participant's round trip (SESSION_ASSUMED_RTT_S until one is reported) plus
# SESSION_START_SLACK_S, within [MIN, MAX]; a new song waits for the clients that say
# `playback:ready` up to SESSION_READY_CAP_S.
SESSION_START_MIN_S = env.float("SESSION_START_MIN_S", default=0.15)
SESSION_START_MAX_S = env.float("SESSION_START_MAX_S", default=1.5)
SESSION_START_SLACK_S = env.float("SESSION_START_SLACK_S", default=0.05)
SESSION_ASSUMED_RTT_S = env.float("SESSION_ASSUMED_RTT_S", default=0.1)
SESSION_READY_CAP_S = env.float("SESSION_READY_CAP_S", default=3.0)
# Sync telemetry: a client whose reported position is off by more than this gets a resync of its
# own, at most one per SESSION_RESYNC_EVERY_S.
SESSION_RESYNC_DRIFT_S = env.float("SESSION_RESYNC_DRIFT_S", default=0.25)
SESSION_RESYNC_EVERY_S = env.float("SESSION_RESYNC_EVERY_S", default=5.0)
SESSION_REACTIONS_PER_S = env.float("SESSION_REACTIONS_PER_S", default=2.0)
SESSION_INVITE_HOURS = env.float("SESSION_INVITE_HOURS", default=24)

# --- Operations -------------------------------------------------------------------------
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# Token by default: behind a proxy on the same host, every client would be 127.0.0.1.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
PROMETHEUS_EXPORT_MIGRATIONS = False
HEALTH_CHECK_TIMEOUT_S = env.float("HEALTH_CHECK_TIMEOUT_S", default=2.0)

# --- Integrations, each switched on by its URL/key ----------------------------------------
MEILI_URL = env("MEILI_URL", default="")
MEILI_MASTER_KEY = env("MEILI_MASTER_KEY", default="")
MEILI_TIMEOUT_S = env.float("MEILI_TIMEOUT_S", default=1.0)  # past it, PostgreSQL answers instead
MEILI_INDEX_PREFIX = env("MEILI_INDEX_PREFIX", default="musicapp_")
# After Meilisearch fails, searches go straight to PostgreSQL for this long (no request waits on
# a dead server); the sync jobs, which may wait longer, use their own timeout.
MEILI_RETRY_AFTER_S = env.float("MEILI_RETRY_AFTER_S", default=10.0)
MEILI_SYNC_TIMEOUT_S = env.float("MEILI_SYNC_TIMEOUT_S", default=30.0)
CLOUDINARY_URL = env("CLOUDINARY_URL", default="")

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / ".devdata" / "mail"))
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
# A mail server that accepts the connection and never answers must not hold a worker forever.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT_S", default=20.0)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Music <no-reply@localhost>")

# --- Background jobs (procrastinate, in PostgreSQL; musicapp.platform.jobs) -------------------
PROCRASTINATE_IMPORT_PATHS = ["musicapp.platform.tasks", "musicapp.adapters.mail"]  # plus every app's tasks.py
JOBS_STALLED_AFTER_S = env.float("JOBS_STALLED_AFTER_S", default=30.0)
PROCRASTINATE_WORKER_DEFAULTS = {
    "concurrency": env.int("JOBS_CONCURRENCY", default=2),
    # Done jobs leave the table at once (their arguments may hold an email address); failed
    # ones stay for staff to see and retry in the admin.
    "delete_jobs": "successful",
    "update_heartbeat_interval": env.float("JOBS_HEARTBEAT_S", default=10.0),
    "stalled_worker_timeout": JOBS_STALLED_AFTER_S,
    "shutdown_graceful_timeout": env.float("JOBS_SHUTDOWN_GRACE_S", default=20.0),
}
# Cron lines (UTC; a 6th field counts seconds). Each runs once per tick however many workers run.
JOB_SCHEDULES = {
    name: env(f"CRON_{name.upper()}", default=default)
    for name, default in {
        "refresh_popular": "7 * * * *",  # hourly
        "compute_recommendations": "30 3 * * *",  # nightly, for users with new plays or likes
        "cleanup_accounts": "15 4 * * *",  # expired email codes and logins
        "cleanup_media": "45 4 * * *",  # orphaned files of the local media store
        "cleanup_invitations": "50 4 * * *",  # lapsed playlist invitations
        "expire_sessions": "* * * * *",  # listening sessions idle past SESSION_IDLE_HOURS
        "sweep_presence": "*/20 * * * * *",  # session sockets that vanished without a close
        "search_sync": "*/5 * * * *",  # changes still waiting for Meilisearch (the sync job's net)
        "search_vocabulary": "17 * * * *",  # words typos are corrected to, counted anew
        "retry_stalled_jobs": "* * * * *",  # jobs of workers that stopped beating
        "prune_old_jobs": "0 5 * * *",  # failed jobs older than JOBS_KEEP_FAILED_DAYS
    }.items()
}
JOBS_KEEP_FAILED_DAYS = env.int("JOBS_KEEP_FAILED_DAYS", default=30)
MEDIA_ORPHAN_GRACE_HOURS = env.int("MEDIA_ORPHAN_GRACE_HOURS", default=24)
RECOMMENDATIONS_LOOKBACK_DAYS = env.int("RECOMMENDATIONS_LOOKBACK_DAYS", default=7)

# --- Static and media -------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Absolute URLs of locally stored media are built on this (the SPA lives on another origin).
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default=f"http://127.0.0.1:{PORT}").rstrip("/")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "musicapp.platform.storage.StaticStorage"},
}
if TESTING:
    STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
    WHITENOISE_USE_FINDERS = True

# --- Security headers -------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
# Ask browsers' HSTS preload lists to include the domain (a commitment: see hstspreload.org).
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Every line passes the filter that blanks ?token= (WebSocket URLs carry the access token).
    "filters": {
        "redact_secrets": {"()": "musicapp.platform.logs.RedactSecrets"},
        "no_404": {"()": "musicapp.platform.logs.SkipNotFound"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # The ASGI server's own loggers write through the filtered handler too (their own
        # handlers, set before Django loads, would print the token).
        "uvicorn.access": {"handlers": ["console"], "propagate": False},
        "uvicorn.error": {"handlers": ["console"], "propagate": False},
        "django.db.backends": {"level": "INFO"},
        # A 404 is an answer, not an incident: /metrics counts them (django_http_responses_total
        # by status); one warning line each filled 97 MB of log in one load test.
        "django.request": {"filters": ["no_404"]},
        # One line per queued job and per run is noise; a failing or retried job still logs.
        "procrastinate": {"level": env("JOBS_LOG_LEVEL", default="WARNING")},
    },
}
