"""Customers (and brands) repeat themselves: "thanks", "?", "hello??", a canned "Please DM us". Each message is its own
event and must appear on the ticket exactly once, also when its first try was interrupted before anything was posted.
"""

from __future__ import annotations

import msgspec
import pytest

from socialdesk.desk.port import DeskRateLimitedError, DeskUnavailableError
from socialdesk.process.failures import RetryLaterError
from tests.support.events import TYPED_ECHO, sample_event
from tests.support.process_world import World, said


def test_a_customer_who_writes_the_same_words_twice_gets_both_messages_on_the_ticket_after_a_retry() -> None:
    # Given a WhatsApp chat with a ticket, where the customer wrote "?" to chase an answer
    world = World()
    first = sample_event("meta-whatsapp-text")
    world.handle(first)
    chase_1 = said(first, 1, "?")
    world.handle(chase_1)
    # When an hour later they chase again with the same "?", and Zendesk answers 503 before the comment is added
    chase_2 = said(first, 2, "?", minutes=60)
    world.desk.failures.add("add_comment", DeskUnavailableError("503 Service Unavailable"))
    with pytest.raises(RetryLaterError):
        world.handle(chase_2)
    # And the event is retried once Zendesk is back
    world.handle(chase_2, attempt=2)
    # Then both chasers are on the ticket (README: each message appears exactly once)
    assert world.public_bodies(first.conversation_key) == [first.text, "?", "?"]


def test_a_repeated_first_message_retried_after_a_rate_limit_is_still_posted() -> None:
    # Given a Messenger customer whose first message "Hello?" opened the ticket
    world = World()
    first = msgspec.structs.replace(sample_event("meta-messenger-message"), text="Hello?")
    world.handle(first)
    # When they write "Hello?" again and Zendesk rate-limits that event's comment
    again = said(first, 1, "Hello?")
    world.desk.failures.add("add_comment", DeskRateLimitedError(30))
    with pytest.raises(RetryLaterError):
        world.handle(again)
    world.now = world.now.replace(minute=5)
    world.handle(again, attempt=1)
    # Then the second "Hello?" is a comment of its own
    assert world.public_bodies(first.conversation_key) == ["Hello?", "Hello?"]


def test_a_brands_repeated_canned_reply_is_noted_each_time_after_a_retry() -> None:
    # Given a Messenger conversation with a ticket, and the brand's canned echo "Thanks, we are on it!"
    world = World()
    message = sample_event("meta-messenger-message")
    world.handle(message)
    echo = msgspec.structs.replace(sample_event(TYPED_ECHO), text="Thanks, we are on it!", permalink=None)
    assert echo.conversation_key == message.conversation_key
    world.handle(echo)
    # When the brand sends the same canned reply again later, and Zendesk fails once on that note
    again = msgspec.structs.replace(echo, event_id=echo.event_id + "-2", message_id=echo.message_id + "-2")
    world.desk.failures.add("add_comment", DeskUnavailableError("503 Service Unavailable"))
    with pytest.raises(RetryLaterError):
        world.handle(again)
    world.handle(again, attempt=2)
    # Then both replies are notes on the ticket
    notes = [body for body in world.private_bodies(message.conversation_key) if body.startswith("Replied on")]
    assert len(notes) == 2


def test_repeated_words_without_any_fault_are_each_posted() -> None:
    # Given a ticket; When the customer writes the same words three times and nothing fails
    world = World()
    first = sample_event("meta-whatsapp-text")
    world.handle(first)
    for number in (1, 2, 3):
        world.handle(said(first, number, "ok"))
    # Then each is posted (the comment check only runs on retries)
    assert world.public_bodies(first.conversation_key).count("ok") == 3
