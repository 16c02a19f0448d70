"""musicapp.platform.queue_time: production's `web` refuses at once what waited too long behind
the proxy (the proxy's wiring is in tests/test_production_layout.py)."""

import json
import time

import pytest
from django.test import override_settings

from musicapp.platform.metrics import requests_shed
from musicapp.platform.queue_time import ShedQueuedTooLong, waited


def call(stamp: str | None, peer: str = "127.0.0.1") -> tuple[str, dict, bytes, bool]:
    ran = []

    def app(environ, start_response):
        ran.append(True)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"served"]

    started = []
    environ = {"REMOTE_ADDR": peer, "PATH_INFO": "/api/song/list", "REQUEST_METHOD": "GET"}
    if stamp is not None:
        environ["HTTP_X_REQUEST_START"] = stamp
    body = b"".join(ShedQueuedTooLong(app)(environ, lambda status, headers: started.extend([status, dict(headers)])))
    return started[0], started[1], body, bool(ran)


def shed_count() -> float:
    return requests_shed.labels("waited_too_long")._value.get()


@override_settings(TRUSTED_PROXIES=["127.0.0.1"], WEB_QUEUE_MAX_WAIT_S=1.0)
def test_a_request_the_proxy_passed_on_too_long_ago_is_refused_without_being_run():
    before = shed_count()
    status, headers, body, ran = call(f"t={time.time() - 3:.3f}")
    assert status.startswith("503") and not ran
    assert headers["Retry-After"] == "1" and headers["Content-Type"] == "application/json"
    assert int(headers["Content-Length"]) == len(body)
    assert json.loads(body) == {
        "success": False,
        "code": "overloaded",
        "message": "The server is busy. Try again in a moment.",
    }
    assert shed_count() == before + 1


@pytest.mark.parametrize(
    ("stamp", "peer"),
    [
        (0.0, "127.0.0.1"),  # passed on a moment ago
        (None, "127.0.0.1"),  # not through the proxy
        ("t=yesterday", "127.0.0.1"),  # not a time
        (3.0, "203.0.113.9"),  # written by the client itself, not by our proxy
    ],
)
@override_settings(TRUSTED_PROXIES=["127.0.0.1"], WEB_QUEUE_MAX_WAIT_S=1.0)
def test_anything_else_is_served(stamp, peer):
    if isinstance(stamp, float):  # seconds ago, as of now
        stamp = f"t={time.time() - stamp:.3f}"
    status, _, body, ran = call(stamp, peer)
    assert status == "200 OK" and body == b"served" and ran


def test_the_stamp_is_nginx_msec():
    assert waited("t=1000.250", now=1001.0) == pytest.approx(0.75)
    assert waited(" t=1000 ", now=1000.5) == pytest.approx(0.5)
    assert waited("t=", now=1.0) is None
