"""Attack (issue 7, items 6 and 7): a returning customer's message after one transient Zendesk error.

The conversation, message and customer records live 400 days after the last message (store.dynamodb.RECORD_RETENTION);
the conversation's old ticket stays in Zendesk with the conversation key as its `external_id`. When the customer writes
again after that, the first try claims the conversation (recording itself as the possible creator) and is interrupted
before the ticket exists: a 503, a 429, a timeout. Its retry then "recovers" the ticket it may have created by looking
up the external id, finds the old ticket and takes it for its own: a closed one refuses the context note and the message
is dead-lettered as refused for good; an open one gets the context note, and the customer's words reach no ticket.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from socialdesk.desk.port import DeskError, DeskRateLimitedError, DeskUnavailableError
from socialdesk.process.failures import RetryLaterError
from tests.support.events import sample_event
from tests.support.process_world import World, said

FAILURES: dict[str, DeskError] = {
    "503": DeskUnavailableError("Zendesk answered 503"),
    "429": DeskRateLimitedError(30),
    "timeout": DeskUnavailableError("Zendesk unreachable: ReadTimeout", uncertain=True),
}


@pytest.mark.parametrize(("old_status", "failure"), [("closed", "503"), ("closed", "429"), ("closed", "timeout"), ("hold", "503")])
def test_a_customer_back_after_the_records_expired_gets_a_ticket_with_their_words_after_one_transient_error(old_status: str, failure: str) -> None:
    # Given a WhatsApp customer whose ticket of long ago is closed (or was left on hold), and whose conversation, message and
    # customer records the table's TTL has since removed (400 days after their last message)
    world = World()
    first = sample_event("meta-whatsapp-text")
    world.handle(first)
    world.ticket_of(first).status = old_status
    world.store.conversations.clear()
    world.store.messages.clear()
    world.store.customers.clear()
    world.now += timedelta(days=401)
    back = said(first, 1, "Hola otra vez: el pedido #7781 tampoco llegó", minutes=401 * 24 * 60)
    # When they write again, and Zendesk fails once before the new ticket exists (on the requester's upsert)
    world.desk.failures.add("upsert_user", FAILURES[failure])
    with pytest.raises(RetryLaterError):
        world.handle(back)
    # And the event is retried a couple of minutes later, Zendesk healthy again
    world.now += timedelta(minutes=2)
    world.handle(back, attempt=2)
    # Then their words are a public comment on an open ticket (a new one, or the old one reopened)
    holding = [ticket for ticket in world.desk.tickets.values() if any(comment.body == back.text for comment in ticket.comments if comment.public)]
    assert len(holding) == 1
    assert holding[0].status != "closed"
