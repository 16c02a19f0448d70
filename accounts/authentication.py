"""How an API request proves who it is: `Authorization: Bearer <access token>` (simplejwt).

On top of simplejwt's checks (signature, expiry, the user is active, the password digest), an
expired token is told apart from a forged one (`token_expired` vs `token_invalid`), so the SPA
knows to refresh instead of signing out, and a token whose login has ended (signed out, or
revoked for a replayed refresh token) is refused at once (`token_revoked`; accounts.revocation).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import ExpiredTokenError, InvalidToken, TokenError
from rest_framework_simplejwt.tokens import AccessToken

from accounts import revocation


class ExpiredToken(InvalidToken):
    default_code = "token_expired"
    default_detail = _("The token has expired.")


class RevokedToken(InvalidToken):
    default_code = "token_revoked"
    default_detail = _("This sign-in has ended.")


class AccessTokenAuthentication(JWTAuthentication):
    def get_validated_token(self, raw_token: bytes) -> AccessToken:
        try:
            token = AccessToken(raw_token)  # type: ignore[arg-type]  # (the stubs say Token only)
        except ExpiredTokenError as exc:
            raise ExpiredToken() from exc
        except TokenError as exc:
            raise InvalidToken() from exc
        if "sid" in token and revocation.is_revoked(str(token["sid"])):
            raise RevokedToken()
        return token


class AccessTokenScheme(SimpleJWTScheme):
    """The OpenAPI security scheme (bearer JWT) for drf-spectacular."""

    target_class = "accounts.authentication.AccessTokenAuthentication"
