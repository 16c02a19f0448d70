"""Error codes of the sign-in flows (the envelope's `code`; see musicapp.platform.errors)."""

from musicapp.platform.errors import InvalidInput, NotAllowed, Unauthorized


class CodeInvalid(InvalidInput):
    """The emailed code is wrong, used, expired, or worn out by wrong guesses: ask for a new one."""

    code, message = "code_invalid", "The code is invalid or has expired. Ask for a new one."


class BadCredentials(Unauthorized):
    """The email and password do not match an account (which of the two is never said)."""

    code, message = "bad_credentials", "Invalid email or password."


class EmailNotVerified(NotAllowed):
    """The account exists but its address is not verified yet: enter the emailed code."""

    code = "email_not_verified"
    message = "Your email address is not verified yet. Enter the code we emailed you, or ask for a new one."


class TokenReused(Unauthorized):
    """A refresh token was presented after it had been rotated: the whole login is revoked."""

    code, message = "token_reused", "The refresh token is invalid or expired. Sign in again."


class SignupsClosed(NotAllowed):
    """New accounts cannot be made at the moment (the operators closed sign-ups)."""

    code, message = "signups_closed", "Sign-ups are closed at the moment. Try again later."
