"""deploy/'s nginx and PgBouncer templates run with Debian's binaries, for the production-layout
test (tests/test_production_layout.py) and `make bench` (bench/load.py).

`make proxy-tools` unpacks the binaries under .devdata/debian (apt-get download + dpkg -x:
nothing installed system-wide, no service started).
"""

from __future__ import annotations

import contextlib
import glob
import os
import signal
import socket
import string
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from musicapp.dev.devservices import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
DEBIAN = ROOT / ".devdata" / "debian"
NGINX = DEBIAN / "usr" / "sbin" / "nginx"
PGBOUNCER = DEBIAN / "usr" / "sbin" / "pgbouncer"
DEPLOY = ROOT / "deploy"


def render(template: str, target: Path, **values: object) -> Path:
    """deploy/<template> with its ${NAME}s filled in, written to target."""
    # safe_substitute: nginx's own $variables ($host, $remote_addr...) stay as they are.
    text = string.Template((DEPLOY / template).read_text()).safe_substitute({k: str(v) for k, v in values.items()})
    target.write_text(text)
    target.chmod(0o644)
    return target


def debian_env() -> dict[str, str]:
    libraries = ":".join(glob.glob(str(DEBIAN / "usr" / "lib" / "*-linux-gnu")))
    return {**os.environ, "LD_LIBRARY_PATH": libraries}


def start_logged(command: list[str], log: Path) -> subprocess.Popen:
    """Start a server whose output goes to the file `log`. Never to a pipe that nobody reads: a
    server blocks on its log once the pipe's 64 KiB are full (nginx did, the moment an upstream
    died under load and it logged every broken connection: the drill saw every request hang)."""
    with log.open("ab") as out:
        return subprocess.Popen(command, env=debian_env(), stdout=out, stderr=subprocess.STDOUT)


def wait_for_port(port: int, proc: subprocess.Popen, what: str, log: Path, timeout: float = 20) -> None:
    """Wait until `proc` listens on `port`; if it exits first, raise with what it wrote to `log`."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        if proc.poll() is not None:
            errors = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"{what} exited with {proc.returncode}: {errors}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {timeout} s")
        time.sleep(0.05)


@contextlib.contextmanager
def nginx(
    web: list[str],
    ws: list[str],
    *,
    media_root: Path,
    static_root: Path,
    catalog_rate: str = "67r/m",
    catalog_burst: int = 1000,
    error_log: Path | None = None,
) -> Iterator[str]:
    """nginx with deploy/nginx.conf.template in front of two `web` and two `ws` servers
    ("host:port" or "http://host:port"; a single one is used twice); yields its base URL. Its
    error log goes to `error_log` (kept), or to a file that goes with its temporary folder."""
    web, ws = [*web, *web][:2], [*ws, *ws][:2]
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
            MEDIA_ROOT=media_root,
            STATIC_ROOT=static_root,
            CATALOG_RATE=catalog_rate,
            CATALOG_BURST=catalog_burst,
        )
        directives = "daemon off;" + (" user root;" if os.getuid() == 0 else "")
        log = error_log or prefix / "error.log"
        proc = start_logged([str(NGINX), "-p", str(prefix), "-c", str(conf), "-g", directives], log)
        try:
            wait_for_port(port, proc, "nginx", log)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.send_signal(signal.SIGQUIT)  # nginx's graceful stop
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
