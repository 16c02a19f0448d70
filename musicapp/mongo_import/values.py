"""Legacy values into ours: ids, dates, durations, emails, colours, flags.

Each function returns the converted value, or raises Invalid with words for the report.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

HEX24 = re.compile(r"^[0-9a-fA-F]{24}$")
CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,3}):(\d{1,2})(?:\.(\d+))?$")
COLOUR = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TRUE = {"true", "1", "yes", "on"}
FALSE = {"false", "0", "no", "off", ""}


class Invalid(ValueError):
    pass


def object_id(value: Any) -> str | None:
    """An ObjectId or its 24-hex string (any case) as our id; None for anything else."""
    if isinstance(value, ObjectId):
        return value.binary.hex()
    if isinstance(value, str) and HEX24.match(value.strip()):
        return value.strip().lower()
    if isinstance(value, dict) and set(value) == {"$oid"}:
        return object_id(value["$oid"])
    return None


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def id_time(object_id_hex: str) -> datetime:
    """When an ObjectId was made (its first 4 bytes, in seconds): the creation time of a
    document that lacks createdAt."""
    return EPOCH + timedelta(seconds=int(object_id_hex[:8], 16))


def moment(value: Any, *, fallback: datetime | None = None) -> datetime | None:
    """A BSON date, an ISO-8601 string or epoch milliseconds, as an aware UTC datetime."""
    if value is None or value == "":
        return fallback
    if isinstance(value, datetime):
        result = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            result = datetime.fromtimestamp(value / 1000, tz=UTC)
        except (ValueError, OverflowError, OSError):
            raise Invalid(f"{value!r} ms is not a date we can hold") from None
    elif isinstance(value, str):
        try:
            result = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise Invalid(f"{value[:40]!r} is not a date") from None
        result = result if result.tzinfo else result.replace(tzinfo=UTC)
    else:
        raise Invalid(f"{type(value).__name__} is not a date")
    try:
        return result.astimezone(UTC)
    except (ValueError, OverflowError):
        raise Invalid(f"{value!r} is not a date we can hold") from None


def seconds(value: Any) -> float:
    """ "m:ss", "h:mm:ss", "mm:ss.f" or a number of seconds."""
    if isinstance(value, bool):
        raise Invalid(f"{value!r} is not a duration")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and (match := CLOCK.match(value.strip())):
        hours, minutes, secs, fraction = match.groups()
        if int(secs) >= 60 or (hours is not None and int(minutes) >= 60):
            raise Invalid(f"{value!r} is not a duration")
        number = int(hours or 0) * 3600 + int(minutes) * 60 + int(secs) + float(f"0.{fraction or 0}")
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise Invalid(f"{value[:40]!r} is not a duration") from None
    else:
        raise Invalid(f"{type(value).__name__} is not a duration")
    if not 0 <= number < 10 * 24 * 3600 or number != number:
        raise Invalid(f"{value!r} is not a duration")
    return round(number, 3)


def email(value: Any) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    if len(text) > 254 or not EMAIL.match(text):
        raise Invalid(f"{str(value)[:60]!r} is not an email address")
    return text


def colour(value: Any) -> str:
    match = COLOUR.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise Invalid(f"{str(value)[:20]!r} is not a colour")
    digits = match.group(1)
    return "#" + (digits if len(digits) == 6 else "".join(c * 2 for c in digits)).lower()


def flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    raise Invalid(f"{str(value)[:20]!r} is not true or false")


def text(value: Any) -> str:
    """A string field; numbers are written out, anything else is invalid."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise Invalid(f"a {type(value).__name__} where text was expected")
