"""The background path that production uses (tests otherwise run it inline)."""

import time

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_forgot_password_answers_at_once_and_mails_from_the_background(settings, mailoutbox):
    settings.BACKGROUND_ASYNC = True
    user = UserFactory()
    response = APIClient().post("/api/auth/forgot-password", {"email": user.email}, format="json")
    assert response.status_code == 200
    deadline = time.monotonic() + 10
    while not mailoutbox:
        assert time.monotonic() < deadline, "the background task sent no mail"
        time.sleep(0.02)
    assert mailoutbox[0].to == [user.email]
