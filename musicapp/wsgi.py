"""WSGI entry point: production HTTP (granian --interface wsgi); WebSockets go to asgi.py."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicapp.settings")
application = get_wsgi_application()

from musicapp.platform.metrics import watch_gc_pauses  # noqa: E402

watch_gc_pauses()
