"""Django's own ASGI handler for HTTP, as musicapp.asgi served it before wsgi_bridge: the
"before" of bench/servers.py."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicapp.settings")
application = get_asgi_application()
