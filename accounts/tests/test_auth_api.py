"""Sign-up, email codes, sign-in and password reset through the API (Auth section of API.md)."""

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import EmailCode, User
from tests.factories import PASSWORD, UserFactory
from tests.support.auth import STRONG_PASSWORD, bearer, last_code

pytestmark = pytest.mark.django_db
USER_KEYS = {"id", "email", "name", "avatar", "bio", "isEmailVerified", "createdAt"}


def register(call, email="new@example.com", password=STRONG_PASSWORD, name="Nina New", client=None):
    return call(
        client or APIClient(), "post", "/api/auth/register", {"email": email, "password": password, "name": name}
    )


def verify(call, email, otp, client=None):
    return call(client or APIClient(), "post", "/api/auth/verify-otp", {"email": email, "otp": otp})


# --- register -----------------------------------------------------------------------------


def test_register_creates_an_unverified_user_and_emails_a_code(call, mailoutbox):
    response = register(call, email="New@Example.com")
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True and "code" in body["message"]
    assert set(body["user"]) == USER_KEYS
    assert body["user"]["email"] == "new@example.com"
    assert body["user"]["isEmailVerified"] is False and body["user"]["avatar"] is None
    assert len(body["user"]["id"]) == 24
    user = User.objects.get(email="new@example.com")
    assert not user.is_email_verified and user.check_password(STRONG_PASSWORD)
    (mail,) = mailoutbox
    assert mail.to == ["new@example.com"]
    code = last_code(mailoutbox, "new@example.com")
    assert code in mail.alternatives[0][0] and mail.alternatives[0][1] == "text/html"
    stored = EmailCode.objects.get(user=user)
    assert code not in stored.code_hash and len(stored.code_hash) == 64


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email", "password": STRONG_PASSWORD, "name": "X"}, "email"),
        ({"email": "a@example.com", "password": "password", "name": "X"}, "password"),
        ({"email": "a@example.com", "password": "12345678901", "name": "X"}, "password"),
        ({"email": "a@example.com", "password": "short", "name": "X"}, "password"),
        ({"email": "a@example.com", "password": STRONG_PASSWORD}, "name"),
        ({"email": "a@example.com", "password": STRONG_PASSWORD, "name": "x" * 101}, "name"),
    ],
)
def test_register_rejects_bad_input_and_creates_nothing(call, mailoutbox, payload, field):
    response = call(APIClient(), "post", "/api/auth/register", payload)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not User.objects.exists() and not mailoutbox


def test_register_with_a_taken_address_answers_alike_and_tells_the_owner(call, mailoutbox, listener):
    before = User.objects.get(pk=listener.pk).password
    response = register(call, email="LISTENER@example.com", name="Impostor")
    assert response.status_code == 201
    body = response.json()
    assert set(body["user"]) == USER_KEYS and body["user"]["isEmailVerified"] is False
    assert body["user"]["id"] != listener.pk
    assert User.objects.count() == 1 and User.objects.get(pk=listener.pk).password == before
    (mail,) = mailoutbox
    assert mail.to == [listener.email] and "already" in mail.subject
    assert verify(call, listener.email, "000000").status_code == 400


def test_registering_again_while_unverified_takes_over_and_kills_the_old_code(call, mailoutbox):
    register(call, password="first-Password-1")
    old_code = last_code(mailoutbox, "new@example.com")
    register(call, password=STRONG_PASSWORD, name="Nina Again")
    new_code = last_code(mailoutbox, "new@example.com")
    user = User.objects.get()
    assert user.name == "Nina Again" and user.check_password(STRONG_PASSWORD)
    if old_code != new_code:
        assert verify(call, "new@example.com", old_code).status_code == 400
    assert verify(call, "new@example.com", new_code).status_code == 200


# --- verify -------------------------------------------------------------------------------


def test_verify_otp_marks_verified_and_signs_in(call, mailoutbox):
    register(call)
    response = verify(call, "new@example.com", last_code(mailoutbox, "new@example.com"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"success", "user", "accessToken", "refreshToken"}
    assert body["user"]["isEmailVerified"] is True
    me = bearer(body["accessToken"]).get("/api/user/me")
    assert me.status_code == 200 and me.json()["user"]["email"] == "new@example.com"


def test_a_code_works_once(call, mailoutbox):
    register(call)
    code = last_code(mailoutbox, "new@example.com")
    assert verify(call, "new@example.com", code).status_code == 200
    assert verify(call, "new@example.com", code).status_code == 400


def test_a_code_expires_after_ten_minutes(call, mailoutbox):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        register(call)
    code = last_code(mailoutbox, "new@example.com")
    with time_machine.travel(start + timedelta(minutes=10, seconds=1), tick=False):
        response = verify(call, "new@example.com", code)
    assert response.status_code == 400
    assert response.json()["errors"] == {"otp": ["The code is invalid or has expired. Ask for a new one."]}
    assert not User.objects.get().is_email_verified


def test_a_code_still_works_just_before_it_expires(call, mailoutbox):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        register(call)
    with time_machine.travel(start + timedelta(minutes=9, seconds=59), tick=False):
        assert verify(call, "new@example.com", last_code(mailoutbox, "new@example.com")).status_code == 200


def test_a_code_dies_after_five_wrong_tries(call, mailoutbox):
    register(call)
    code = last_code(mailoutbox, "new@example.com")
    wrong = "111111" if code != "111111" else "222222"
    for _ in range(5):
        assert verify(call, "new@example.com", wrong).status_code == 400
    assert EmailCode.objects.get().attempts == 5
    assert verify(call, "new@example.com", code).status_code == 400
    assert not User.objects.get().is_email_verified


def test_verify_rejects_a_malformed_code(call):
    response = verify(call, "new@example.com", "12ab")
    assert response.status_code == 400 and response.json()["errors"] == {"otp": ["Enter the 6-digit code."]}


# --- resend -------------------------------------------------------------------------------


def test_resend_has_a_cooldown_and_a_new_code_kills_the_old_one(call, mailoutbox):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        register(call)
        first = last_code(mailoutbox, "new@example.com")
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        response = call(APIClient(), "post", "/api/auth/resend-otp", {"email": "new@example.com"})
        assert response.status_code == 200 and len(mailoutbox) == 1  # within the cooldown: nothing sent
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        call(APIClient(), "post", "/api/auth/resend-otp", {"email": "new@example.com"})
        assert len(mailoutbox) == 2
        second = last_code(mailoutbox, "new@example.com")
        assert EmailCode.objects.count() == 1
        if first != second:
            assert verify(call, "new@example.com", first).status_code == 400
        assert verify(call, "new@example.com", second).status_code == 200


@pytest.mark.parametrize("path", ["/api/auth/resend-otp", "/api/auth/forgot-password"])
def test_unknown_and_known_addresses_get_the_same_answer(call, mailoutbox, path):
    UserFactory(email="pending@example.com", is_email_verified=False)
    known = call(APIClient(), "post", path, {"email": "pending@example.com"})
    unknown = call(APIClient(), "post", path, {"email": "nobody@example.com"})
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert [m.to for m in mailoutbox] == [["pending@example.com"]]


# --- login --------------------------------------------------------------------------------


def test_login_returns_user_and_tokens(call, listener):
    response = call(APIClient(), "post", "/api/auth/login", {"email": "Listener@Example.com", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["id"] == listener.pk
    assert bearer(body["accessToken"]).get("/api/user/me").status_code == 200


def test_login_of_an_unverified_user_is_403_saying_what_to_do(call):
    UserFactory(email="pending@example.com", is_email_verified=False)
    response = call(APIClient(), "post", "/api/auth/login", {"email": "pending@example.com", "password": PASSWORD})
    assert response.status_code == 403
    assert "code we emailed" in response.json()["message"]


def test_wrong_password_and_unknown_email_answer_the_same(call, listener):
    wrong = call(APIClient(), "post", "/api/auth/login", {"email": listener.email, "password": "nope-nope-nope"})
    unknown = call(APIClient(), "post", "/api/auth/login", {"email": "ghost@example.com", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {"success": False, "code": "bad_credentials", "message": "Invalid email or password."}
    )


def test_deactivated_user_cannot_log_in(call, listener):
    User.objects.filter(pk=listener.pk).update(is_active=False)
    response = call(APIClient(), "post", "/api/auth/login", {"email": listener.email, "password": PASSWORD})
    assert response.status_code == 401


def test_login_stores_argon2id_with_owasp_parameters(listener):
    listener.set_password(STRONG_PASSWORD)
    assert listener.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_bcrypt_hash_from_the_express_app_logs_in_and_is_upgraded(call):
    import bcrypt

    legacy = bcrypt.hashpw(b"old-express-Password", bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2a$", 1)
    user = UserFactory(email="legacy@example.com", password=f"bcrypt${legacy}")
    response = call(
        APIClient(), "post", "/api/auth/login", {"email": "legacy@example.com", "password": "old-express-Password"}
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert bearer(response.json()["accessToken"]).get("/api/user/me").status_code == 200


# --- rate limits --------------------------------------------------------------------------


def test_login_allows_five_attempts_per_email_then_429(call, listener):
    for _ in range(5):
        call(
            APIClient(),
            "post",
            "/api/auth/login",
            {"email": listener.email, "password": "wrong-wrong"},
            REMOTE_ADDR=f"10.0.0.{_}",
        )
    response = call(
        APIClient(), "post", "/api/auth/login", {"email": listener.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.99"
    )
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 15 * 60 + 5
    assert response.json()["success"] is False


def test_login_allows_five_attempts_per_ip_then_429(call):
    for n in range(5):
        call(APIClient(), "post", "/api/auth/login", {"email": f"u{n}@example.com", "password": "x-x-x-x"})
    response = call(APIClient(), "post", "/api/auth/login", {"email": "u9@example.com", "password": "x-x-x-x"})
    assert response.status_code == 429
    other_ip = call(
        APIClient(),
        "post",
        "/api/auth/login",
        {"email": "u9@example.com", "password": "x-x-x-x"},
        REMOTE_ADDR="192.0.2.50",
    )
    assert other_ip.status_code == 401


@override_settings(TRUSTED_PROXIES=["127.0.0.1"])
def test_login_limit_uses_the_client_behind_the_trusted_proxy(call):
    for n in range(5):
        call(
            APIClient(),
            "post",
            "/api/auth/login",
            {"email": f"u{n}@example.com", "password": "x-x-x-x"},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.9",
        )
    spoofing = call(
        APIClient(),
        "post",
        "/api/auth/login",
        {"email": "u9@example.com", "password": "x-x-x-x"},
        HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9",
    )
    assert spoofing.status_code == 429


@override_settings(RATELIMIT_ENABLE=False)
def test_rate_limits_can_be_switched_off(call, listener):
    statuses = {
        call(APIClient(), "post", "/api/auth/login", {"email": listener.email, "password": "bad-bad"}).status_code
        for _ in range(8)
    }
    assert statuses == {401}


def test_forgot_password_is_limited_per_email_from_settings(call, settings):
    settings.AUTH_RATES = {**settings.AUTH_RATES, "forgot_email": "2/h"}
    for n in range(2):
        call(APIClient(), "post", "/api/auth/forgot-password", {"email": "x@example.com"}, REMOTE_ADDR=f"10.1.0.{n}")
    response = call(
        APIClient(), "post", "/api/auth/forgot-password", {"email": "x@example.com"}, REMOTE_ADDR="10.1.0.9"
    )
    assert response.status_code == 429


FLOWS = {
    "register": ("/api/auth/register", {"password": STRONG_PASSWORD, "name": "R"}),
    "verify": ("/api/auth/verify-otp", {"otp": "123456"}),
    "resend": ("/api/auth/resend-otp", {}),
    "forgot": ("/api/auth/forgot-password", {}),
    "reset": ("/api/auth/reset-password", {"otp": "123456", "password": STRONG_PASSWORD}),
}


@pytest.mark.parametrize("flow", FLOWS)
def test_every_public_auth_flow_is_limited_per_ip(call, settings, flow):
    settings.AUTH_RATES = {**settings.AUTH_RATES, f"{flow}_ip": "3/h"}
    path, payload = FLOWS[flow]
    statuses = [
        call(APIClient(), "post", path, {**payload, "email": f"r{n}@example.com"}).status_code for n in range(4)
    ]
    assert 429 not in statuses[:3] and statuses[3] == 429


@pytest.mark.parametrize("flow", FLOWS)
def test_every_public_auth_flow_is_limited_per_email(call, settings, flow):
    settings.AUTH_RATES = {**settings.AUTH_RATES, f"{flow}_email": "2/h"}
    path, payload = FLOWS[flow]
    statuses = [
        call(APIClient(), "post", path, {**payload, "email": "Same@example.com"}, REMOTE_ADDR=f"10.2.0.{n}").status_code
        for n in range(3)
    ]
    assert 429 not in statuses[:2] and statuses[2] == 429
