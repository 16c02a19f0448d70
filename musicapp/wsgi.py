"""WSGI entry point: production HTTP (granian --interface wsgi); WebSockets go to asgi.py."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicapp.settings")
django_application = get_wsgi_application()

from musicapp.platform.metrics import watch_gc_pauses  # noqa: E402
from musicapp.platform.queue_time import ShedQueuedTooLong  # noqa: E402

# A request the proxy passed on over WEB_QUEUE_MAX_WAIT_S ago is refused at once (503).
application = ShedQueuedTooLong(django_application)

watch_gc_pauses()
