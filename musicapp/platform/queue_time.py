"""Load shedding for production's `web` (granian's WSGI workers behind the proxy): a request
that waited too long before the app got to it is answered 503 `overloaded` at once.

Past capacity, granian holds the requests that find a worker's threads all busy in a queue of
its own, without bound: each waits seconds, and then is served to a client that may have given
up. The app cannot see that queue, so the proxy stamps when it passed each request on
(`X-Request-Start: t=<seconds since the epoch>`, deploy/nginx.conf.template); a request that
has waited over WEB_QUEUE_MAX_WAIT_S since then is refused without being run (counted in
`musicapp_requests_shed_total{reason="waited_too_long"}`, as `make run`'s origin counts its
own: musicapp.platform.wsgi_bridge). Past capacity the queue then drains at the rate the app
can say no, and what it does serve waited at most that long. The stamp is believed only from
TRUSTED_PROXIES; a request without one (a server reached directly) is never shed here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from django.conf import settings

from musicapp.platform import metrics
from musicapp.platform.errors import Overloaded, envelope_json, headers_for
from musicapp.platform.net import is_trusted_proxy

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def waited(stamp: str, now: float) -> float | None:
    """Seconds since the proxy's `t=<seconds>` stamp (nginx's $msec); None if it is not one."""
    seconds = stamp.strip().removeprefix("t=")
    try:
        return now - float(seconds)
    except ValueError:
        return None


class ShedQueuedTooLong:
    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        stamp = environ.get("HTTP_X_REQUEST_START")
        if stamp is not None:
            seconds = waited(stamp, time.time())
            if (
                seconds is not None
                and seconds > settings.WEB_QUEUE_MAX_WAIT_S
                and is_trusted_proxy(environ.get("REMOTE_ADDR", ""))
            ):
                metrics.requests_shed.labels("waited_too_long").inc()
                error = Overloaded()
                body = envelope_json(error)
                status = f"{error.status} {HTTPStatus(error.status).phrase}"
                start_response(status, [*headers_for(error), ("Content-Length", str(len(body)))])
                return [body]
        return self.app(environ, start_response)
