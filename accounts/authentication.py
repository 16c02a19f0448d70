"""How an API request proves who it is: `Authorization: Bearer <access token>` (simplejwt).

On top of simplejwt's checks (signature, expiry, the user is active, the password digest), an
expired token is told apart from a forged one (`token_expired` vs `token_invalid`), so the SPA
knows to refresh instead of signing out, and a token whose login has ended (signed out, or
revoked for a replayed refresh token) is refused at once (`token_revoked`; accounts.revocation).
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import ExpiredTokenError, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, Token
from rest_framework_simplejwt.utils import aware_utcnow, get_md5_hash_password

from accounts import revocation
from accounts.models import User
from musicapp.platform import scoped_cache


class ExpiredToken(InvalidToken):
    default_code = "token_expired"
    default_detail = _("The token has expired.")


class RevokedToken(InvalidToken):
    default_code = "token_revoked"
    default_detail = _("This sign-in has ended.")


def token_user(user_id: str, login_id: str | None = None) -> tuple[User | None, bool]:
    """The user of a token, without a query on a hot path, and whether the token's login has
    ended, without a round trip while this process's copies are current. The row is kept (in
    this process and Redis) under the user's "auth" scope, which every save of the user
    retires (accounts.apps). That scope's version and the login's revocation mark are mirrored
    values (musicapp.platform.mirror): a change announced in any process before this request
    began is seen by it, so a user deactivated, or whose password changed, or a login signed
    out, anywhere, is refused at once."""
    keys = [revocation.revoked_key(login_id)] if login_id else []
    scope = scoped_cache.user_scope(user_id, "auth")
    at_version, found = scoped_cache.version_with(scope, keys)
    revoked = any(found.get(key) is not None for key in keys)
    fields = [field.attname for field in User._meta.concrete_fields]
    row = scoped_cache.cached_for_user(
        user_id, "auth", "row", lambda: User.objects.filter(pk=user_id).values(*fields).first(), at_version=at_version
    )
    user = None if row is None else User.from_db("default", fields, [row[name] for name in fields])
    return user, revoked


def cached_user(user_id: str) -> User | None:
    return token_user(user_id)[0]


class VerifiedTokens:
    """Access tokens this process has verified (signature and claims), by their exact text, so
    the SPA's next requests with the same token skip PyJWT (12-14% of a hot authenticated read,
    docs/PROFILES.md). Expiry is checked on every use, and the login's revocation and the user's
    state are checked on every request as before; only the signature check is remembered."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.tokens: OrderedDict[bytes, AccessToken] = OrderedDict()
        self.lock = threading.Lock()

    def verified(self, raw_token: bytes) -> AccessToken:
        with self.lock:
            token = self.tokens.get(raw_token)
            if token is not None:
                self.tokens.move_to_end(raw_token)
        if token is None:
            token = AccessToken(raw_token)  # type: ignore[arg-type]  # (the stubs say Token only)
            with self.lock:
                self.tokens[raw_token] = token
                while len(self.tokens) > self.max_entries:
                    self.tokens.popitem(last=False)
        else:
            try:
                token.check_exp(current_time=aware_utcnow())  # (its own current_time is from then)
            except TokenError as exc:
                with self.lock:
                    self.tokens.pop(raw_token, None)
                raise ExpiredTokenError(str(exc)) from exc
        # Each request gets its own token (request.auth): nothing one request does to it
        # reaches another.
        own = copy.copy(token)
        own.payload = dict(token.payload)
        return own

    def clear(self) -> None:
        with self.lock:
            self.tokens.clear()


verified_tokens = VerifiedTokens(max_entries=4096)


class AccessTokenAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]
        """simplejwt's checks (the user exists and is active, the token predates no password
        change) on the cached row instead of a query."""
        try:
            user_id = str(validated_token[api_settings.USER_ID_CLAIM])
        except KeyError as exc:
            raise InvalidToken("Token contained no recognizable user identification") from exc
        login_id = validated_token.get("sid")
        user, revoked = token_user(user_id, str(login_id) if login_id else None)
        if revoked:
            raise RevokedToken()
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        return user

    def get_validated_token(self, raw_token: bytes) -> AccessToken:
        try:
            token = verified_tokens.verified(raw_token)
        except ExpiredTokenError as exc:
            raise ExpiredToken() from exc
        except TokenError as exc:
            raise InvalidToken() from exc
        return token  # (its login's revocation is checked with the user, in get_user)


class AccessTokenScheme(SimpleJWTScheme):
    """The OpenAPI security scheme (bearer JWT) for drf-spectacular."""

    target_class = "accounts.authentication.AccessTokenAuthentication"
