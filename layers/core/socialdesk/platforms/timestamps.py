"""Platform time formats to aware UTC datetimes.

The units differ by field (platform-webhooks.md §1.5.6 and §2.5.6): Graph feed and
WhatsApp use seconds, Messenger and X DMs milliseconds, AAA tweets an RFC-2822-like
string and the X v2 API ISO 8601. Each field names its own parser; nothing guesses.
"""

from __future__ import annotations

from datetime import UTC, datetime


def from_epoch_seconds(value: int | str) -> datetime:
    return _from_epoch(int(value))


def from_epoch_millis(value: int | str) -> datetime:
    return _from_epoch(int(value) / 1000)


def _from_epoch(seconds: float) -> datetime:
    """Out-of-range times raise ValueError, like every other unreadable value (not OverflowError/OSError)."""
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"timestamp out of range: {exc}") from exc


def from_iso(value: str) -> datetime:
    """ISO 8601 as X v2 (`...000Z`) and the Graph API (`...+0000`) write it."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("timestamp has no UTC offset")
    return parsed.astimezone(UTC)


def from_x_created_at(value: str) -> datetime:
    """`Mon May 19 14:01:46 +0000 2025`, the v1.1 tweet format."""
    return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)


def from_graph_time(value: int | str) -> datetime:
    """Graph `created_time`: epoch seconds in webhooks, ISO 8601 in API reads."""
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return from_epoch_seconds(value)
    return from_iso(value)
