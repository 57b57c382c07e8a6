"""Zendesk's webhook signature: base64 HMAC-SHA256 of timestamp + raw body, within 5 minutes, nothing else accepted."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from socialdesk.desk.webhook_signature import SignatureRefusedError, verify, zendesk_signature
from socialdesk.platforms.signing import hmac_sha256

# developer.zendesk.com/documentation/webhooks/verifying/: the documented example secret, timestamp and body.
DOC_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
DOC_TIMESTAMP = "2021-07-25T10:00:00Z"
DOC_BODY = b'{"say": "hello"}'
DOC_SIGNATURE = "gf3v0LzLRHPUnIdhbvwRDVEvzSb07/QN0GYjSNlkBT0="
SIGNED_AT = datetime(2021, 7, 25, 10, 0, tzinfo=UTC)


def check(signature: str | None, *, timestamp: str | None = DOC_TIMESTAMP, body: bytes = DOC_BODY, now: datetime = SIGNED_AT) -> None:
    verify(signature=signature, timestamp=timestamp, body=body, secrets=[DOC_SECRET], now=now)


def test_the_documented_vector_verifies() -> None:
    """Given Zendesk's documented secret, timestamp and body, when verified with its documented signature, then it passes."""
    assert zendesk_signature(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY) == DOC_SIGNATURE
    check(DOC_SIGNATURE)


def test_a_signature_over_body_then_timestamp_is_refused() -> None:
    """Given a signature over body + timestamp (an older Zendesk page's order), when verified, then it is refused."""
    reversed_order = base64.b64encode(hmac_sha256(DOC_SECRET, DOC_BODY + DOC_TIMESTAMP.encode())).decode()
    with pytest.raises(SignatureRefusedError) as refused:
        check(reversed_order)
    assert refused.value.code == "invalid_signature"


@pytest.mark.parametrize("offset", [timedelta(minutes=5, seconds=1), timedelta(minutes=-5, seconds=-1), timedelta(days=400)])
def test_a_stale_or_future_timestamp_is_refused_even_when_signed(offset: timedelta) -> None:
    """Given a correctly signed delivery, when our clock is more than 5 minutes from its timestamp, then it is refused as stale."""
    with pytest.raises(SignatureRefusedError) as refused:
        check(DOC_SIGNATURE, now=SIGNED_AT - offset)
    assert refused.value.code == "stale_timestamp"


def test_a_timestamp_within_five_minutes_passes() -> None:
    """Given a signed delivery, when our clock is 4 minutes 59 seconds ahead, then it passes."""
    check(DOC_SIGNATURE, now=SIGNED_AT + timedelta(minutes=4, seconds=59))


@pytest.mark.parametrize(
    "body", [b'{"say": "hello!"}', b'{"say":"hello"}', b'{"say": "hello"} ', b""], ids=["changed", "re-serialised", "padded", "empty"]
)
def test_a_tampered_body_is_refused(body: bytes) -> None:
    """Given the documented signature, when the body differs by any byte, then it is refused."""
    with pytest.raises(SignatureRefusedError, match="matches no"):
        check(DOC_SIGNATURE, body=body)


@pytest.mark.parametrize("signature", ["not base64 at all!", "gf3v0LzLRHPUnIdhbvwRDVEvzSb07/QN0GYjSNlkBT0", DOC_SIGNATURE.lower(), "", "\ud800"])
def test_bad_base64_or_a_near_miss_is_refused_without_an_exception(signature: str) -> None:
    """Given a signature header that is not the exact base64 digest, when verified, then it is refused (never a 500)."""
    with pytest.raises(SignatureRefusedError) as refused:
        check(signature)
    assert refused.value.code == "invalid_signature"


def test_an_unsigned_request_learns_nothing_about_our_clock() -> None:
    """Given a wrong signature and a stale timestamp, when verified, then the refusal is about the signature, not the time."""
    with pytest.raises(SignatureRefusedError) as refused:
        check("AAAA", now=SIGNED_AT + timedelta(days=1))
    assert refused.value.code == "invalid_signature"


@pytest.mark.parametrize("timestamp", [None, "", "1627207200", "2021-07-25T10:00:00"])
def test_a_missing_or_zoneless_timestamp_is_refused(timestamp: str | None) -> None:
    """Given a timestamp header that is missing, an epoch or has no zone, when signed over it, then it is refused."""
    signature = zendesk_signature(DOC_SECRET, timestamp or "", DOC_BODY)
    with pytest.raises(SignatureRefusedError):
        check(signature, timestamp=timestamp)
