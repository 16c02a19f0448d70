"""The API conventions of API.md: error envelope, camelCase, cursor pagination, rate limit,
gzip, CORS and security headers, against real PostgreSQL and Redis."""

import gzip
import json
import re
import time
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from musicapp.platform.errors import all_error_classes
from tests.factories import UserFactory
from tests.support.auth import auth_client

pytestmark = [pytest.mark.urls("tests.platform_urls"), pytest.mark.django_db]


CODES = {cls.code for cls in all_error_classes()}


def assert_envelope(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False
    assert isinstance(body["message"], str) and body["message"]
    assert body["code"] in CODES
    if code:
        assert body["code"] == code
    assert b"Traceback" not in response.content
    return body


# --- error envelope -------------------------------------------------------------------


def test_unknown_path_is_a_json_404(api):
    body = assert_envelope(api.get("/api/no/such/thing"), 404)
    assert body == {"success": False, "code": "not_found", "message": "Not found."}


def test_unknown_path_outside_api_is_a_json_404_too(api):
    assert_envelope(api.get("/nothing-here"), 404, "not_found")


def test_wrong_method_is_a_405_envelope(api):
    body = assert_envelope(api.delete("/test/echo"), 405, "method_not_allowed")
    assert "DELETE" in body["message"]


def test_validation_errors_land_in_errors_by_camel_case_field(api):
    response = api.post("/test/echo", {"playDuration": -1, "contextType": "nope"}, format="json")
    body = assert_envelope(response, 400, "validation_error")
    assert set(body["errors"]) == {"playDuration", "contextType", "isPublic"}
    assert all(isinstance(texts, list) and texts for texts in body["errors"].values())


def test_nested_validation_errors_are_flattened_with_dotted_paths(api):
    payload = {
        "playDuration": 1,
        "contextType": "album",
        "isPublic": True,
        "equalizer": {"presetName": "flat", "bands": [0] * 9 + [99]},
    }
    body = assert_envelope(api.post("/test/echo", payload, format="json"), 400)
    assert list(body["errors"]) == ["equalizer.bands.9"]


def test_malformed_json_is_a_400_envelope(api):
    body = assert_envelope(api.post("/test/echo", "{not json", content_type="application/json"), 400, "parse_error")
    assert "JSON" in body["message"]


def test_domain_error_keeps_its_status_and_message(api):
    body = assert_envelope(api.post("/test/conflict"), 409, "conflict")
    assert body["message"] == "That song is already in the playlist."


@pytest.mark.parametrize("error", all_error_classes(), ids=lambda cls: cls.code)
def test_every_domain_errors_code_and_status_reach_the_client(api, error):
    response = api.get("/test/raise", {"error": error.__name__})
    body = assert_envelope(response, error.status, error.code)
    assert body["message"] == error().message
    if error.status == 429 or error.code == "overloaded":
        assert response["Retry-After"] == "1"


def test_error_codes_are_all_listed_in_the_docs():
    docs = (settings.BASE_DIR / "docs" / "ERRORS.md").read_text()
    listed = set(re.findall(r"^\| `([a-z_]+)` \|", docs, re.MULTILINE))
    assert listed == CODES


def test_unhandled_exception_is_a_500_without_traceback_or_detail(api):
    api.raise_request_exception = False
    response = api.get("/test/crash")
    body = assert_envelope(response, 500, "server_error")
    assert body["message"] == "Internal server error."
    assert b"secret internal detail" not in response.content


def test_missing_token_is_401_with_bearer_challenge(api):
    response = api.get("/test/whoami")
    assert_envelope(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_garbage_token_is_401(api):
    api.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    body = assert_envelope(api.get("/test/whoami"), 401, "token_invalid")
    assert "token" in body["message"].lower()


def test_expired_token_is_told_apart_so_the_app_refreshes(owner):
    with time_machine.travel(timezone.now() - timedelta(hours=1)):
        client = auth_client(owner)
    body = assert_envelope(client.get("/test/whoami"), 401, "token_expired")
    assert "expired" in body["message"]


def test_valid_token_authenticates_with_the_object_id(owner):
    response = auth_client(owner).get("/test/whoami")
    assert response.status_code == 200
    assert response.json() == {"success": True, "userId": owner.pk}


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_oversized_body_is_a_413_envelope(api):
    response = api.post(
        "/test/echo", {"playDuration": 1, "contextType": "album", "isPublic": True, "pad": "x" * 5000}, format="json"
    )
    assert_envelope(response, 413, "too_large")


def test_redis_outage_is_a_503_envelope(api):
    dead = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    with override_settings(CACHES=dead, RATELIMIT_ENABLE=False):
        body = assert_envelope(api.get("/test/cache"), 503, "dependency_down")
    assert "unavailable" in body["message"]


# --- camelCase ------------------------------------------------------------------------


def test_the_api_json_is_written_by_orjson_as_drf_would_write_it():
    from django.utils.translation import gettext_lazy
    from djangorestframework_camel_case.render import CamelCaseJSONRenderer
    from djangorestframework_camel_case.util import camelize
    from drf_orjson_renderer.renderers import ORJSONRenderer
    from rest_framework.renderers import JSONRenderer

    from library.serializers import SongSerializer
    from tests.factories import SongFactory

    songs = SongSerializer(SongFactory.create_batch(3, name="Für Élise — 夜曲 🎵"), many=True).data
    page = {"success": True, "songs": songs, "next_cursor": None, "has_more": False}
    error = {"success": False, "code": "not_found", "message": gettext_lazy("Not found.")}
    numbers = {"play_duration": 0.1 + 0.2, "bands": [-12.0, 0, 3.5, 1e-7, 123456789012], "is_public": True}
    assert isinstance(CamelCaseJSONRenderer(), ORJSONRenderer)
    for payload in (page, error):  # the API's shapes: the very same bytes
        assert CamelCaseJSONRenderer().render(payload) == JSONRenderer().render(camelize(payload))
    # Numbers: the same values (an exponent is written 1e-7, not 1e-07: the same number to any parser).
    written = CamelCaseJSONRenderer().render(numbers)
    assert json.loads(written) == json.loads(JSONRenderer().render(camelize(numbers)))
    assert json.loads(written)["playDuration"] == 0.1 + 0.2


def test_camel_case_round_trip(api):
    payload = {
        "playDuration": 42,
        "contextType": "playlist",
        "isPublic": False,
        "equalizer": {"presetName": "bass", "bands": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]},
    }
    response = api.post("/test/echo", payload, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "success": True,
        "echo": {
            **payload,
            "equalizer": {"presetName": "bass", "bands": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]},
        },
    }


# --- pagination -----------------------------------------------------------------------


def walk(client, url: str) -> list[str]:
    ids, cursor = [], None
    while True:
        response = client.get(url, {"limit": 4, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.content
        body = response.json()
        ids += [row["id"] for row in body["users"]]
        assert body["hasMore"] is (body["nextCursor"] is not None)
        if not body["hasMore"]:
            return ids
        cursor = body["nextCursor"]


def test_pagination_shape_and_limits(owner_api):
    UserFactory.create_batch(5)
    body = owner_api.get("/test/users", {"limit": 2}).json()
    assert set(body) == {"success", "users", "nextCursor", "hasMore"}
    assert len(body["users"]) == 2 and body["hasMore"] is True
    assert set(body["users"][0]) == {"id", "email", "createdAt"}
    assert len(owner_api.get("/test/users").json()["users"]) == 6  # default limit 20


@pytest.mark.parametrize("limit", ["0", "101", "ten", ""])
def test_pagination_rejects_bad_limits(owner_api, limit):
    body = assert_envelope(owner_api.get("/test/users", {"limit": limit}), 400, "validation_error")
    assert "limit" in body["errors"]


@pytest.mark.parametrize("cursor", ["garbage", "W10", "WyJub3QtYS1kYXRlIiwgIngiXQ"])
def test_pagination_rejects_forged_cursors(owner_api, cursor):
    body = assert_envelope(owner_api.get("/test/users", {"cursor": cursor}), 400)
    assert "cursor" in body["errors"]


def test_pagination_is_newest_first_and_breaks_ties_by_id(owner, owner_api):
    same_instant = timezone.now() - timedelta(days=1)
    tied = UserFactory.create_batch(6, created_at=same_instant)
    ids = walk(owner_api, "/test/users")
    expected = [owner.pk, *sorted((u.pk for u in tied), reverse=True)]
    assert ids == expected


def test_pagination_is_stable_under_concurrent_inserts(owner, owner_api):
    base = timezone.now() - timedelta(hours=1)
    originals = [UserFactory(created_at=base + timedelta(seconds=i)) for i in range(10)]
    first = owner_api.get("/test/users", {"limit": 4}).json()
    # Others sign up while the client pages: newer rows, and rows tied with the last one seen.
    last_seen = User.objects.get(pk=first["users"][-1]["id"])
    UserFactory.create_batch(3)
    UserFactory(created_at=last_seen.created_at)
    seen = [row["id"] for row in first["users"]]
    cursor = first["nextCursor"]
    while cursor:
        page = owner_api.get("/test/users", {"limit": 4, "cursor": cursor}).json()
        seen += [row["id"] for row in page["users"]]
        cursor = page["nextCursor"]
    assert len(seen) == len(set(seen)), "a row was served twice"
    assert {u.pk for u in originals} | {owner.pk} <= set(seen), "a row that existed was skipped"


def test_pagination_query_count_is_constant(owner_api, django_assert_num_queries):
    UserFactory.create_batch(30)
    body = owner_api.get("/test/users", {"limit": 5}).json()
    # 1 page query, on the first page and on a deep one (the token's user is cached).
    with django_assert_num_queries(1):
        owner_api.get("/test/users", {"limit": 5})
    with django_assert_num_queries(1):
        owner_api.get("/test/users", {"limit": 5, "cursor": body["nextCursor"]})


# --- rate limit -----------------------------------------------------------------------


@override_settings(API_RATE="3/15m")
def test_rate_limit_answers_429_with_retry_after_per_ip(api):
    for _ in range(3):
        assert api.get("/test/cache").status_code == 200
    response = api.get("/test/cache")
    body = assert_envelope(response, 429, "rate_limited")
    assert 0 < int(response["Retry-After"]) <= 15 * 60 + 5
    assert "Too many requests" in body["message"]
    # Another address has its own budget.
    assert api.get("/test/cache", REMOTE_ADDR="10.1.2.3").status_code == 200


@override_settings(API_RATE="2/15m")
def test_rate_limit_counts_per_user_not_per_address(owner, stranger):
    owner_client, stranger_client = auth_client(owner), auth_client(stranger)
    assert [owner_client.get("/test/whoami").status_code for _ in range(3)] == [200, 200, 429]
    assert stranger_client.get("/test/whoami").status_code == 200


@override_settings(API_RATE="1/15m", RATELIMIT_ENABLE=False)
def test_rate_limit_can_be_switched_off(api):
    assert [api.get("/test/cache").status_code for _ in range(3)] == [200, 200, 200]


@override_settings(API_RATE="1/15m", TRUSTED_PROXIES=["127.0.0.1", "10.0.0.0/8"])
def test_rate_limit_believes_forwarded_addresses_only_from_trusted_proxies(api):
    # Our proxies (127.0.0.1, then 10.x) append the address they got the request from; whatever
    # the client wrote further left is ignored.
    assert api.get("/test/cache", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7, 10.1.1.1").status_code == 200
    assert api.get("/test/cache", HTTP_X_FORWARDED_FOR="7.7.7.7, 203.0.113.7, 10.1.1.1").status_code == 429
    assert api.get("/test/cache", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.8").status_code == 200
    # A peer that is not one of our proxies is the client, whatever it forwards.
    assert api.get("/test/cache", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 200
    assert api.get("/test/cache", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 429


@override_settings(API_RATE="1/15m")
def test_whom_a_request_is_counted_against_follows_a_change_of_settings_at_once(api):
    # The same request (peer and header) is counted against the peer, then, once the peer is a
    # trusted proxy, against the address it forwards: nothing remembered from before holds.
    assert api.get("/test/cache", HTTP_X_FORWARDED_FOR="6.6.6.6").status_code == 200
    assert api.get("/test/cache", HTTP_X_FORWARDED_FOR="6.6.6.6").status_code == 429
    with override_settings(TRUSTED_PROXIES=["127.0.0.1"]):
        assert api.get("/test/cache", HTTP_X_FORWARDED_FOR="6.6.6.6").status_code == 200


@override_settings(API_RATE="1/15m")
def test_forwarded_addresses_are_ignored_by_default(api):
    assert api.get("/test/cache", HTTP_X_FORWARDED_FOR="6.6.6.6").status_code == 200
    assert api.get("/test/cache", HTTP_X_FORWARDED_FOR="7.7.7.7").status_code == 429


def redis_counter(request_path: str = "/test/cache", **meta) -> int:
    """The API limit's counter of an anonymous request's address, read as django-ratelimit
    itself reads it (its key, its window, its cache): whatever counted it used the same key."""
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory
    from django_ratelimit.core import get_usage

    request = RequestFactory().get(request_path, **meta)
    request.user = AnonymousUser()
    return get_usage(request, group="api", key="user_or_ip", rate=settings.API_RATE)["count"]


def eval_calls() -> int:
    from django_redis import get_redis_connection  # type: ignore[import-untyped]

    return get_redis_connection("default").info("commandstats").get("cmdstat_eval", {}).get("calls", 0)


@override_settings(API_RATE="1000/15m")
def test_far_from_its_limit_an_api_hit_costs_no_round_trip(api, unsent_until_flushed):
    assert api.get("/test/cache").status_code == 200  # this process learns the count: 1
    assert redis_counter() == 1
    evals = eval_calls()
    for _ in range(20):
        assert api.get("/test/cache").status_code == 200
    assert eval_calls() == evals  # none of the 20 went to Redis...
    unsent_until_flushed.flush()
    assert redis_counter() == 21  # ...until the batch, into django-ratelimit's own counter


@override_settings(API_RATE="1000/15m")
def test_unsent_api_hits_reach_redis_within_a_moment(api):
    assert api.get("/test/cache").status_code == 200
    assert api.get("/test/cache").status_code == 200  # counted here, sent by the thread
    deadline = time.monotonic() + 5
    while redis_counter() != 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert redis_counter() == 2


@override_settings(API_RATE="100/15m")
def test_near_its_limit_every_api_hit_is_counted_in_redis_and_the_limit_is_exact(api, unsent_until_flushed):
    statuses = [api.get("/test/cache").status_code for _ in range(101)]
    assert statuses == [200] * 100 + [429]
    evals = eval_calls()
    assert api.get("/test/cache").status_code == 429
    assert eval_calls() == evals + 1
    assert redis_counter() == 102  # nothing was left unsent near the limit


def test_two_processes_counting_one_key_let_through_at_most_a_fortieth_more_each(unsent_until_flushed):
    from musicapp.platform.counters import BatchedCounts

    first, second = BatchedCounts("ratelimit"), BatchedCounts("ratelimit")
    for counts in (first, second):
        counts._flush_soon = lambda: None  # the test flushes
    allowed = 0
    for n in range(3000):
        counts = first if n % 2 else second
        allowed += counts.hit("rl:two-processes", limit=1000, ttl=60) <= 1000
    assert 1000 <= allowed <= 1000 + 1000 // 40
    first.flush()
    second.flush()
    assert first.hit("rl:two-processes", limit=1000, ttl=60) == 3001  # every hit reached Redis


# --- gzip, CORS, security headers -----------------------------------------------------


def test_large_responses_are_gzipped(api):
    response = api.get("/test/big", {"size": 5000}, HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.content))["text"] == "x" * 5000


def test_an_identical_body_is_compressed_once_and_each_new_body_anew(api):
    from musicapp.platform.middleware import compressed_copies

    compressed_copies.clear()
    first = api.get("/test/big", {"size": 6000}, HTTP_ACCEPT_ENCODING="gzip")
    again = api.get("/test/big", {"size": 6000}, HTTP_ACCEPT_ENCODING="gzip")
    other = api.get("/test/big", {"size": 6001}, HTTP_ACCEPT_ENCODING="gzip")

    assert again.content == first.content  # the kept copy (fresh gzip pads randomly)
    assert len(compressed_copies.entries) == 2
    assert json.loads(gzip.decompress(other.content))["text"] == "x" * 6001
    plain = api.get("/test/big", {"size": 6000})
    assert not plain.has_header("Content-Encoding")
    assert plain["Vary"] == again["Vary"]


def test_compressed_copies_stay_within_their_byte_budget():
    from musicapp.platform.middleware import CompressedCopies

    copies = CompressedCopies(max_bytes=4000)
    bodies = [bytes(range(256)) * 8 + str(n).encode() for n in range(20)]  # ~2 KB each, ~450 B gzipped
    for body in bodies:
        assert gzip.decompress(copies.compress(body, max_random_bytes=100)) == body
    assert copies.size <= 4000
    assert copies.size == sum(len(value) for value in copies.entries.values())
    assert len(copies.entries) < len(bodies)  # the oldest went first


def test_api_requests_build_no_session_or_messages_and_the_admin_still_does(client):
    from tests.factories import UserFactory

    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    client.force_login(staff)  # a session cookie the API must not read

    api_response = client.get("/api/song/list")
    admin_response = client.get("/admin/")

    assert api_response.status_code == 200
    assert not hasattr(api_response.wsgi_request, "session")
    assert not hasattr(api_response.wsgi_request, "_messages")
    assert "Cookie" not in api_response.get("Vary", "")
    assert admin_response.status_code == 200  # the admin signs in with its session
    assert admin_response.wsgi_request.user == staff
    assert hasattr(admin_response.wsgi_request, "_messages")


def test_small_responses_are_not_gzipped(api):
    response = api.get("/test/big", {"size": 100}, HTTP_ACCEPT_ENCODING="gzip")
    assert not response.has_header("Content-Encoding")


@override_settings(CORS_ALLOWED_ORIGINS=["https://app.example.com"])
def test_cors_preflight_allows_only_the_spa_origin(api):
    ok = api.options(
        "/test/whoami",
        HTTP_ORIGIN="https://app.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    assert ok["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "authorization" in ok["Access-Control-Allow-Headers"]
    other = api.options(
        "/test/whoami", HTTP_ORIGIN="https://evil.example.com", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )
    assert not other.has_header("Access-Control-Allow-Origin")


def test_security_headers_are_set(api):
    response = api.get("/test/cache")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_rate_limit_counters_count_each_hit_once_with_their_expiry_in_one_round_trip():
    from django.core.cache import caches
    from django_redis import get_redis_connection

    counters = caches["ratelimit"]  # django-ratelimit's add-then-incr, as get_usage calls them
    counts = [1 if counters.add("rl:test", 1, 60) else counters.incr("rl:test") for _ in range(3)]

    assert counts == [1, 2, 3]
    assert 0 < get_redis_connection("default").ttl(counters.make_key("rl:test")) <= 60
    counters.set("rl:plain", 5)
    assert counters.add("rl:test", 1, 60) is False  # counted 4, remembered for its incr...
    assert counters.incr("rl:plain") == 6  # ...which another key's incr does not take
    assert counters.get("rl:test") == 4
