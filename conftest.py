import pytest
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.support.auth import auth_client


@pytest.fixture(autouse=True)
def _clean_redis():
    """Each test starts with an empty Redis database (the tests' own; see settings.TESTING)."""
    redis = get_redis_connection("default")
    redis.flushdb()
    yield
    redis.flushdb()


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
