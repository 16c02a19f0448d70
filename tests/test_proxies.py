"""X-Forwarded-For from a client on the same host must not rotate it past the per-IP limits:
through the real servers the Procfile and `make run` start (uvicorn, granian WSGI)."""

import json
import urllib.error
import urllib.request

import pytest

from tests.support.servers import app_server

pytestmark = pytest.mark.django_db(transaction=True)


def login(base: str, n: int, forwarded_for: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/auth/login",
        data=json.dumps({"email": f"nobody{n}@example.com", "password": "wrong-wrong-1"}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("interface", ["uvicorn", "wsgi"])
def test_a_rotated_x_forwarded_for_does_not_reset_the_login_limit(static_root, interface):
    with app_server(static_root=static_root, interface=interface) as base:
        statuses = [login(base, n, f"198.51.100.{n}") for n in range(6)]
    assert statuses == [401] * 5 + [429]  # RATE_LOGIN_IP: 5 per 15 minutes, for 127.0.0.1 itself
