"""ASGI entry point: HTTP through Django, WebSockets through Channels (WS.md)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicapp.settings")
# Set up Django (apps, settings) before anything imports models through the routing.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from musicapp.platform.websocket import JWTQueryStringMiddleware  # noqa: E402
from musicapp.routing import websocket_urlpatterns  # noqa: E402

# Origins are checked by each consumer after accepting, so a refusal carries WS.md's 4403.
application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": JWTQueryStringMiddleware(URLRouter(websocket_urlpatterns)),
    }
)
