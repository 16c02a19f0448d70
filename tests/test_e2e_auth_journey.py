"""The whole account journey over real HTTP (pytest-django's live server, real PostgreSQL and
Redis), with mail sent by a real job worker process through Django's file backend, and the codes
read back from the files: what `make run` does with its worker."""

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.auth import STRONG_PASSWORD
from tests.support.servers import job_worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mail_dir(tmp_path) -> Iterator[Path]:
    env = {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": str(tmp_path)}
    with job_worker(env):
        yield tmp_path


def http(base: str, method: str, path: str, body: dict | None = None, token: str | None = None):
    request = urllib.request.Request(
        f"{base}{path}",
        method=method,
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def newest_code(mail_dir: Path, sent_before: int) -> str:
    deadline = time.monotonic() + 20
    while True:
        files = sorted(mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime) if mail_dir.exists() else []
        # The file backend creates the file, then writes the mail: a file without its code yet
        # is one still being written.
        if len(files) > sent_before and (codes := re.findall(r"\b(\d{6})\b", files[-1].read_text())):
            return codes[0]
        assert time.monotonic() < deadline, "no mail arrived"
        time.sleep(0.05)


def test_register_verify_login_refresh_logout_forgot_reset(live_server, mail_dir):
    base, email = live_server.url, "journey@example.com"
    status, body = http(
        base, "POST", "/api/auth/register", {"email": email, "password": STRONG_PASSWORD, "name": "Jo Journey"}
    )
    assert status == 201 and body["user"]["isEmailVerified"] is False
    assert http(base, "POST", "/api/auth/login", {"email": email, "password": STRONG_PASSWORD})[0] == 403

    status, body = http(base, "POST", "/api/auth/verify-otp", {"email": email, "otp": newest_code(mail_dir, 0)})
    assert status == 200 and body["user"]["isEmailVerified"] is True

    status, body = http(base, "POST", "/api/auth/login", {"email": email, "password": STRONG_PASSWORD})
    assert status == 200
    access, refresh = body["accessToken"], body["refreshToken"]
    assert http(base, "GET", "/api/user/me", token=access)[1]["user"]["email"] == email

    status, rotated = http(base, "POST", "/api/auth/refresh", {"refreshToken": refresh})
    assert status == 200 and rotated["refreshToken"] != refresh
    status, _ = http(
        base, "POST", "/api/auth/logout", {"refreshToken": rotated["refreshToken"]}, token=rotated["accessToken"]
    )
    assert status == 200
    assert http(base, "POST", "/api/auth/refresh", {"refreshToken": rotated["refreshToken"]})[0] == 401

    assert http(base, "POST", "/api/auth/forgot-password", {"email": email})[0] == 200
    code = newest_code(mail_dir, 1)
    status, _ = http(
        base, "POST", "/api/auth/reset-password", {"email": email, "otp": code, "password": "new-Turntable-77"}
    )
    assert status == 200
    assert http(base, "POST", "/api/auth/login", {"email": email, "password": STRONG_PASSWORD})[0] == 401
    assert http(base, "POST", "/api/auth/login", {"email": email, "password": "new-Turntable-77"})[0] == 200
