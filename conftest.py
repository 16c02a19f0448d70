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
