"""Scheduled jobs of the library: popular songs and recommendations (settings.JOB_SCHEDULES)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from library.services import listening
from musicapp.platform.jobs import periodic

logger = logging.getLogger(__name__)


@periodic(schedule="refresh_popular", name="library.refresh_popular", queueing_lock="library.refresh_popular")
def refresh_popular(timestamp: int) -> None:
    listening.popular_refresh()


@periodic(
    schedule="compute_recommendations",
    name="library.compute_recommendations",
    queueing_lock="library.compute_recommendations",
)
def compute_recommendations(timestamp: int) -> None:
    since = timezone.now() - timedelta(days=settings.RECOMMENDATIONS_LOOKBACK_DAYS)
    users, written = listening.recommendations_refresh_changed(since=since)
    logger.info("recommendations refreshed for %d user(s) with new plays or likes (%d rows)", users, written)
