"""HMAC-SHA256 signatures over raw request bytes, compared in constant time.

Both platform families sign the exact bytes they sent (docs.x.com x-api/webhooks/quickstart;
developers.facebook.com/docs/graph-api/webhooks/getting-started):
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
    """True when `presented` is byte for byte one of `expected`, each compared in constant time.

    Exact: nothing is stripped or case-folded. The verify token is a secret, so `" token "` must not pass
    for `"token"`; signature headers are exact too, since HTTP parsers (API Gateway included) already drop
    the optional whitespace around a field value (RFC 9110 §5.5), so a platform never sends any. Encoded
    with `surrogatepass` so a header or token with any code point is a mismatch, not an exception.
    """
    if not presented:
        return False
    given = presented.encode("utf-8", "surrogatepass")
    return any(hmac.compare_digest(given, candidate.encode("utf-8", "surrogatepass")) for candidate in expected)
