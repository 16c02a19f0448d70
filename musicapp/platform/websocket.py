"""WebSocket plumbing every consumer shares.

Authentication: the access token comes in the query string (?token=), since browsers cannot
set headers on a WebSocket. JWTQueryStringMiddleware sets scope["user"] (AnonymousUser if
absent or invalid) and scope["token_error"] when a token was given but refused.

Origin: origin_allowed() says whether the browser's Origin may open a socket here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import validate_host
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.settings import api_settings
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError


@database_sync_to_async
def _user_for(raw_token: str) -> Any:
    auth: Any = api_settings.DEFAULT_AUTHENTICATION_CLASSES[0]()  # type: ignore[operator]  # the API's own
    try:
        return auth.get_user(auth.get_validated_token(raw_token.encode()))
    except (InvalidToken, TokenError, AuthenticationFailed):
        return None


class JWTQueryStringMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        token = parse_qs(scope.get("query_string", b"").decode()).get("token", [""])[0]
        user = await _user_for(token) if token else None
        scope = {**scope, "user": user or AnonymousUser(), "token_error": bool(token) and user is None}
        return await self.app(scope, receive, send)


def origin_allowed(scope: dict) -> bool:
    """The browser's Origin must be one of ALLOWED_HOSTS or CORS_ALLOWED_ORIGINS. Clients that
    send no Origin (native apps, tests) are allowed: only browsers carry ambient credentials."""
    origin = dict(scope.get("headers", [])).get(b"origin", b"").decode()
    if not origin:
        return True
    if origin in settings.CORS_ALLOWED_ORIGINS:
        return True
    host = urlsplit(origin).hostname or ""
    return validate_host(host, settings.ALLOWED_HOSTS)
