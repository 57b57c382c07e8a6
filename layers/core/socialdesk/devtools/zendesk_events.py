"""Zendesk's event-subscribed webhook as Zendesk sends it, signed: for the tests, the local sandbox desk and `socialdesk reply`.

The body follows developer.zendesk.com/api-reference/webhooks/event-types/ticket-events (ids as Zendesk writes them,
the status in capitals); the headers as developer.zendesk.com/documentation/webhooks/verifying/ describes them.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from socialdesk.desk.webhook_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, WEBHOOK_PATH, zendesk_signature

TEST_SIGNING_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
"""Zendesk's own documentation example secret: the local stack's ZendeskWebhookSecret holds it. Never deploy it."""


def comment_added(
    *,
    ticket_id: int,
    comment_id: int,
    body: str,
    external_id: str | None,
    tags: tuple[str, ...] = ("socialdesk",),
    public: bool = True,
    staff: bool = True,
    author_id: int = 9001,
    at: datetime | None = None,
    event_id: str | None = None,
    attachment_urls: tuple[str, ...] = (),
) -> dict[str, Any]:
    comment: dict[str, Any] = {
        "id": comment_id,
        "body": body,
        "is_public": public,
        "author": {"id": author_id, "is_staff": staff, "name": "Agent" if staff else "Customer"},
    }
    if attachment_urls:
        comment["attachments"] = [{"content_url": url} for url in attachment_urls]
    return {
        "type": "zen:event-type:ticket.comment_added",
        "account_id": 1234567,
        "id": event_id or str(uuid.uuid4()),
        "time": (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "zendesk_event_version": "2022-11-06",
        "subject": f"zen:ticket:{ticket_id}",
        "detail": {"id": str(ticket_id), "external_id": external_id, "tags": list(tags), "status": "OPEN"},
        "event": {"comment": comment},
    }


def signed_request(payload: dict[str, Any], *, secret: str = TEST_SIGNING_SECRET, at: datetime | None = None) -> tuple[bytes, dict[str, str]]:
    """The raw body and the headers Zendesk would send with it."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    timestamp = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return body, {
        "content-type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: zendesk_signature(secret, timestamp, body),
    }


def apigw_event(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """The API Gateway HTTP API (payload 2.0) event desk_events receives for one delivery."""
    return {
        "version": "2.0",
        "routeKey": f"POST {WEBHOOK_PATH}",
        "rawPath": WEBHOOK_PATH,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {"http": {"method": "POST", "path": WEBHOOK_PATH}, "requestId": str(uuid.uuid4())},
        "body": body.decode("utf-8"),
        "isBase64Encoded": False,
    }
