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


TYPED_ECHO = "meta-messenger-echo:typed"
"""The sample Messenger echo as a person typing in the Page inbox sends it: without socialdesk's send metadata (the
recorded sample carries `autoack:...`, the echo of one of our own acknowledgements)."""


def sample_event(name: str, index: int = 0) -> SocialEvent:
    if name == TYPED_ECHO:
        return msgspec.structs.replace(sample_event("meta-messenger-echo", index), sent_by_us=False)
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
