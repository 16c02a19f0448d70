import pytest

from search import engines, queries
from tests.support.fake_meilisearch import FakeMeilisearch


@pytest.fixture(autouse=True)
def _fresh_engines():
    """Each test builds its own Meilisearch client and starts with the breaker closed."""
    engines._meili.cache_clear()
    queries.breaker.open_until = 0.0
    yield
    engines._meili.cache_clear()
    queries.breaker.open_until = 0.0


@pytest.fixture
def meili(settings):
    """A fake Meilisearch (tests/support/fake_meilisearch.py: Meilisearch cannot run here) on a
    loopback port, and the app configured to use it through the official client."""
    with FakeMeilisearch(api_key="test-master-key") as fake:
        settings.MEILI_URL = fake.url
        settings.MEILI_MASTER_KEY = "test-master-key"
        settings.MEILI_TIMEOUT_S = 0.5
        settings.MEILI_SYNC_TIMEOUT_S = 5.0
        yield fake
