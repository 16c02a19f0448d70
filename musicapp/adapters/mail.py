"""Outgoing mail: rendered from templates (text + HTML), sent after the transaction commits,
off the request thread (musicapp.background)."""

import logging

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

from musicapp.background import run_in_background

logger = logging.getLogger(__name__)


def _send(message: EmailMultiAlternatives) -> None:
    try:
        message.send()
    except Exception:
        logger.exception("could not send mail %r to %s", message.subject, message.to)


def send_templated_on_commit(*, to: str, subject: str, template: str, context: dict) -> None:
    """Render <template>.txt and <template>.html and send both parts once the transaction commits."""
    message = EmailMultiAlternatives(subject=subject, body=render_to_string(f"{template}.txt", context), to=[to])
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    transaction.on_commit(lambda: run_in_background(_send, message))
