"""The platform's own periodic jobs: keeping the job queue itself healthy, and the local media store tidy."""

from __future__ import annotations

import logging

from django.conf import settings

from musicapp.adapters import media
from musicapp.platform.jobs import app, periodic

logger = logging.getLogger(__name__)


@periodic(schedule="retry_stalled_jobs", name="jobs.retry_stalled", queueing_lock="jobs.retry_stalled")
async def retry_stalled_jobs(timestamp: int) -> None:
    """Put back in the queue the jobs of workers that stopped beating (killed, or their machine
    gone) for JOBS_STALLED_AFTER_S: a job is never lost with the worker that held it."""
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=settings.JOBS_STALLED_AFTER_S)
    for stalled_job in stalled:
        logger.warning("retrying job %s (%s) of a stalled worker", stalled_job.id, stalled_job.task_name)
        await app.job_manager.retry_job(stalled_job)


@periodic(schedule="prune_old_jobs", name="jobs.prune_old", queueing_lock="jobs.prune_old")
async def prune_old_jobs(timestamp: int) -> None:
    """Failed and cancelled jobs stay JOBS_KEEP_FAILED_DAYS for staff to look at (done ones go at once)."""
    await app.job_manager.delete_old_jobs(
        nb_hours=settings.JOBS_KEEP_FAILED_DAYS * 24, include_failed=True, include_cancelled=True, include_aborted=True
    )


@periodic(schedule="cleanup_media", name="media.delete_orphans", queueing_lock="media.delete_orphans")
def delete_orphaned_media(timestamp: int) -> None:
    deleted = media.delete_orphans(older_than_hours=settings.MEDIA_ORPHAN_GRACE_HOURS)
    logger.info("deleted %d orphaned media file(s)", deleted)
