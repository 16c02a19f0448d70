"""Outgoing mail, rendered from templates (a text and an HTML part) and sent by EMAIL_BACKEND
(SMTP, the console, a file folder, or locmem in tests).

Mail always leaves from a background job: enqueue `send_templated_mail` inside the write's
transaction, or send from a job that makes what the mail carries (accounts' code jobs).
A failure to send raises, so the job is retried with backoff instead of the mail being lost.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from musicapp.platform.jobs import job


def send_templated(*, to: str, subject: str, template: str, context: dict[str, Any]) -> None:
    """Render <template>.txt and <template>.html and send both parts now."""
    message = EmailMultiAlternatives(subject=subject, body=render_to_string(f"{template}.txt", context), to=[to])
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    message.send()
    if settings.DEBUG:  # local mode: the web player may show the newest mail to an address
        cache.set(_outbox_key(to), {"subject": subject, "text": message.body}, DEV_OUTBOX_KEEP_S)


# --- DEBUG only: the newest mail to each address, for the web player's sign-up page -----------------

DEV_OUTBOX_KEEP_S = 600
CODE = re.compile(r"\b(\d{6})\b")


def _outbox_key(to: str) -> str:
    return f"mail:dev-outbox:{to.strip().lower()}"


def dev_outbox(to: str) -> dict[str, Any] | None:
    """The newest mail sent to `to` in the last 10 minutes, with the 6-digit code it carries;
    None when DEBUG is off (nothing is kept then) or there is none."""
    if not settings.DEBUG:
        return None
    mail = cache.get(_outbox_key(to))
    if mail is None:
        return None
    found = CODE.search(mail["text"])
    return {**mail, "code": found.group(1) if found else None}


@job(name="mail.send_templated")
def send_templated_mail(*, to: str, subject: str, template: str, context: dict[str, Any]) -> None:
    """A mail whose content needs nothing secret (the context is stored with the queued job)."""
    send_templated(to=to, subject=subject, template=template, context=context)
