"""Background jobs of accounts: the mails with codes, and the clean-up of spent codes and logins."""

from __future__ import annotations

import logging

from accounts.services import auth, cleanup
from musicapp.platform.jobs import job, periodic

logger = logging.getLogger(__name__)


@job(name="accounts.send_email_code")
def send_email_code(*, user_id: str, purpose: str, ignore_cooldown: bool = False) -> None:
    auth.email_code_send(user_id=user_id, purpose=purpose, ignore_cooldown=ignore_cooldown)


@job(name="accounts.resend_verification")
def resend_verification(*, email: str) -> None:
    auth.email_code_resend(email=email)


@job(name="accounts.send_password_reset")
def send_password_reset(*, email: str) -> None:
    auth.password_forgot(email=email)


@periodic(schedule="cleanup_accounts", name="accounts.cleanup", queueing_lock="accounts.cleanup")
def cleanup_accounts(timestamp: int) -> None:
    codes, logins = cleanup.expired_delete()
    logger.info("deleted %d expired email code(s) and %d finished login(s)", codes, logins)
