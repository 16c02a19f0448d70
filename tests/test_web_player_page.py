"""The web player's page at / and the DEBUG-only outbox its sign-up page reads (the browser
tests in tests/browser/test_web_player.py drive the page itself)."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from musicapp.adapters.mail import send_templated

pytestmark = pytest.mark.django_db


def test_the_page_names_its_hashed_static_files_and_says_where_local_mail_goes(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    response = client.get("/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert '<script type="module" src="/static/player/app.' in page  # a hashed name: cached for a year
    assert "printed in the terminal that runs `make run`" in page
    assert response["Cache-Control"] == "no-cache"


def mail_a_code(to: str) -> None:
    send_templated(
        to=to,
        subject="Your code",
        template="accounts/email/code",
        context={"name": "Nia", "intro": "Your sign-up code:", "code": "493817", "ttl_minutes": 10},
    )


def test_with_debug_on_the_newest_mail_to_an_address_shows_its_code(settings):
    settings.DEBUG = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail_a_code("nia@example.com")
    response = APIClient().get("/api/dev/outbox", {"email": "NIA@example.com"})
    assert response.status_code == 200 and response.json()["mail"]["code"] == "493817"
    assert APIClient().get("/api/dev/outbox", {"email": "someone@example.com"}).status_code == 404
    # Never to another machine.
    far = APIClient(REMOTE_ADDR="203.0.113.7").get("/api/dev/outbox", {"email": "nia@example.com"})
    assert far.status_code == 404


def test_with_debug_off_nothing_is_kept_and_the_outbox_answers_404(settings):
    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    mail_a_code("nia@example.com")
    response = APIClient().get("/api/dev/outbox", {"email": "nia@example.com"})
    assert response.status_code == 404 and response.json()["success"] is False
    assert cache.get("mail:dev-outbox:nia@example.com") is None
