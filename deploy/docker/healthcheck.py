#!/usr/bin/env python
"""The image's HEALTHCHECK: GET /health from the web or ws server in this container, on its own
port, with a Host that ALLOWED_HOSTS accepts. Exit 0 when it answers 200. The worker (and any
other command) serves no HTTP: it counts as healthy while it runs."""

import contextlib
import ipaddress
import os
import sys
import urllib.request
from pathlib import Path


def server() -> str | None:
    """'web' or 'ws' when granian or uvicorn runs here (PID 1, or under an init such as tini)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        names = {Path(word.decode(errors="replace")).name for word in words[:2]}
        if "granian" in names:
            return "web"
        if "uvicorn" in names:
            return "ws"
    return None


def main() -> int:
    kind = server()
    if kind is None:
        return 0
    port = os.environ.get("PORT", "8000") if kind == "web" else os.environ.get("WS_PORT", "8001")
    address = os.environ.get("LISTEN_HOST", "").strip("[]")
    with contextlib.suppress(ValueError):  # a name rather than an address: used as it is
        if not address or ipaddress.ip_address(address).is_unspecified:  # every interface
            address = "127.0.0.1"
    if ":" in address:
        address = f"[{address}]"
    hosts = [h for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip() and h.strip() != "*"]
    host = hosts[0].strip().lstrip(".") if hosts else "localhost"
    # X-Forwarded-Proto: with BEHIND_TLS_PROXY and SECURE_SSL_REDIRECT on, a plain request would
    # be redirected to https; without BEHIND_TLS_PROXY the header is ignored.
    headers = {"Host": host, "X-Forwarded-Proto": "https"}
    request = urllib.request.Request(f"http://{address}:{port}/health", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310 - a fixed http URL
            return 0 if response.status == 200 else 1
    except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy", printed for `docker inspect`
        print(f"/health on {kind} port {port}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
