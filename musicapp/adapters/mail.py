"""Outgoing mail, rendered from templates (a text and an HTML part) and sent by EMAIL_BACKEND
(SMTP, the console, a file folder, or locmem in tests).

Mail always leaves from a background job: enqueue `send_templated_mail` inside the write's
transaction, or send from a job that makes what the mail carries (accounts' code jobs).
A failure to send raises, so the job is retried with backoff instead of the mail being lost.
"""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from musicapp.platform.jobs import job


def send_templated(*, to: str, subject: str, template: str, context: dict[str, Any]) -> None:
    """Render <template>.txt and <template>.html and send both parts now."""
    message = EmailMultiAlternatives(subject=subject, body=render_to_string(f"{template}.txt", context), to=[to])
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    message.send()


@job(name="mail.send_templated")
def send_templated_mail(*, to: str, subject: str, template: str, context: dict[str, Any]) -> None:
    """A mail whose content needs nothing secret (the context is stored with the queued job)."""
    send_templated(to=to, subject=subject, template=template, context=context)
