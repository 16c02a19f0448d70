"""Every write on accounts (STYLE.md: writes go through services)."""

from accounts.services.auth import (
    email_code_issue,
    email_code_resend,
    email_verify,
    logins_revoke_all,
    password_forgot,
    password_reset,
    tokens_refresh,
    user_login,
    user_logout,
    user_register,
)
from accounts.services.profile import (
    me_cache_key,
    user_deactivate,
    user_mark_verified,
    user_resend_code,
    user_set_avatar,
    user_settings_get,
    user_settings_update,
    user_update_profile,
)

__all__ = [
    "email_code_issue",
    "email_code_resend",
    "email_verify",
    "logins_revoke_all",
    "me_cache_key",
    "password_forgot",
    "password_reset",
    "tokens_refresh",
    "user_deactivate",
    "user_login",
    "user_logout",
    "user_mark_verified",
    "user_register",
    "user_resend_code",
    "user_set_avatar",
    "user_settings_get",
    "user_settings_update",
    "user_update_profile",
]
