"""ASGI entry point, the one origin of `make run`: HTTP through the WSGI app on a bounded thread
pool (musicapp.platform.wsgi_bridge: WSGI speed, overload shed with 503), WebSockets through
Channels (WS.md)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicapp.settings")
# Set up Django (apps, settings) before anything imports models through the routing.
get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

from musicapp.platform.metrics import watch_gc_pauses  # noqa: E402
from musicapp.platform.websocket import Admission, ConnectAdmission, JWTQueryStringMiddleware  # noqa: E402
from musicapp.platform.wsgi_bridge import WsgiOverAsgi  # noqa: E402
from musicapp.routing import websocket_urlpatterns  # noqa: E402

http = WsgiOverAsgi(
    get_wsgi_application(),
    threads=settings.WEB_THREADS,
    queue=settings.WEB_QUEUE,
    max_wait_seconds=settings.WEB_QUEUE_MAX_WAIT_S,
    body_max_bytes=settings.REQUEST_BODY_MAX_BYTES,
    upload_limits=settings.UPLOAD_BODY_LIMITS,
    body_readers=settings.WEB_BODY_READERS,
    body_idle_seconds=settings.REQUEST_BODY_IDLE_S,
    body_total_seconds=settings.REQUEST_BODY_TOTAL_S,
    spool_bytes=settings.FILE_UPLOAD_MAX_MEMORY_SIZE,
)

watch_gc_pauses()

# Origins are checked by each consumer after accepting, so a refusal carries WS.md's 4403.
# Connects are bounded per process (ConnectAdmission): past the bound, 1013 at once.
application = ProtocolTypeRouter(
    {
        "http": http,
        "websocket": ConnectAdmission(
            JWTQueryStringMiddleware(URLRouter(websocket_urlpatterns)),
            Admission(settings.WS_CONNECTS_AT_ONCE, settings.WS_CONNECT_QUEUE, settings.WS_CONNECT_WAIT_S),
        ),
    }
)
