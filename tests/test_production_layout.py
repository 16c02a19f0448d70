"""The production layout that deploy/ ships, on loopback ports: Debian's nginx
(deploy/nginx.conf.template) in front of two `web` processes (granian WSGI) and two `ws`
processes (uvicorn), every one of them on PostgreSQL through Debian's PgBouncer in transaction
mode (deploy/pgbouncer.ini.template, DATABASE_URL ...?pgbouncer=transaction).

Debian's binaries are unpacked under .devdata/debian by `make proxy-tools` (run by `make test`);
where that could not be done, these tests are skipped, saying why.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import signal
import string
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from websockets.sync.client import connect

from tests.factories import SongFactory, UserFactory
from tests.support.servers import app_server, free_port, stop
from tests.support.ws import Socket, token

DEBIAN = Path(settings.BASE_DIR) / ".devdata" / "debian"
NGINX = DEBIAN / "usr" / "sbin" / "nginx"
PGBOUNCER = DEBIAN / "usr" / "sbin" / "pgbouncer"
DEPLOY = Path(settings.BASE_DIR) / "deploy"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (NGINX.exists() and PGBOUNCER.exists()),
        reason="Debian's nginx and pgbouncer are not under .devdata/debian (`make proxy-tools` fetches them)",
    ),
]


def render(template: str, target: Path, **values: object) -> Path:
    # safe_substitute: nginx's own $variables ($host, $remote_addr...) stay as they are.
    text = string.Template((DEPLOY / template).read_text()).safe_substitute({k: str(v) for k, v in values.items()})
    target.write_text(text)
    target.chmod(0o644)
    return target


def debian_env() -> dict[str, str]:
    libraries = ":".join(glob.glob(str(DEBIAN / "usr" / "lib" / "*-linux-gnu")))
    return {**os.environ, "LD_LIBRARY_PATH": libraries}


def wait_for_port(port: int, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        with contextlib.suppress(OSError), __import__("socket").create_connection(("127.0.0.1", port), timeout=0.2):
            return
        assert proc.poll() is None, f"{what} exited with {proc.returncode}"
        assert time.monotonic() < deadline, f"{what} did not start"
        time.sleep(0.05)


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
        proc = subprocess.Popen(command, env=debian_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for_port(port, proc, "pgbouncer")
            yield port
        finally:
            stop(proc)


@contextlib.contextmanager
def nginx(web: list[str], ws: list[str]):
    """nginx with deploy/nginx.conf.template in front of these servers; yields its base URL."""
    with tempfile.TemporaryDirectory() as folder:
        prefix = Path(folder)
        prefix.chmod(0o755)
        port = free_port()
        conf = render(
            "nginx.conf.template",
            prefix / "nginx.conf",
            NGINX_PREFIX=prefix,
            LISTEN=f"127.0.0.1:{port}",
            WEB_1=web[0].removeprefix("http://"),
            WEB_2=web[1].removeprefix("http://"),
            WS_1=ws[0].removeprefix("http://"),
            WS_2=ws[1].removeprefix("http://"),
        )
        directives = "daemon off;" + (" user root;" if os.getuid() == 0 else "")
        proc = subprocess.Popen(
            [str(NGINX), "-p", str(prefix), "-c", str(conf), "-g", directives],
            env=debian_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for_port(port, proc, "nginx")
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.send_signal(signal.SIGQUIT)  # nginx's graceful stop
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


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
def production_layout(static_root, procs: list):
    with pgbouncer() as bouncer_port:
        db = connection.settings_dict
        env = {
            "DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{bouncer_port}/{db['NAME']}?pgbouncer=transaction",
            "TRUSTED_PROXIES": "127.0.0.1",
        }
        with contextlib.ExitStack() as stack:
            web = [
                stack.enter_context(app_server(static_root=static_root, interface="wsgi", env=env)) for _ in range(2)
            ]
            ws = [stack.enter_context(app_server(static_root=static_root, env=env, procs=procs)) for _ in range(2)]
            base = stack.enter_context(nginx(web, ws))
            yield base, bouncer_port


def test_rest_and_live_updates_through_nginx_on_two_web_and_two_ws_processes_over_pgbouncer(static_root):
    owner, fan = UserFactory(), UserFactory()
    songs = SongFactory.create_batch(3)
    ws_procs: list[subprocess.Popen] = []
    with production_layout(static_root, ws_procs) as (base, bouncer_port):
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
