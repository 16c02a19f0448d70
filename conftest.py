import pytest
from django.db import connection, connections
from django_redis import get_redis_connection  # type: ignore[import-untyped]
from rest_framework.test import APIClient

from accounts.authentication import verified_tokens
from musicapp.platform import scoped_cache, switches
from musicapp.platform.mirror import mirror
from musicapp.platform.ratelimit import api_counts
from tests.factories import UserFactory
from tests.support.auth import auth_client
from tests.support.jobs import run_pending_jobs


@pytest.fixture(autouse=True)
def _clean_redis():
    """Each test starts with an empty Redis database (the tests' own; see settings.TESTING)."""
    redis = get_redis_connection("default")
    redis.flushdb()
    mirror.drop_everywhere()  # the copies of other processes too (servers shared by a module)
    scoped_cache.clear_local()
    api_counts.forget()
    verified_tokens.clear()
    switches.forget_last()
    yield
    redis.flushdb()
    mirror.drop_everywhere()
    scoped_cache.clear_local()
    api_counts.forget()
    verified_tokens.clear()
    switches.forget_last()


JOB_TABLES = "procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers, procrastinate_workers"


def _empty_unmanaged_tables() -> None:
    # The flush after a transactional test empties Django-managed tables only. A job that test
    # committed would wait for the next test's worker, and the popular-songs view would keep
    # rows of songs that are gone.
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {JOB_TABLES} CASCADE")
        cursor.execute("REFRESH MATERIALIZED VIEW library_popular_song")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Before pytest-django makes the test database: close every connection pool. Django points
    connections at the test database by changing their settings and closes a pool only when it
    clones a database, so a pool opened earlier (at collection) would go on serving the
    development database: migrations and then tests would run there."""
    for conn in connections.all():
        conn.close_pool()


@pytest.fixture(scope="session", autouse=True)
def _unmanaged_tables_empty_at_start(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        _empty_unmanaged_tables()


@pytest.fixture(autouse=True)
def _unmanaged_tables_emptied_after_committing_tests(request):
    yield
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        _empty_unmanaged_tables()


@pytest.fixture
def call(django_capture_on_commit_callbacks):
    """POST/PATCH/GET through the API with on-commit side effects (cache drops) and the jobs
    it queued (mail) run, as a worker would run them just after."""

    def _call(client: APIClient, method: str, path: str, data=None, **extra):
        if method != "get" and "format" not in extra:
            extra["format"] = "json"
        with django_capture_on_commit_callbacks(execute=True):
            response = getattr(client, method)(path, data, **extra)
        run_pending_jobs()
        return response

    return _call


@pytest.fixture
def unsent_until_flushed(monkeypatch):
    """The API limit's counts as one process holds them, without the thread that sends them
    every 50 ms: the test says when they go (api_counts.flush())."""
    monkeypatch.setattr(api_counts, "_flush_soon", lambda: None)
    return api_counts


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def owner(db):
    return UserFactory(name="Olive Owner")


@pytest.fixture
def stranger(db):
    return UserFactory(name="Stan Stranger")


@pytest.fixture
def owner_api(owner) -> APIClient:
    return auth_client(owner)


@pytest.fixture(scope="session")
def static_root(tmp_path_factory):
    """Static files collected once per test session, for tests that run the real server."""
    from tests.support.servers import collect_static

    root = tmp_path_factory.mktemp("static")
    collect_static(root)
    return root
