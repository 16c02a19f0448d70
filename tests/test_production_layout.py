"""The production layout that deploy/ ships, on loopback ports: Debian's nginx
(deploy/nginx.conf.template) in front of two `web` processes (granian WSGI) and two `ws`
processes (uvicorn), every one of them on PostgreSQL through Debian's PgBouncer in transaction
mode (deploy/pgbouncer.ini.template, DATABASE_URL ...?pgbouncer=transaction).

Debian's binaries are unpacked under .devdata/debian by `make proxy-tools` (run by `make test`);
where that could not be done, these tests are skipped, saying why.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from websockets.sync.client import connect

from library.cache import catalog_changed
from musicapp.dev.layout import NGINX, PGBOUNCER, nginx, render, start_logged, wait_for_port
from tests.factories import SongFactory, UserFactory
from tests.support.servers import app_server, free_port, silent_server, stop
from tests.support.ws import Socket, token

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (NGINX.exists() and PGBOUNCER.exists()),
        reason="Debian's nginx and pgbouncer are not under .devdata/debian (`make proxy-tools` fetches them)",
    ),
]


@contextlib.contextmanager
def pgbouncer():
    """PgBouncer in transaction mode in front of the test database; yields its port. PgBouncer
    refuses to run as root: as root it runs as the owner of PostgreSQL's socket folder."""
    db = connection.settings_dict
    host = db["HOST"] or "127.0.0.1"
    user = "nobody"
    if os.getuid() == 0 and host.startswith("/"):
        user = pwd.getpwuid(os.stat(host).st_uid).pw_name
    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder)
        run.chmod(0o777)
        (run / "userlist.txt").write_text(f'"{db["USER"]}" "{db["PASSWORD"] or ""}"\n')
        (run / "userlist.txt").chmod(0o644)
        port = free_port()
        ini = render(
            "pgbouncer.ini.template",
            run / "pgbouncer.ini",
            PG_HOST=host,
            PG_PORT=db["PORT"] or 5432,
            LISTEN_ADDR="127.0.0.1",
            LISTEN_PORT=port,
            RUN_DIR=run,
            AUTH_TYPE="trust",
            ADMIN_USERS=db["USER"],
        )
        command = [str(PGBOUNCER), *(["-u", user] if os.getuid() == 0 else []), str(ini)]
        proc = start_logged(command, run / "pgbouncer.log")
        try:
            wait_for_port(port, proc, "pgbouncer", run / "pgbouncer.log")
            yield port
        finally:
            stop(proc)


def call(base: str, method: str, path: str, user, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token(user)}", "Content-Type": "application/json"},
        method=method.upper(),
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def listener(base: str, playlist_id: str, user) -> Socket:
    url = f"{base.replace('http', 'ws', 1)}/ws/playlist/{playlist_id}/?token={token(user)}"
    return Socket(connect(url, open_timeout=10))


def bouncer_transactions(port: int) -> int:
    """Transactions PgBouncer passed to the test database (its admin console, simple protocol)."""
    db = connection.settings_dict
    with psycopg.connect(
        host="127.0.0.1",
        port=port,
        dbname="pgbouncer",
        user=db["USER"],
        autocommit=True,
        cursor_factory=psycopg.ClientCursor,
    ) as console:
        cursor = console.cursor()
        cursor.execute("SHOW STATS")
        columns = [column.name for column in cursor.description or ()]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return sum(int(row["total_xact_count"]) for row in rows if row["database"] == db["NAME"])


@contextlib.contextmanager
def production_layout(static_root, procs: list, env: dict | None = None, catalog_rate="67r/m", catalog_burst=1000):
    """Yields nginx's base URL, PgBouncer's port and the two `web` processes' URLs."""
    with pgbouncer() as bouncer_port:
        db = connection.settings_dict
        env = {
            **(env or {}),
            "DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{bouncer_port}/{db['NAME']}?pgbouncer=transaction",
            "TRUSTED_PROXIES": "127.0.0.1",
        }
        with contextlib.ExitStack() as stack:
            web = [
                stack.enter_context(app_server(static_root=static_root, interface="wsgi", env=env)) for _ in range(2)
            ]
            ws = [stack.enter_context(app_server(static_root=static_root, env=env, procs=procs)) for _ in range(2)]
            base = stack.enter_context(
                nginx(
                    web,
                    ws,
                    media_root=settings.MEDIA_ROOT,
                    static_root=static_root,
                    catalog_rate=catalog_rate,
                    catalog_burst=catalog_burst,
                )
            )
            yield base, bouncer_port, web


def test_rest_and_live_updates_through_nginx_on_two_web_and_two_ws_processes_over_pgbouncer(static_root):
    owner, fan = UserFactory(), UserFactory()
    songs = SongFactory.create_batch(3)
    ws_procs: list[subprocess.Popen] = []
    with production_layout(static_root, ws_procs) as (base, bouncer_port, _web):
        status, created = call(base, "post", "/api/playlist", owner, {"name": "Through nginx", "isPublic": True})
        assert status == 201, created
        playlist_id = created["playlist"]["id"]
        # Many reads: both web processes answer (round robin), every query through PgBouncer.
        for _ in range(20):
            assert call(base, "get", f"/api/playlist/{playlist_id}", fan)[0] == 200
        assert bouncer_transactions(bouncer_port) > 20

        # Two listeners: nginx sends them to the two ws processes; an edit reaches both.
        with listener(base, playlist_id, fan) as first, listener(base, playlist_id, owner) as second:
            status, _ = call(base, "post", f"/api/playlist/{playlist_id}/songs", owner, {"songId": songs[0].pk})
            assert status == 200
            for socket in (first, second):
                update = socket.expect("playlist:update")
                assert update["playlist"]["songIds"] == [songs[0].pk]

        # One ws process is killed outright: new sockets land on the other, and hear edits.
        os.kill(ws_procs[0].pid, signal.SIGKILL)
        ws_procs[0].wait(10)
        listeners = [listener(base, playlist_id, fan) for _ in range(3)]
        try:
            status, _ = call(base, "post", f"/api/playlist/{playlist_id}/songs", owner, {"songId": songs[1].pk})
            assert status == 200
            for socket in listeners:
                update = socket.expect("playlist:update")
                assert update["playlist"]["songIds"] == [songs[0].pk, songs[1].pk]
        finally:
            for socket in listeners:
                socket.close()


def fetch(url: str, headers: dict | None = None, method: str = "GET") -> tuple[int, Message, bytes]:
    """Status, headers (case-insensitive) and body."""
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def app_media_answers(web: list[str]) -> float:
    """Media requests the `web` processes answered themselves (their own /metrics)."""
    total = 0.0
    for base in web:
        status, _, text = fetch(f"{base}/metrics", {"Authorization": "Bearer metrics-secret"})
        assert status == 200
        for line in text.decode().splitlines():
            if line.startswith("django_http_responses_total_by_status_view_method_total{") and 'view="media"' in line:
                total += float(line.rsplit(" ", 1)[1])
    return total


def test_nginx_serves_media_and_keeps_catalog_pages_for_a_second_within_a_rate_limit(static_root, settings):
    song = SongFactory(name="Before the edit")
    SongFactory.create_batch(10)  # a song list long enough to be sent gzipped
    audio = Path(settings.MEDIA_ROOT) / "audio" / f"layout-{time.time_ns()}.mp3"
    audio.parent.mkdir(parents=True, exist_ok=True)
    audio.write_bytes(bytes(range(256)) * 64)
    media_path = f"/media/audio/{audio.name}"
    env = {"METRICS_TOKEN": "metrics-secret"}
    with production_layout(static_root, [], env=env) as (base, _bouncer_port, web):
        try:
            # Media: a byte range straight from the disk, cached for a year; the app never sees it.
            before = app_media_answers(web)
            status, headers, body = fetch(f"{base}{media_path}", {"Range": "bytes=10-19"})
            assert status == 206
            assert body == audio.read_bytes()[10:20]
            assert headers["Content-Range"] == f"bytes 10-19/{audio.stat().st_size}"
            assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert headers["Content-Type"] == "audio/mpeg"
            assert app_media_answers(web) == before
            # What nginx does not serve (a missing file, a POST) is the app's, in its envelope.
            status, _, body = fetch(f"{base}/media/audio/missing.mp3")
            assert (status, json.loads(body)["code"]) == (404, "not_found")
            through_nginx = fetch(f"{base}{media_path}", method="POST")
            direct = fetch(f"{web[0]}{media_path}", method="POST")
            assert (through_nginx[0], json.loads(through_nginx[2])) == (direct[0], json.loads(direct[2]))

            # Static files, hashed names cached for a year.
            hashed = next(p for p in Path(static_root).rglob("*.css") if len(p.name.split(".")) == 3)
            status, headers, _ = fetch(f"{base}/static/{hashed.relative_to(static_root)}")
            assert (status, headers["Cache-Control"]) == (200, "public, max-age=31536000, immutable")
            assert headers["Content-Type"] == "text/css"

            # Catalog pages: the app answers once, nginx repeats it; ETags hold; gzip and plain
            # copies are kept apart.
            url = f"{base}/api/song/{song.pk}"
            asked = time.monotonic()
            first = fetch(url)
            second = fetch(url)
            assert (first[0], first[1]["X-Cache"]) == (200, "MISS")
            if time.monotonic() - asked < 0.9:  # (a slow moment of the machine may outlast the copy)
                assert second[1]["X-Cache"] == "HIT"
            assert json.loads(second[2])["song"]["name"] == "Before the edit"
            status, headers, _ = fetch(url, {"If-None-Match": second[1]["ETag"]})
            assert status == 304
            page = f"{base}/api/song/list?limit=20"
            status, headers, body = fetch(page, {"Accept-Encoding": "gzip"})
            assert (status, headers["Content-Encoding"]) == (200, "gzip")
            status, headers, body = fetch(page)
            assert (status, headers.get("Content-Encoding"), headers["X-Cache"]) == (200, None, "MISS")
            assert len(json.loads(body)["songs"]) == 11

            # A staff edit shows through nginx within 1.5 s (1 s here + the app's 0.5 s).
            song.name = "After the edit"
            song.save()
            catalog_changed()
            edited = time.monotonic()
            while json.loads(fetch(url)[2])["song"]["name"] != "After the edit":
                assert time.monotonic() - edited < 2.5, "nginx kept a stale catalog page"
                time.sleep(0.1)

            # Pages nginx answers count against its own rate limit (a second nginx, a tiny one).
            limits = {"catalog_rate": "1r/m", "catalog_burst": 2}
            with nginx(web, web, media_root=settings.MEDIA_ROOT, static_root=static_root, **limits) as strict:
                statuses = [fetch(url.replace(base, strict))[0] for _ in range(3)]
                status, headers, body = fetch(url.replace(base, strict))
            assert statuses == [200, 200, 200]
            assert status == 429 and int(headers["Retry-After"]) > 0
            assert json.loads(body) == {
                "success": False,
                "code": "rate_limited",
                "message": "Too many requests: try again later.",
            }
        finally:
            audio.unlink()


def test_nginx_goes_on_answering_while_its_upstreams_are_down(static_root):
    """Every request to a dead upstream is an error line in nginx's log; the layout used by the
    tests, benches and drills once read that log through a pipe nobody emptied, and nginx froze
    when it filled (64 KiB): the drill's killed app process took every request down with it."""
    dead = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
    with nginx(dead, dead, media_root=settings.MEDIA_ROOT, static_root=static_root) as base:
        for n in range(600):  # well past 64 KiB of "connect() failed" and "no live upstreams"
            status, headers, body = fetch(f"{base}/api/user/me?n={n}")
            # No `web` server to take it: the envelope's 503, to be tried again in a moment.
            assert (status, headers["Retry-After"], json.loads(body)["code"]) == (503, "1", "overloaded")


def test_web_refuses_at_once_a_request_that_waited_too_long_behind_nginx(static_root):
    # Every request nginx passes on carries the time it did so; with no wait allowed at all, each
    # one has waited too long: 503 `overloaded`, the envelope and Retry-After, the app's view
    # never run. The same server reached directly (no stamp) serves as ever.
    env = {"TRUSTED_PROXIES": "127.0.0.1", "WEB_QUEUE_MAX_WAIT_S": "-1", "METRICS_TOKEN": "metrics-secret"}
    with (
        app_server(static_root=static_root, interface="wsgi", env=env) as web,
        nginx([web], [web], media_root=settings.MEDIA_ROOT, static_root=static_root) as base,
    ):
        status, headers, body = fetch(f"{base}/api/does-not-exist")
        assert status == 503 and headers["Retry-After"] == "1"
        assert json.loads(body) == {
            "success": False,
            "code": "overloaded",
            "message": "The server is busy. Try again in a moment.",
        }
        assert fetch(f"{web}/api/does-not-exist")[0] == 404
        _, _, metrics = fetch(f"{web}/metrics", {"Authorization": "Bearer metrics-secret"})
        assert 'musicapp_requests_shed_total{reason="waited_too_long"} 1.0' in metrics.decode()


def test_nginx_refuses_at_once_past_the_requests_each_web_server_may_hold(static_root):
    # A `web` server that takes connections and never answers (saturated): nginx holds at most
    # 128 requests at once per server entry (max_conns; here the one server stands for both
    # entries), and answers the next with the envelope's 503 at once instead of piling more on.
    with (
        silent_server() as port,
        nginx(
            [f"127.0.0.1:{port}"], [f"127.0.0.1:{port}"], media_root=settings.MEDIA_ROOT, static_root=static_root
        ) as base,
    ):
        host, nginx_port = base.removeprefix("http://").split(":")
        held = []
        try:
            for n in range(2 * 128):
                client = socket.create_connection((host, int(nginx_port)), timeout=5)
                client.sendall(f"GET /api/user/me?n={n} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                held.append(client)
            time.sleep(0.5)  # nginx has passed them all on
            started = time.monotonic()
            status, headers, body = fetch(f"{base}/api/user/me?n=next")
            assert time.monotonic() - started < 1.0
            assert (status, headers["Retry-After"], json.loads(body)["code"]) == (503, "1", "overloaded")
        finally:
            for client in held:
                client.close()
