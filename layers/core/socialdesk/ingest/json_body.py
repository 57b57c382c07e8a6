"""The authenticated body as JSON, read so that one odd string or number cannot refuse a whole delivery.

msgspec (fast, strict) reads almost every delivery. It refuses JSON that is valid by RFC 8259's
grammar but not representable exactly: a lone UTF-16 surrogate escape (`"\\ud800"`), an integer
of more than 4,300 digits, `1e999`. A delivery holding one of those in one item would get a 400
and be retried for days with its valid siblings. Such bodies are read again with the standard
library, lone surrogates become U+FFFD, and unrepresentable numbers stay their digits as
strings, so only the item that uses one as a number is quarantined.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import msgspec

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# CPython refuses to turn longer digit strings into ints (sys.int_info.default_max_str_digits).
_MAX_INT_DIGITS = 4300


class MalformedBodyError(ValueError):
    """The body is not JSON (or not UTF-8, or nested too deep)."""


def decode(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except (UnicodeDecodeError, RecursionError) as exc:  # not UTF-8, or nested too deep: no second reading helps
        raise MalformedBodyError(str(exc)[:200]) from exc
    except msgspec.DecodeError as strict:
        try:
            text = body.decode("utf-8")
            return _scrub(json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_refuse_constant))
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise MalformedBodyError(str(strict)[:200]) from exc


def _int(digits: str) -> int | str:
    return int(digits) if len(digits.lstrip("-")) <= _MAX_INT_DIGITS else digits


def _float(text: str) -> float | str:
    number = float(text)
    return number if math.isfinite(number) else text


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _scrub(value: Any) -> Any:
    """Every lone surrogate (which no UTF-8 encoder accepts) in keys and strings replaced by U+FFFD."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if isinstance(value, dict):
        return {_scrub(key): _scrub(item) for key, item in value.items()}
    return value
