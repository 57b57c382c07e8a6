"""Attack 9: a direct message leaves no record of its id (README, Resources worth knowing), where it was once kept 45 days.
What names a chat's older message (an unsend, an edit, a quote) must still find the conversation from what its payload names."""

from __future__ import annotations

from datetime import timedelta

import msgspec

from socialdesk.model import EventKind
from socialdesk.platforms.meta import MetaWebhook
from socialdesk.store.port import message_anchor
from tests.support.events import RECEIVED, sample_event
from tests.support.process_world import World
from tests.support.webhooks import sample_body


def test_an_instagram_dm_unsent_60_days_later_is_noted_on_its_ticket_after_its_id_expired() -> None:
    """Given an Instagram DM processed on day 0 (its ticket opened), whose message id the table does not keep (or let expire)
    When the customer unsends it on day 60
    Then the deletion still finds its conversation (the chat's participants name it): a note on the same ticket, tagged
    socialdesk_deleted, and no new ticket."""
    world = World()
    message = sample_event("meta-instagram-dm")
    world.handle(message)
    ticket = world.ticket_of(message)
    world.store.messages.pop(message_anchor(message.platform, message.account_id, message.message_id), None)  # DynamoDB TTL, if kept
    world.now += timedelta(days=60)
    payload = sample_body("meta-instagram-dm")
    payload["entry"][0]["messaging"][0]["message"]["is_deleted"] = True
    [deleted] = MetaWebhook().normalise(payload, RECEIVED + timedelta(days=60)).events
    assert deleted.kind is EventKind.DELETE
    deleted = msgspec.structs.replace(deleted, created_at=message.created_at + timedelta(days=60))
    world.handle(deleted)
    world.handle_released()
    assert len(world.desk.tickets) == 1
    assert "socialdesk_deleted" in ticket.tags
    assert len([c for c in ticket.comments if not c.public]) >= 1
