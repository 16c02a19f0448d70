"""Settings come from the environment: parsed in a fresh interpreter with a given environment,
and checked on the live connection the tests use."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

DUMP = """
import json, musicapp.settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "db": {k: db[k] for k in ("ENGINE", "NAME", "HOST", "PORT", "USER", "CONN_MAX_AGE")},
    "options": db["OPTIONS"], "cache": s.CACHES["default"]["LOCATION"],
    "layer": [h["address"] for h in s.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]], "debug": s.DEBUG,
    "hosts": s.ALLOWED_HOSTS, "cors": s.CORS_ALLOWED_ORIGINS, "meili": s.MEILI_URL,
    "email": s.EMAIL_BACKEND, "rate": s.API_RATE, "ratelimit": s.RATELIMIT_ENABLE,
    "proxies": s.TRUSTED_PROXIES, "port": s.PORT, "workers": s.WEB_CONCURRENCY,
    "secure_cookies": s.SESSION_COOKIE_SECURE,
    "server_side_cursors_off": db.get("DISABLE_SERVER_SIDE_CURSORS", False),
}))
"""

BASE_ENV = {
    "PATH": os.environ["PATH"],
    "SECRET_KEY": "x" * 50,
    "DATABASE_URL": "postgres://app:pw@db.internal:6543/music",
    "REDIS_URL": "redis://cache.internal:6380/2",
}


def load_settings(**env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", DUMP],
        env={**BASE_ENV, **env},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=60,
    )


def parsed(**env) -> dict:
    result = load_settings(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_behind_pgbouncer_in_transaction_mode_no_server_side_cursors_or_startup_options():
    s = parsed(DATABASE_URL="postgres://app:pw@bouncer.internal:6432/music?pgbouncer=transaction&sslmode=require")
    assert s["server_side_cursors_off"] is True
    assert "options" not in s["options"]  # PgBouncer refuses startup options; the role has the timeouts
    assert "pgbouncer" not in s["options"]  # ours, not libpq's
    assert s["options"]["sslmode"] == "require"
    assert parsed()["server_side_cursors_off"] is False


def test_database_url_with_pool_and_timeouts():
    s = parsed()
    assert s["db"] == {
        "ENGINE": "django_prometheus.db.backends.postgresql",
        "NAME": "music",
        "HOST": "db.internal",
        "PORT": 6543,
        "USER": "app",
        "CONN_MAX_AGE": 0,
    }
    # The pool fits every thread that may hold a connection: 8 request threads, 4 socket threads.
    assert s["options"]["pool"] == {"min_size": 1, "max_size": 12, "timeout": 3.0}
    assert (s["options"]["connect_timeout"], s["options"]["keepalives"], s["options"]["tcp_user_timeout"]) == (
        3,
        1,
        10_000,
    )
    assert "-c statement_timeout=30000" in s["options"]["options"]
    assert "-c idle_in_transaction_session_timeout=60000" in s["options"]["options"]


def test_managed_postgres_url_keeps_sslmode_and_its_own_options():
    s = parsed(
        DATABASE_URL="postgresql://u:p@ep-cool-1.eu.aws.neon.tech/neondb?sslmode=require&options=endpoint%3Dep-cool-1"
    )
    assert s["options"]["sslmode"] == "require"
    assert s["options"]["options"].startswith("endpoint=ep-cool-1 -c statement_timeout=30000")


def test_pool_can_be_turned_off_for_persistent_connections():
    s = parsed(DB_POOL_MAX_SIZE="0", CONN_MAX_AGE="120")
    assert "pool" not in s["options"]
    assert s["db"]["CONN_MAX_AGE"] == 120


def test_redis_url_feeds_cache_and_channel_layer_and_rediss_works():
    s = parsed(REDIS_URL="rediss://:pw@managed.example.com:6380/0")
    assert s["cache"] == "rediss://:pw@managed.example.com:6380/0"
    assert s["layer"] == ["rediss://:pw@managed.example.com:6380/0"]


def test_local_defaults():
    s = parsed()
    assert s["debug"] is False
    assert s["hosts"] == ["127.0.0.1", "localhost", "[::1]"]
    assert s["meili"] == ""
    assert s["email"] == "django.core.mail.backends.console.EmailBackend"
    assert (s["rate"], s["ratelimit"], s["proxies"], s["port"], s["workers"]) == ("1000/15m", True, [], 8000, 1)
    assert s["secure_cookies"] is False


def test_environment_overrides():
    s = parsed(
        ALLOWED_HOSTS="api.example.com,.example.org",
        CORS_ALLOWED_ORIGINS="https://app.example.com",
        MEILI_URL="http://meili:7700",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        API_RATE="50/1m",
        RATELIMIT_ENABLE="false",
        TRUSTED_PROXIES="10.0.0.5,192.168.0.0/16",
        PORT="9000",
        WEB_CONCURRENCY="4",
        SECURE_COOKIES="true",
    )
    assert s["hosts"] == ["api.example.com", ".example.org"]
    assert s["cors"] == ["https://app.example.com"]
    assert (s["meili"], s["rate"], s["ratelimit"], s["port"], s["workers"]) == (
        "http://meili:7700",
        "50/1m",
        False,
        9000,
        4,
    )
    assert s["proxies"] == ["10.0.0.5", "192.168.0.0/16"]
    assert s["email"].endswith("filebased.EmailBackend")
    assert s["secure_cookies"] is True


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL"])
def test_production_fails_fast_without_required_settings(missing):
    env = {**BASE_ENV}
    env.pop(missing)
    result = subprocess.run(
        [sys.executable, "-c", DUMP], env=env, capture_output=True, text=True, cwd=settings.BASE_DIR, timeout=60
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and missing in result.stderr


@pytest.mark.django_db
def test_live_connection_has_the_timeouts_and_the_pool():
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "30s"
        cursor.execute("SHOW idle_in_transaction_session_timeout")
        assert cursor.fetchone()[0] == "1min"
    assert connection.pool is not None


@pytest.mark.django_db
def test_live_database_has_the_search_extensions():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname IN ('pg_trgm', 'unaccent') ORDER BY 1")
        assert [row[0] for row in cursor.fetchall()] == ["pg_trgm", "unaccent"]


def test_a_garbled_trusted_proxy_fails_fast():
    result = subprocess.run(
        [sys.executable, "-c", DUMP],
        env={**BASE_ENV, "TRUSTED_PROXIES": "10.0.0.1,not-an-address"},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=60,
    )
    assert result.returncode != 0 and "TRUSTED_PROXIES" in result.stderr


def test_the_documented_production_environment_passes_check_deploy():
    readme = (settings.BASE_DIR / "README.md").read_text()
    block = readme.split("<!-- production-env -->")[1].split("<!-- /production-env -->")[0]
    documented = dict(line.split("=", 1) for line in block.splitlines() if "=" in line and not line.startswith("#"))
    documented["SECRET_KEY"] = "x" * 10 + "-production-like-secret-key-with-enough-entropy-0123456789"
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **documented}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
