"""A database that stops answering costs a request seconds, with the 503 envelope, not as long
as it hangs: the real server (uvicorn, as `make run` serves it) pointed at a PostgreSQL port
that accepts connections and never says a word."""

import json
import time
import urllib.error
import urllib.request

import pytest

from tests.support.servers import app_server, silent_server

pytestmark = pytest.mark.django_db(transaction=True)


def get(url: str) -> tuple[int, dict, float]:
    start = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            status, body = response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        status, body = error.code, json.loads(error.read())
    return status, body, time.monotonic() - start


def test_a_hung_database_answers_503_within_seconds(static_root):
    with silent_server() as port:
        env = {"DATABASE_URL": f"postgres://app@127.0.0.1:{port}/music", "DB_POOL_MAX_SIZE": "2"}
        with app_server(static_root=static_root, env=env) as base:
            results = [get(f"{base}/api/song/list") for _ in range(3)]
    for status, body, elapsed in results:
        assert status == 503 and body["code"] == "dependency_down"
        assert elapsed < 8, elapsed  # connect or pool timeout (3 s), not the hang
