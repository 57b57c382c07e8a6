"""Numbers read from platform payloads, each as strictly as its use needs.

A payload can hold any JSON number where a count, a code or an id belongs: a few hundred
digits, a negative, a float, a bool (Python's `int` subclass) or a string such as "NaN".
`int(...)` accepts most of those and overflows later, far from the item it came from, so
every number is read here and a bad one fails its own item only (a ValueError, which the
batch quarantines) or, where the number is incidental, reads as unknown.
"""

from __future__ import annotations

from typing import Any

# The largest integer every JSON reader keeps exact (IEEE double): Zendesk's numeric fields and browsers among them.
MAX_SAFE_INTEGER = 2**53 - 1
_MAX_CODE = 2**31 - 1


def integer(value: Any, *, max_digits: int = 19) -> int:
    """A JSON integer or a string of ASCII digits (optionally signed) of at most `max_digits`; anything else raises ValueError."""
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= 10**max_digits:
            raise ValueError(f"integer of more than {max_digits} digits")
        return value
    if isinstance(value, str) and value.isascii() and value.removeprefix("-").isdigit() and len(value.removeprefix("-")) <= max_digits:
        return int(value)
    raise ValueError(f"not an integer of at most {max_digits} digits: {type(value).__name__}")


def count(value: Any) -> int | None:
    """A follower count: a non-negative integer up to 2**53 - 1, else unknown (it only informs priority and context)."""
    try:
        number = integer(value, max_digits=16)
    except ValueError:
        return None
    return number if 0 <= number <= MAX_SAFE_INTEGER else None


def code(value: Any) -> int | None:
    """A platform error code (WhatsApp's are six digits): a 32-bit integer, else unknown (its title still says what failed)."""
    try:
        number = integer(value, max_digits=10)
    except ValueError:
        return None
    return number if -_MAX_CODE <= number <= _MAX_CODE else None


def id_text(value: Any) -> str:
    """An id the payload may give as a string or as a JSON integer (X ids exceed 53 bits, so never as a float)."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(integer(value, max_digits=30))
    raise ValueError(f"not an id: {type(value).__name__}")
