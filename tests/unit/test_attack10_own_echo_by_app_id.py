"""Attack on issue 10's "no loops, never our own sends": echoes recognised by Messenger/Instagram `app_id`, not only by id.

Issue 10: "Never acknowledge ... echoes of our own sends (match the returned message id, Messenger/Instagram `app_id`,
WhatsApp `wamid`)", and an automatic answer "never counts as a human answer". README (outbound): after a lost answer (a
read timeout, a 5xx) the send is `unknown` and its platform message id is never recorded; and the echo of a send may
reach process before outbound has recorded its id. Only the `app_id` of the echo then says it was ours.
"""

from __future__ import annotations

from datetime import timedelta

from tests.support.process_world import NOW
from tests.unit.test_acknowledgement import AckWorld, at_now

OUR_META_APP_ID = "1517776481860111"  # the app the webhook belongs to, which outbound sends with


def test_the_messenger_echo_of_our_acknowledgement_whose_id_was_not_recorded_never_counts_as_a_person_answering() -> None:
    """Given a Messenger customer acknowledged by socialdesk, whose send's answer was lost (so no message id is recorded)
    When Messenger delivers the echo of that acknowledgement, sent by our own app (app_id)
    Then it is not taken for a person's reply: no brand-reply note with the text, and the customer still waits for a person."""
    world = AckWorld()
    customer = at_now("meta-messenger-message")
    world.handle(customer)
    [job] = world.outbound.jobs
    ticket = world.ticket_of(customer)
    comments_before = len(ticket.comments)
    echo = at_now(
        "meta-messenger-echo",
        created_at=NOW + timedelta(seconds=2),
        text=job.text,
        event_id="m_OurAckUnrecorded",
        message_id="m_OurAckUnrecorded",
        source_app_id=OUR_META_APP_ID,
    )
    assert echo.from_brand and echo.conversation_key == customer.conversation_key
    world.handle(echo)
    conversation = world.store.conversation(customer.conversation_key)
    assert conversation is not None
    assert conversation.activity.first_response_at is None, "our automatic message counted as a human answer"
    assert conversation.activity.waiting_since == NOW
    assert len(world.ticket_of(customer).comments) == comments_before
