"""/health, /metrics, the OpenAPI schema and docs, and the admin, against the real services."""

import re
import threading
import time

import pytest
from django.test import override_settings

from musicapp.platform import health
from tests.factories import PASSWORD, UserFactory
from tests.support.servers import fake_http_service, free_port, redis_server

pytestmark = pytest.mark.django_db


def cache_at(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }


def test_health_is_healthy_with_real_checks(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["checks"] == {"database": True, "redis": True, "search": True}
    assert set(body["latencyMs"]) == {"database", "redis", "search"}
    assert all(isinstance(ms, float) and ms >= 0 for ms in body["latencyMs"].values())
    assert body["timestamp"].endswith("Z")
    assert "no-cache" in response["Cache-Control"]


def test_health_is_degraded_when_redis_stops(client):
    with redis_server() as (url, proc), override_settings(CACHES=cache_at(url)):
        assert client.get("/health").json()["checks"]["redis"] is True
        proc.terminate()
        proc.wait(10)
        response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"] == {"database": True, "redis": False, "search": True}
    assert body["failed"] == ["redis"]


def test_health_checks_meilisearch_when_configured(client):
    # A fake Meilisearch at the HTTP boundary: the real `meilisearch` client talks to it.
    routes = {("GET", "/health"): (200, {"status": "available"})}
    with fake_http_service(routes) as (url, seen), override_settings(MEILI_URL=url, MEILI_MASTER_KEY="k3y"):
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["checks"]["search"] is True
    assert seen[0]["path"] == "/health"
    assert seen[0]["headers"]["Authorization"] == "Bearer k3y"


def test_health_is_degraded_when_meilisearch_is_down(client):
    with override_settings(MEILI_URL=f"http://127.0.0.1:{free_port()}", MEILI_MASTER_KEY="k"):
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["failed"] == ["search"]


def test_health_rejects_other_methods_with_a_405_envelope(client):
    response = client.post("/health")
    assert response.status_code == 405
    assert response.json() == {"success": False, "code": "method_not_allowed", "message": 'Method "POST" not allowed.'}


def test_metrics_need_the_token_by_default_even_from_loopback(client):
    # Behind a proxy on the same host every client is 127.0.0.1: loopback proves nothing.
    assert client.get("/metrics").status_code == 401


@override_settings(METRICS_ALLOWED_IPS=["127.0.0.1"])
def test_metrics_open_to_allowed_address(client):
    client.get("/health")
    response = client.get("/metrics")  # the test client comes from 127.0.0.1
    assert response.status_code == 200
    text = response.content.decode()
    assert "django_http_requests_total_by_method_total" in text
    assert "django_db_execute_total" in text
    assert "musicapp_health_check_up" in text


@override_settings(METRICS_ALLOWED_IPS=[], METRICS_TOKEN="s3cret")
def test_metrics_need_the_token_from_elsewhere(client):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200


@override_settings(METRICS_ALLOWED_IPS=["127.0.0.1", "10.0.0.0/8"], TRUSTED_PROXIES=["127.0.0.1"])
def test_metrics_behind_a_proxy_judge_the_real_client(client):
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="198.51.100.4").status_code == 401
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="10.9.8.7").status_code == 200


def test_openapi_schema_and_docs_are_published(client):
    schema = client.get("/api/schema", {"format": "json"})
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


def test_staff_can_log_into_the_admin(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    response = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/user/", {"q": staff.email}).status_code == 200


def test_admin_sign_in_is_rate_limited_like_the_apis(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    wrong = [client.post("/admin/login/", {"username": staff.email, "password": f"guess-{n}"}) for n in range(6)]
    assert [r.status_code for r in wrong] == [200] * 5 + [429]
    assert int(wrong[-1]["Retry-After"]) > 0 and b"Too many sign-in attempts" in wrong[-1].content
    # Even the right password waits now: the attempt is not tried.
    right = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert right.status_code == 429
    assert client.get("/admin/").status_code == 302  # still signed out


def test_admin_sign_in_limit_counts_per_address_too(client):
    for n in range(5):
        client.post("/admin/login/", {"username": f"someone{n}@example.com", "password": "guess"})
    assert client.post("/admin/login/", {"username": "other@example.com", "password": "guess"}).status_code == 429


def test_non_staff_cannot_use_the_admin(client):
    listener = UserFactory()
    client.post("/admin/login/", {"username": listener.email, "password": PASSWORD})
    assert client.get("/admin/").status_code == 302


def test_openapi_schema_validates_without_warnings(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ("/api/auth/register:", "/api/auth/refresh:", "/api/user/me:", "/api/user/settings:"):
        assert path in text
    assert "accessToken" in text and "refresh_token" not in text  # camelCase in the published schema


def test_the_schema_advertises_only_websockets_that_exist():
    from django.conf import settings

    from musicapp.routing import websocket_urlpatterns

    samples = {"code": "ABCDEF", "id": "a" * 24}
    advertised = re.findall(r"/(ws/[a-z]+/)<(\w+)>/", settings.SPECTACULAR_SETTINGS["DESCRIPTION"])
    assert advertised
    real_routes = websocket_urlpatterns[:-1]  # the last one refuses every other path
    for prefix, parameter in advertised:
        path = f"{prefix}{samples[parameter]}/"
        assert any(route.pattern.match(path) for route in real_routes), path


def _concurrently(n: int, fn) -> list:
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(fn())) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def _timed_checks():
    start = time.monotonic()
    ok, _latency = health.run_checks()
    return ok, time.monotonic() - start


def test_a_hung_dependency_is_blamed_alone_and_holds_one_thread(monkeypatch, settings):
    settings.HEALTH_CHECK_TIMEOUT_S = 1
    release, runs = threading.Event(), []
    monkeypatch.setitem(health._checks, "hung", lambda: runs.append(1) or release.wait(30))
    try:
        results = _concurrently(12, _timed_checks)
    finally:
        release.set()
    assert len(results) == 12
    assert all(ok == {"database": True, "redis": True, "search": True, "hung": False} for ok, _ in results)
    assert all(elapsed < 3 for _, elapsed in results)
    assert len(runs) == 1  # every call waited on the one run in flight


def test_with_redis_stopped_only_redis_is_blamed_under_concurrent_checks(settings):
    with redis_server() as (url, proc), override_settings(CACHES=cache_at(url)):
        proc.terminate()
        proc.wait(10)
        results = _concurrently(12, _timed_checks)
    assert all(ok == {"database": True, "redis": False, "search": True} for ok, _ in results)


def test_a_404_writes_no_log_line_and_other_refusals_still_do(client, caplog):
    caplog.set_level("INFO", logger="django.request")

    assert client.get(f"/api/song/{'0' * 24}").status_code == 404
    assert client.get("/api/user/me").status_code == 401

    lines = [record.getMessage() for record in caplog.records if record.name == "django.request"]
    assert not any("Not Found" in line for line in lines)
    assert any("Unauthorized" in line for line in lines)


def test_more_threads_than_redis_connections_wait_for_one_instead_of_failing(settings):
    from django.core.cache.backends.base import BaseCache
    from django_redis.cache import RedisCache  # type: ignore[import-untyped]

    options = {**settings.CACHES["default"]["OPTIONS"]}
    options["CONNECTION_POOL_KWARGS"] = {**options["CONNECTION_POOL_KWARGS"], "max_connections": 2}
    small: BaseCache = RedisCache(settings.CACHES["default"]["LOCATION"], {"OPTIONS": options})
    client = small.client.get_client()
    errors: list[Exception] = []

    def hold_a_connection():
        try:
            client.blpop(["nothing-ever-comes"], timeout=0.2)
        except Exception as exc:  # noqa: BLE001 (the test reports any failure)
            errors.append(exc)

    threads = [threading.Thread(target=hold_a_connection) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
