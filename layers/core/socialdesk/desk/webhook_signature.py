"""Zendesk's webhook signature: base64 HMAC-SHA256 of the timestamp header followed by the raw body.

`X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256(key = the signing secret as UTF-8 text, message =
`X-Zendesk-Webhook-Signature-Timestamp` + raw body)), no separator, the secret not base64-decoded
(developer.zendesk.com/documentation/webhooks/verifying/). An older Zendesk page signed body + timestamp; that order is
refused. Zendesk documents no replay window: a timestamp more than 5 minutes from our clock is refused, so a captured
delivery cannot be replayed later.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from socialdesk.platforms.signing import hmac_sha256, matches_any

if TYPE_CHECKING:
    from collections.abc import Iterable

WEBHOOK_PATH = "/webhooks/zendesk"
SIGNATURE_HEADER = "x-zendesk-webhook-signature"
TIMESTAMP_HEADER = "x-zendesk-webhook-signature-timestamp"
MAX_SKEW = timedelta(minutes=5)


# The event types desk_events reads (developer.zendesk.com/api-reference/webhooks/event-types/ticket-events).
SUBSCRIPTIONS = ("zen:event-type:ticket.comment_added", "zen:event-type:ticket.status_changed")


def zendesk_webhook(endpoint: str) -> dict[str, object]:
    """The body of Zendesk's Create Webhook call (developer.zendesk.com/api-reference/webhooks/webhooks-api/webhooks): an
    event-subscribed webhook must be POST and JSON."""
    return {
        "webhook": {
            "name": "socialdesk: agent replies and ticket status",
            "status": "active",
            "endpoint": endpoint,
            "http_method": "POST",
            "request_format": "json",
            "subscriptions": list(SUBSCRIPTIONS),
        }
    }


class SignatureRefusedError(Exception):
    """Why a delivery is not Zendesk's; `code` goes in the answer and the log, never anything derived from the secret."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    import base64

    return base64.b64encode(hmac_sha256(secret, timestamp.encode("utf-8", "surrogatepass") + body)).decode("ascii")


def verify(*, signature: str | None, timestamp: str | None, body: bytes, secrets: Iterable[str], now: datetime) -> None:
    """Return when the delivery is signed by one of `secrets` at a time within 5 minutes of `now`; raise otherwise.

    The time is checked first but refused with the same code as a bad signature whenever the signature does not
    match, so an unsigned request learns nothing about our clock.
    """
    if not signature or not timestamp:
        raise SignatureRefusedError("invalid_signature", "signature or timestamp header missing")
    if not matches_any(signature, [zendesk_signature(secret, timestamp, body) for secret in secrets]):
        raise SignatureRefusedError("invalid_signature", "signature matches no current or previous signing secret")
    signed_at = _parse_time(timestamp)
    if signed_at is None:
        raise SignatureRefusedError("stale_timestamp", "the signed timestamp is not an ISO 8601 time with a zone")
    if abs(now - signed_at) > MAX_SKEW:
        raise SignatureRefusedError("stale_timestamp", f"signed {int((now - signed_at).total_seconds())} s from now, over the 5-minute window")


def _parse_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
