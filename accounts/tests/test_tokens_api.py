"""Access/refresh tokens: rotation, reuse detection, logout, reset, expiry, deactivation."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.models import Login
from tests.factories import PASSWORD, UserFactory
from tests.support.auth import STRONG_PASSWORD, bearer, last_code

pytestmark = pytest.mark.django_db


def refresh(call, token):
    return call(APIClient(), "post", "/api/auth/refresh", {"refreshToken": token})


def test_refresh_rotates_and_the_old_token_stops_working(call, listener, sign_in):
    first = sign_in(listener)
    response = refresh(call, first["refreshToken"])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"success", "accessToken", "refreshToken"}
    assert body["refreshToken"] != first["refreshToken"]
    assert bearer(body["accessToken"]).get("/api/user/me").status_code == 200
    assert refresh(call, body["refreshToken"]).status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_whole_login(call, listener, sign_in):
    stolen = sign_in(listener)["refreshToken"]
    current = refresh(call, stolen).json()["refreshToken"]
    replay = refresh(call, stolen)
    assert replay.status_code == 401
    assert replay.json()["message"].startswith("The refresh token is invalid")
    assert refresh(call, current).status_code == 401  # the legitimate chain is dead too
    login = Login.objects.get(user=listener)
    assert login.revoked_reason == "reuse"


def test_reuse_on_one_device_leaves_other_logins_alone(call, listener, sign_in):
    phone, laptop = sign_in(listener), sign_in(listener)
    refresh(call, phone["refreshToken"])
    refresh(call, phone["refreshToken"])  # replay: the phone's login dies
    assert refresh(call, laptop["refreshToken"]).status_code == 200


def test_logout_kills_that_refresh_token_only(call, listener, sign_in):
    phone, laptop = sign_in(listener), sign_in(listener)
    response = call(bearer(phone["accessToken"]), "post", "/api/auth/logout", {"refreshToken": phone["refreshToken"]})
    assert response.status_code == 200 and response.json()["message"]
    assert refresh(call, phone["refreshToken"]).status_code == 401
    assert refresh(call, laptop["refreshToken"]).status_code == 200


def test_logout_needs_a_signed_in_caller(call, listener, sign_in):
    tokens = sign_in(listener)
    assert call(APIClient(), "post", "/api/auth/logout", {"refreshToken": tokens["refreshToken"]}).status_code == 401


def test_logout_cannot_revoke_someone_elses_login(call, listener, stranger, sign_in):
    theirs, mine = sign_in(listener), sign_in(stranger)
    response = call(bearer(mine["accessToken"]), "post", "/api/auth/logout", {"refreshToken": theirs["refreshToken"]})
    assert response.status_code == 403
    assert refresh(call, theirs["refreshToken"]).status_code == 200


def test_logout_with_a_dead_token_is_fine(call, listener, sign_in):
    tokens = sign_in(listener)
    response = call(bearer(tokens["accessToken"]), "post", "/api/auth/logout", {"refreshToken": "garbage"})
    assert response.status_code == 200


def test_forgot_and_reset_password_revokes_every_token(call, listener, sign_in, mailoutbox):
    phone = sign_in(listener)
    call(APIClient(), "post", "/api/auth/forgot-password", {"email": listener.email})
    response = call(
        APIClient(),
        "post",
        "/api/auth/reset-password",
        {"email": listener.email, "otp": last_code(mailoutbox, listener.email), "password": STRONG_PASSWORD},
    )
    assert response.status_code == 200
    assert refresh(call, phone["refreshToken"]).status_code == 401
    assert bearer(phone["accessToken"]).get("/api/user/me").status_code == 401
    old = call(APIClient(), "post", "/api/auth/login", {"email": listener.email, "password": PASSWORD})
    assert old.status_code == 401
    assert sign_in(listener, STRONG_PASSWORD)["accessToken"]


def test_reset_with_a_wrong_code_changes_nothing(call, listener, sign_in, mailoutbox):
    phone = sign_in(listener)
    call(APIClient(), "post", "/api/auth/forgot-password", {"email": listener.email})
    code = last_code(mailoutbox, listener.email)
    response = call(
        APIClient(),
        "post",
        "/api/auth/reset-password",
        {"email": listener.email, "otp": "000000" if code != "000000" else "111111", "password": STRONG_PASSWORD},
    )
    assert response.status_code == 400
    listener.refresh_from_db()
    assert listener.check_password(PASSWORD)
    assert refresh(call, phone["refreshToken"]).status_code == 200


def test_reset_rejects_a_weak_password_before_using_the_code(call, listener, mailoutbox):
    call(APIClient(), "post", "/api/auth/forgot-password", {"email": listener.email})
    code = last_code(mailoutbox, listener.email)
    weak = call(
        APIClient(), "post", "/api/auth/reset-password", {"email": listener.email, "otp": code, "password": "password"}
    )
    assert weak.status_code == 400 and "password" in weak.json()["errors"]
    good = call(
        APIClient(),
        "post",
        "/api/auth/reset-password",
        {"email": listener.email, "otp": code, "password": STRONG_PASSWORD},
    )
    assert good.status_code == 200


def test_access_token_lasts_fifteen_minutes(listener, sign_in):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        access = sign_in(listener)["accessToken"]
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert bearer(access).get("/api/user/me").status_code == 200
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        response = bearer(access).get("/api/user/me")  # verified before: the remembered token
    assert response.status_code == 401 and response.json()["success"] is False
    assert response.json()["code"] == "token_expired"


def test_a_token_verified_once_does_not_vouch_for_a_tampered_copy(listener, sign_in):
    access = sign_in(listener)["accessToken"]
    assert bearer(access).get("/api/user/me").status_code == 200  # verified and remembered
    header, payload, signature = access.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]

    response = bearer(f"{header}.{payload}.{flipped}").get("/api/user/me")

    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_refresh_token_lasts_seven_days(call, listener, sign_in):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token = sign_in(listener)["refreshToken"]
    with time_machine.travel(start + timedelta(days=7, seconds=1), tick=False):
        assert refresh(call, token).status_code == 401


def test_garbage_tokens_are_401(call):
    assert bearer("garbage").get("/api/user/me").status_code == 401
    assert refresh(call, "garbage").status_code == 401
    assert call(APIClient(), "post", "/api/auth/refresh", {}).status_code == 400


def test_an_access_token_is_not_a_refresh_token(call, listener, sign_in):
    assert refresh(call, sign_in(listener)["accessToken"]).status_code == 401


def test_deactivating_a_user_stops_their_tokens_at_once(call, listener, sign_in, django_capture_on_commit_callbacks):
    tokens = sign_in(listener)
    with django_capture_on_commit_callbacks(execute=True):
        services.user_deactivate(user=listener)
    assert bearer(tokens["accessToken"]).get("/api/user/me").status_code == 401
    assert refresh(call, tokens["refreshToken"]).status_code == 401


def test_logout_ends_that_logins_access_tokens_at_once(call, listener, sign_in):
    phone, laptop = sign_in(listener), sign_in(listener)
    phone_api = bearer(phone["accessToken"])
    assert phone_api.get("/api/user/me").status_code == 200
    call(phone_api, "post", "/api/auth/logout", {"refreshToken": phone["refreshToken"]})
    response = phone_api.get("/api/user/me")
    assert response.status_code == 401 and response.json()["code"] == "token_revoked"
    assert bearer(laptop["accessToken"]).get("/api/user/me").status_code == 200  # another login lives on


def test_a_replayed_refresh_token_ends_the_access_tokens_of_its_login(call, listener, sign_in):
    signed_in = sign_in(listener)
    fresh = refresh(call, signed_in["refreshToken"]).json()
    refresh(call, signed_in["refreshToken"])  # the replay: the whole login is revoked
    for access in (signed_in["accessToken"], fresh["accessToken"]):
        response = bearer(access).get("/api/user/me")
        assert response.status_code == 401 and response.json()["code"] == "token_revoked"


# --- the token's user, cached -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_user_deactivated_or_signed_out_in_another_process_is_refused_here_at_once(django_assert_num_queries):
    from tests.support.auth import auth_client
    from tests.support.processes import another_process, wait_until_current

    listener, other_listener = UserFactory(), UserFactory()
    client = auth_client(listener)
    assert client.get("/api/user/me").status_code == 200
    with django_assert_num_queries(0):
        assert client.get("/api/user/me").status_code == 200
    signed_in = services.auth.login_start(user=other_listener, ip="127.0.0.1", user_agent="phone")
    phone = bearer(signed_in.tokens.access)  # a login of its own: its token carries the login id
    login = Login.objects.get(user=other_listener)
    assert phone.get("/api/user/me").status_code == 200

    with another_process() as other:
        other("from accounts.models import Login, User; from accounts import services")
        wait_until_current()  # this process reads from its copies now
        other(f"services.user_deactivate(user=User.objects.get(pk='{listener.pk}'))")
        response = client.get("/api/user/me")
        assert response.status_code == 401 and response.json()["code"] == "authentication_failed"

        other(f"services.auth.login_revoke(login=Login.objects.get(pk='{login.pk}'), reason='logout')")
        response = phone.get("/api/user/me")
        assert response.status_code == 401 and response.json()["code"] == "token_revoked"


def redis_calls() -> dict[str, int]:
    from django_redis import get_redis_connection  # type: ignore[import-untyped]

    stats = get_redis_connection("default").info("commandstats")
    return {name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()}


def test_a_warm_authenticated_read_costs_no_query_and_no_redis_round_trip(
    call, listener, sign_in, unsent_until_flushed
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.support.processes import wait_until_current

    access = sign_in(listener)["accessToken"]  # a real login: its token carries a login id
    client = bearer(access)
    wait_until_current()
    assert client.get("/api/user/me").status_code == 200  # warm: the row, the payload, the copies

    round_trips = []
    for _ in range(10):
        before = redis_calls()
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/user/me").status_code == 200
        after = redis_calls()
        used = {name: after[name] - before.get(name, 0) for name in after if after[name] != before.get(name, 0)}
        used.pop("info", None)  # this test's own reading of the stats
        used.pop("ping", None)  # the pool's health checks, when due
        assert len(queries) == 0
        round_trips.append(used)
    # The user's version and the login's revocation mark: this process's current copies
    # (musicapp.platform.mirror), or one MGET in the moment a ping's answer waits unread. The
    # rate limit's counter is far from its limit: the hit waits in the process for the next
    # batch (musicapp.platform.counters.BatchedCounts).
    assert all(used in ({}, {"mget": 1}) for used in round_trips)
    assert round_trips.count({}) >= 7


def test_a_password_changed_in_this_process_ends_the_old_tokens(listener, django_capture_on_commit_callbacks):
    from tests.support.auth import auth_client

    client = auth_client(listener)
    assert client.get("/api/user/me").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        listener.set_password("an-entirely-new-Password-9")
        listener.save()

    response = client.get("/api/user/me")

    assert response.status_code == 401 and response.json()["code"] in {"password_changed", "token_revoked"}
