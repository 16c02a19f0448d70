"""Helpers for tests that sign people in."""

import re

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

STRONG_PASSWORD = "violet-Gramophone-42"


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def auth_client(user) -> APIClient:
    """A client signed in as user, with an access token made directly (no login round trip)."""
    return bearer(str(AccessToken.for_user(user)))


def last_code(mailoutbox, to: str) -> str:
    """The 6-digit code of the newest email sent to `to`."""
    message = [m for m in mailoutbox if m.to == [to]][-1]
    return re.findall(r"\b(\d{6})\b", message.body)[0]
