"""Platform time formats to aware UTC datetimes.

The units differ by field (the X and Meta payload references): Graph feed and
WhatsApp use seconds, Messenger and X DMs milliseconds, AAA tweets an RFC-2822-like
string and the X v2 API ISO 8601. Each field names its own parser; nothing guesses.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from socialdesk.platforms.numbers import integer

# Epoch milliseconds need 13 digits until the year 2286; datetime stops at 9999. A longer number is no time.
_MAX_EPOCH_DIGITS = 15


def from_epoch_seconds(value: Any) -> datetime:
    return _from_epoch(_epoch(value), 0)


def from_epoch_millis(value: Any) -> datetime:
    """Integer arithmetic throughout: `int(value) / 1000` overflows a float for a huge value (OverflowError)."""
    seconds, millis = divmod(_epoch(value), 1000)
    return _from_epoch(seconds, millis)


def _epoch(value: Any) -> int:
    """An epoch count as a JSON integer or a string of digits; bools, floats, negatives and huge numbers raise ValueError."""
    number = integer(value, max_digits=_MAX_EPOCH_DIGITS)
    if number < 0:
        raise ValueError("timestamp before 1970")
    return number


def _from_epoch(seconds: int, millis: int) -> datetime:
    """Out-of-range times raise ValueError, like every other unreadable value (not OverflowError/OSError)."""
    try:
        return datetime.fromtimestamp(seconds, tz=UTC) + timedelta(milliseconds=millis)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"timestamp out of range: {exc}") from exc


# X ids are snowflakes: milliseconds since this epoch in the bits above the lowest 22 (X's "Twitter IDs" docs).
_X_EPOCH_MILLIS = 1288834974657


def from_x_snowflake(value: Any) -> datetime:
    """When X minted a post id: dates a v2 post delivered without `created_at`, so a replay of it is still told by its age."""
    return from_epoch_millis((integer(value, max_digits=20) >> 22) + _X_EPOCH_MILLIS)


def from_iso(value: str) -> datetime:
    """ISO 8601 as X v2 (`...000Z`) and the Graph API (`...+0000`) write it."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("timestamp has no UTC offset")
    return parsed.astimezone(UTC)


def from_x_created_at(value: str) -> datetime:
    """`Mon May 19 14:01:46 +0000 2025`, the v1.1 tweet format."""
    return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)


def from_graph_time(value: Any) -> datetime:
    """Graph `created_time`: epoch seconds in webhooks, ISO 8601 in API reads."""
    if isinstance(value, int) or (isinstance(value, str) and value.isascii() and value.isdigit()):
        return from_epoch_seconds(value)
    if not isinstance(value, str):
        raise ValueError(f"created_time is neither epoch seconds nor ISO 8601: {type(value).__name__}")
    return from_iso(value)
