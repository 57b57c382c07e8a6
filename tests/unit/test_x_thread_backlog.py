"""X threads out of order: the parent wait is measured from the reply's creation, not from when socialdesk received it."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from socialdesk.process.failures import RetryLaterError
from tests.support.events import sample_event
from tests.support.process_world import World
from tests.support.x_activity import settle


def test_a_customers_thread_reply_processed_before_its_parent_after_a_backlog_joins_the_same_ticket() -> None:
    # Given a customer's mention and, a minute later, their own reply under it (a two-post thread)
    mention = sample_event("x-mention")
    reply = msgspec.structs.replace(
        sample_event("x-reply"),
        in_reply_to=mention.message_id,
        created_at=mention.created_at + timedelta(minutes=1),
        text="@AcmeHelp and the tracking page is blank",
    )
    # And process runs 10 minutes behind (a burst against ProcessMaxConcurrency, or the function briefly failing)
    world = World()
    world.now = mention.created_at + timedelta(minutes=10)
    # When SQS (not FIFO) hands the reply over before the mention
    settle(world, [reply, mention])
    # Then both are on one ticket, as when they come in order (README: any order gives the same tickets)
    in_order = World()
    in_order.now = world.now
    settle(in_order, [mention, reply])
    assert len(in_order.desk.tickets) == 1
    assert len(world.desk.tickets) == 1


def test_a_thread_reply_processed_before_its_parent_within_five_minutes_waits_and_joins() -> None:
    # Given the same thread, processed promptly but reply first
    mention = sample_event("x-mention")
    reply = msgspec.structs.replace(sample_event("x-reply"), in_reply_to=mention.message_id, created_at=mention.created_at + timedelta(minutes=1))
    world = World()
    world.now = reply.created_at + timedelta(seconds=5)
    # When the reply comes first and the mention 20 s later
    with pytest.raises(RetryLaterError):
        world.handle(reply)
    world.now += timedelta(seconds=20)
    settle(world, [mention, reply])
    # Then one ticket holds both
    assert len(world.desk.tickets) == 1
