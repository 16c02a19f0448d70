"""Sign-up, email codes, sign-in, token rotation, sign-out, password reset.

No answer here tells a caller whether an email has an account: unknown emails get the same
result as known ones wherever the caller has not proved they own the address.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import revocation
from accounts.errors import BadCredentials, CodeInvalid, EmailNotVerified, SignupsClosed, TokenReused
from accounts.models import EmailCode, Login, User
from accounts.tokens import INVALID_REFRESH, TokenPair, issue_pair, matches_password, read_refresh
from musicapp.adapters.mail import send_templated
from musicapp.platform import switches
from musicapp.platform.errors import InvalidInput, NotAllowed, TokenRevoked, Unauthorized
from musicapp.platform.jobs import enqueue

CODE_INTROS = {
    EmailCode.Purpose.VERIFY: ("Your verification code", "Here is the code to verify your email address:"),
    EmailCode.Purpose.RESET: ("Your password reset code", "Here is the code to reset your password:"),
}


@dataclass(frozen=True)
class SignedIn:
    user: User
    tokens: TokenPair


def normalize_email(email: str) -> str:
    return User.objects.normalize_email(email)


def _code_hash(code_id: str, purpose: str, code: str) -> str:
    message = f"{code_id}:{purpose}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _check_password_rules(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput(f"password: {exc.messages[0]}", errors={"password": exc.messages}) from exc


# --- codes ------------------------------------------------------------------------------


def email_code_issue(*, user: User, purpose: str, ignore_cooldown: bool = False) -> bool:
    """Make a new 6-digit code, killing the previous one, and email it now; False (and nothing
    sent) inside the resend cooldown. Runs in a job (email_code_request): the code exists in
    plain only in the mail, never in a queued job's arguments. Call inside a transaction, so a
    mail that fails to go leaves no code behind and the job's retry sends a new one."""
    now = timezone.now()
    codes = EmailCode.objects.for_purpose(user, purpose)
    last = codes.order_by("-created_at").first()
    if last and not ignore_cooldown and now - last.created_at < timedelta(seconds=settings.OTP_RESEND_COOLDOWN_S):
        return False
    codes.delete()
    code = f"{secrets.randbelow(1_000_000):06d}"
    record = EmailCode(user=user, purpose=purpose, expires_at=now + timedelta(minutes=settings.OTP_TTL_MINUTES))
    record.code_hash = _code_hash(record.pk, purpose, code)
    record.save()
    subject, intro = CODE_INTROS[EmailCode.Purpose(purpose)]
    send_templated(
        to=user.email,
        subject=subject,
        template="accounts/email/code",
        context={"name": user.name, "code": code, "intro": intro, "ttl_minutes": settings.OTP_TTL_MINUTES},
    )
    return True


def email_code_request(*, user: User, purpose: str, ignore_cooldown: bool = False) -> None:
    """Queue the job that makes and emails a code (in the caller's transaction)."""
    enqueue("accounts.send_email_code", user_id=user.pk, purpose=purpose, ignore_cooldown=ignore_cooldown)


def email_code_send(*, user_id: str, purpose: str, ignore_cooldown: bool = False) -> bool:
    """The job: email the user a code, if the account still wants one when the job runs."""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        if user is None or (purpose == EmailCode.Purpose.VERIFY and user.is_email_verified):
            return False
        return email_code_issue(user=user, purpose=purpose, ignore_cooldown=ignore_cooldown)


def _email_code_use(*, user: User | None, purpose: str, code: str) -> bool:
    """Consume the user's current code if `code` matches it; holds a row lock on the code.

    False for a wrong guess, which counts against the code (OTP_MAX_ATTEMPTS, then it is
    dead): callers raise only after their transaction has committed that count.
    """
    record = None
    if user is not None:
        record = EmailCode.objects.select_for_update().for_purpose(user, purpose).usable().first()
    if record is None:
        raise _wrong_code()
    if not hmac.compare_digest(record.code_hash, _code_hash(record.pk, purpose, code)):
        record.attempts += 1
        record.save(update_fields=["attempts", "updated_at"])
        return False
    record.used_at = timezone.now()
    record.save(update_fields=["used_at", "updated_at"])
    return True


def _wrong_code() -> CodeInvalid:
    return CodeInvalid(errors={"otp": [CodeInvalid.message]})


def email_code_resend_request(*, email: str) -> None:
    """Queue the resend. The lookup happens in the job: a known address and an unknown one
    cost the request the same (one queued row), so its timing cannot tell them apart."""
    enqueue("accounts.resend_verification", email=normalize_email(email))


def email_code_resend(*, email: str) -> None:
    """The job: a new verification code for an unverified account; silently nothing otherwise."""
    user = User.objects.filter(email=normalize_email(email), is_active=True, is_email_verified=False).first()
    if user is not None:
        email_code_send(user_id=user.pk, purpose=EmailCode.Purpose.VERIFY)


# --- sign-up and sign-in ------------------------------------------------------------------


def user_register(*, email: str, password: str, name: str) -> User:
    """Create an unverified account and email it a code. Returns the account to show.

    An address that already has a verified account gets an email saying so, and the caller
    gets the same kind of answer as for a new one (an unsaved account), so sign-up cannot be
    used to learn who has an account. An unverified account is taken over by the newest
    sign-up: its name and password are replaced and the old code dies, so whoever registers
    an address they do not own cannot keep a password on it for its real owner to verify.
    Refused for everyone alike while the operators have closed sign-ups.
    """
    if not switches.current().signups_open:
        raise SignupsClosed()
    email = normalize_email(email)
    candidate = User(email=email, name=name)
    _check_password_rules(password, candidate)
    candidate.set_password(password)  # hashed in every branch, so every branch takes as long
    with transaction.atomic():
        existing = User.objects.select_for_update().filter(email=email).first()
        if existing is None:
            try:
                with transaction.atomic():
                    candidate.save()
            except IntegrityError:  # a concurrent sign-up with the same address won the race
                existing = User.objects.select_for_update().get(email=email)
            else:
                email_code_request(user=candidate, purpose=EmailCode.Purpose.VERIFY)
                return candidate
        if existing.is_email_verified or not existing.is_active:
            enqueue(
                "mail.send_templated",
                to=email,
                subject="You already have an account",
                template="accounts/email/already_registered",
                context={"name": existing.name},
            )
            return User(email=email, name=name)
        existing.name, existing.password = name, candidate.password
        existing.save(update_fields=["name", "password", "updated_at"])
        # The previous registrant's code dies now, not when the job runs.
        EmailCode.objects.for_purpose(existing, EmailCode.Purpose.VERIFY).delete()
        email_code_request(user=existing, purpose=EmailCode.Purpose.VERIFY, ignore_cooldown=True)
        return existing


def login_start(*, user: User, ip: str | None, user_agent: str) -> SignedIn:
    """Open a Login (one device) and issue its first token pair."""
    login = Login(user=user, refresh_jti="", ip=ip, user_agent=user_agent[:300])
    tokens = issue_pair(user, login)
    login.refresh_jti = tokens.jti
    login.save()
    return SignedIn(user=user, tokens=tokens)


def email_verify(*, email: str, code: str, ip: str | None, user_agent: str) -> SignedIn:
    """Mark the address verified with the emailed code, and sign the user in."""
    user = User.objects.filter(email=normalize_email(email), is_active=True, is_email_verified=False).first()
    if user is None:
        raise _wrong_code()
    with transaction.atomic():
        if _email_code_use(user=user, purpose=EmailCode.Purpose.VERIFY, code=code):
            user.is_email_verified = True
            user.save(update_fields=["is_email_verified", "updated_at"])
            return login_start(user=user, ip=ip, user_agent=user_agent)
    raise _wrong_code()


def user_login(*, email: str, password: str, ip: str | None, user_agent: str) -> SignedIn:
    # authenticate() hashes the password even for an unknown email (timing), and refuses
    # inactive users; a correct password hashed with old parameters (or bcrypt) is upgraded.
    user = authenticate(email=normalize_email(email), password=password)
    if user is None:
        raise BadCredentials()
    if not user.is_email_verified:
        raise EmailNotVerified()
    with transaction.atomic():
        return login_start(user=user, ip=ip, user_agent=user_agent)


# --- tokens -------------------------------------------------------------------------------


def login_revoke(*, login: Login, reason: str) -> None:
    """End one login: its refresh token stops at once, and (after commit) its access tokens and
    open sockets too."""
    if login.revoked_at is None:
        login.revoked_at, login.revoked_reason = timezone.now(), reason
        login.save(update_fields=["revoked_at", "revoked_reason", "updated_at"])
        revocation.mark_revoked_on_commit([login.pk])


def logins_revoke_all(*, user: User, reason: str) -> int:
    with transaction.atomic():
        active = Login.objects.active().filter(user=user)
        ids = list(active.values_list("pk", flat=True))
        active.filter(pk__in=ids).update(revoked_at=timezone.now(), revoked_reason=reason)
        revocation.mark_revoked_on_commit(ids)
    return len(ids)


def tokens_refresh(*, refresh_token: str) -> TokenPair:
    """Rotate: the presented token is spent and a new pair issued. Holds a row lock on the Login.

    A token that is no longer the newest of its login was copied (or replayed): the whole
    login is revoked, and whoever holds any of its tokens must sign in again.
    """
    token = read_refresh(refresh_token)
    with transaction.atomic():
        login = (
            Login.objects.select_for_update()
            .select_related("user")
            .filter(pk=token["sid"], user_id=token.get("user_id"))
            .first()
        )
        if login is None or login.revoked_at is not None:
            raise TokenRevoked(INVALID_REFRESH)
        user = login.user
        if login.refresh_jti != token["jti"]:
            login_revoke(login=login, reason="reuse")
            fail: Unauthorized = TokenReused(INVALID_REFRESH)
        elif not user.is_active or not matches_password(token, user):
            login_revoke(login=login, reason="credentials_changed")
            fail = TokenRevoked(INVALID_REFRESH)
        else:
            tokens = issue_pair(user, login)
            login.refresh_jti, login.last_refreshed_at = tokens.jti, timezone.now()
            login.save(update_fields=["refresh_jti", "last_refreshed_at", "updated_at"])
            return tokens
    raise fail  # after the block, so the revocation commits


def user_logout(*, user: User, refresh_token: str) -> None:
    """Revoke the login of that refresh token. A token that no longer works needs nothing."""
    try:
        token = read_refresh(refresh_token)
    except Unauthorized:
        return
    if token.get("user_id") != user.pk:
        raise NotAllowed("That refresh token belongs to another account.")
    with transaction.atomic():
        login = Login.objects.select_for_update().filter(pk=token["sid"], user=user).first()
        if login is not None:
            login_revoke(login=login, reason="logout")


# --- password reset -----------------------------------------------------------------------


def password_forgot_request(*, email: str) -> None:
    """Queue the reset mail; the lookup happens in the job (timing, as in email_code_resend_request)."""
    enqueue("accounts.send_password_reset", email=normalize_email(email))


def password_forgot(*, email: str) -> None:
    """The job: email a reset code if the address has an active account; silently nothing otherwise."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is not None:
        email_code_send(user_id=user.pk, purpose=EmailCode.Purpose.RESET)


def password_reset(*, email: str, code: str, password: str) -> None:
    """Set a new password with the emailed code; every login of the user is revoked."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    _check_password_rules(password, user or User(email=normalize_email(email)))
    if user is None:
        raise _wrong_code()
    with transaction.atomic():
        if _email_code_use(user=user, purpose=EmailCode.Purpose.RESET, code=code):
            user.set_password(password)
            user.is_email_verified = True  # the code proved they read this mailbox
            user.save(update_fields=["password", "is_email_verified", "updated_at"])
            logins_revoke_all(user=user, reason="password_reset")
            return
    raise _wrong_code()
