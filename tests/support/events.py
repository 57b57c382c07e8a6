"""Canonical events for process tests, normalised from the committed samples so they stay realistic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from socialdesk.model import SocialEvent
from socialdesk.platforms.meta import MetaWebhook
from socialdesk.platforms.x import XWebhook
from tests.support.webhooks import sample_body

RECEIVED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def sample_event(name: str, index: int = 0) -> SocialEvent:
    webhook = XWebhook() if name.startswith("x-") else MetaWebhook()
    return webhook.normalise(sample_body(name), RECEIVED).events[index]


def follow_up(event: SocialEvent, number: int, *, minutes: int = 5, **changes: Any) -> SocialEvent:
    """Another message in the same conversation, `number` identifying it."""
    message_id = f"{event.message_id}-followup-{number}"
    return msgspec.structs.replace(
        event,
        event_id=message_id,
        message_id=message_id,
        text=f"follow-up {number}",
        created_at=event.created_at + timedelta(minutes=minutes * number),
        **changes,
    )
