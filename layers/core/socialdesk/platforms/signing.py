"""HMAC-SHA256 signatures over raw request bytes, compared in constant time.

Both platform families sign the exact bytes they sent (platform-webhooks.md §0):
never re-serialise before verifying. Every candidate secret is tried so a secret
can rotate without downtime.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable


def hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()


def base64_signature(secret: str, message: bytes) -> str:
    """`sha256=` + base64 digest: X's CRC response token and POST signature format."""
    return "sha256=" + base64.b64encode(hmac_sha256(secret, message)).decode("ascii")


def hex_signature(secret: str, message: bytes) -> str:
    """`sha256=` + lowercase hex digest: Meta's X-Hub-Signature-256 format."""
    return "sha256=" + hmac_sha256(secret, message).hex()


def matches_any(presented: str | None, expected: Iterable[str]) -> bool:
    """True when `presented` equals one of `expected`, each compared in constant time.

    Compared as bytes so a header with non-ASCII characters is a mismatch, not a TypeError.
    """
    if not presented:
        return False
    given = presented.strip().encode("utf-8", "surrogateescape")
    return any(hmac.compare_digest(given, candidate.encode("ascii")) for candidate in expected)
