"""Attack (issue 7, item 5): any delivery order gives the same tickets and notes, also after a ticket was closed.

A brand reply delivered before the customer message it answers finds the conversation's closed ticket, fails to add
its note there (closed tickets take no comments) and is marked done: "nothing left to annotate". The customer message
then opens the follow-up ticket, which never gets the reply the agent needs to see.
"""

from __future__ import annotations

from datetime import timedelta

import msgspec

from socialdesk.model import SocialEvent
from tests.support.events import TYPED_ECHO, sample_event
from tests.support.process_world import World


def closed_conversation() -> tuple[World, SocialEvent]:
    """A Messenger conversation whose ticket an agent solved and Zendesk then closed."""
    world = World()
    first = sample_event("meta-messenger-message")
    world.handle(first)
    world.ticket_of(first).status = "closed"
    return world, first


def back_again(first: SocialEvent) -> tuple[SocialEvent, SocialEvent]:
    """A week later the customer writes again, and the brand answers that message on Messenger (an echo)."""
    message = msgspec.structs.replace(
        first, event_id="m_back", message_id="m_back", text="It happened again with order #5120", created_at=first.created_at + timedelta(days=7)
    )
    echo = sample_event(TYPED_ECHO)
    reply = msgspec.structs.replace(
        echo,
        event_id="m_answer",
        message_id="m_answer",
        text="Sorry to hear! Checking #5120 now.",
        created_at=message.created_at + timedelta(minutes=3),
    )
    assert reply.conversation_key == message.conversation_key and reply.from_brand
    return message, reply


def notes_on_open_tickets(world: World) -> list[str]:
    return [comment.body for ticket in world.desk.tickets.values() if ticket.status != "closed" for comment in ticket.comments if not comment.public]


def test_a_brand_reply_delivered_before_the_message_that_reopens_a_closed_conversation_is_noted_on_the_follow_up() -> None:
    # Given two identical closed conversations
    in_order, first = closed_conversation()
    reordered, _ = closed_conversation()
    message, reply = back_again(first)
    # When one gets the customer's new message and then the brand's answer, the other the answer first (SQS is not FIFO)
    for event in (message, reply):
        in_order.now = event.created_at
        in_order.handle(event)
    for event in (reply, message):
        reordered.now = message.created_at + timedelta(minutes=5)
        reordered.handle(event)
    reordered.handle_released()  # the reply, parked until the follow-up ticket existed, comes back through the queue
    # Then both end the same: the follow-up ticket shows the brand's answer (README: any order gives the same notes)
    assert any("Checking #5120" in body for body in notes_on_open_tickets(in_order))
    assert any("Checking #5120" in body for body in notes_on_open_tickets(reordered))
