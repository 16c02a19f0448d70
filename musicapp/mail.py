"""Outgoing mail: rendered from templates (text + HTML), sent after the transaction commits,
on a background thread unless EMAIL_ASYNC is off (tests)."""

import logging
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)
_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mail")


def _send(message: EmailMultiAlternatives) -> None:
    try:
        message.send()
    except Exception:
        logger.exception("could not send mail %r to %s", message.subject, message.to)


def send_templated_on_commit(*, to: str, subject: str, template: str, context: dict) -> None:
    """Render <template>.txt and <template>.html and send both parts once the transaction commits."""
    text = render_to_string(f"{template}.txt", context)
    html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    if settings.EMAIL_ASYNC:
        transaction.on_commit(lambda: _executor.submit(_send, message))
    else:
        transaction.on_commit(lambda: _send(message))
