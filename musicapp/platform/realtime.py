"""The one place that talks to the Channels layer (STYLE.md: one small module wraps group_send).

Broadcasts are sent after the transaction commits, so nobody hears of a change that rolled back.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def send_now(group: str, event: dict) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, event)
    except Exception:  # a lost broadcast must not fail the write that already committed
        logger.exception("could not broadcast %s to %s", event.get("type"), group)


def send_on_commit(group: str, event: dict) -> None:
    transaction.on_commit(lambda: send_now(group, event))
