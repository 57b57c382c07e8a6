"""Attacks on "our own automatic messages never stop the clock" (issue 11), through the process use case on moto's table.

Our own sends are recognised only by the message ids the outbound function recorded. A Messenger echo of our own
acknowledgement that process handles before that record exists (the echo overtook the Send API's answer, or the answer
was lost after Meta accepted the message: README, "may not have been delivered") is taken for a person's reply.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import msgspec
import pytest

from tests.support.events import sample_event
from tests.support.sla_world import URGENT_TICKETS, OurSends, SlaWorld, sla_world


@pytest.fixture
def world() -> Iterator[SlaWorld]:
    with sla_world(URGENT_TICKETS) as built:
        yield built


@pytest.mark.parametrize(
    "recorded", ["before_the_echo", "after_the_echo", "never"], ids=["record_first", "echo_overtakes_the_record", "answer_lost_id_never_recorded"]
)
def test_the_echo_of_our_own_acknowledgement_never_stops_the_clock_whenever_outbound_records_its_id(world: SlaWorld, recorded: str) -> None:
    """Given an urgent Messenger message (6 minutes round the clock) and, a minute later, the echo of socialdesk's own
    automatic acknowledgement (Meta's `message_echoes`, carrying our app's `app_id`), processed before or after the
    outbound function recorded its message id (or never recorded, its answer lost after Meta accepted it)
    When the check runs 7 minutes after the message
    Then the conversation is escalated: nobody answered ("our own automatic messages ... never stop it")."""
    message, echo = sample_event("meta-messenger-message"), sample_event("meta-messenger-echo")
    echo = msgspec.structs.replace(echo, created_at=message.created_at + timedelta(minutes=1))
    sent = OurSends()
    handler = world.process(sent)
    world.now = message.created_at
    handler.handle(message, delivery_id="sqs-1")
    if recorded == "before_the_echo":
        sent.message_ids.add(echo.message_id)
    handler.handle(echo, delivery_id="sqs-2")
    if recorded == "after_the_echo":
        sent.message_ids.add(echo.message_id)
    world.now = message.created_at + timedelta(minutes=7)
    assert len(world.check().run().escalated) == 1


ROUND_THE_CLOCK = """
[zendesk]
subdomain = "acme"

[sla]
[[sla.policies]]
name = "everything"
first_response_minutes = 30
next_response_minutes = 30
[[sla.policies.ladder]]
priority = "high"
"""


@pytest.mark.parametrize(("brand_replied", "escalated"), [(True, 0), (False, 1)])
def test_a_reply_the_brand_typed_in_the_x_app_stops_an_x_mention_s_clock(brand_replied: bool, escalated: int) -> None:
    """Given an X mention at 14:01:46 (30 minutes round the clock) and, 18 minutes later, the brand's reply to it typed
    in X's own app (not one of our sends: `tweet_create_events` from the brand's account)
    When the check runs 31 minutes after the mention
    Then the conversation is not escalated (and, without that reply, it is): a person's answer wherever they answer."""
    with sla_world(ROUND_THE_CLOCK) as world:
        mention, reply = sample_event("x-mention"), sample_event("x-brand-reply")
        handler = world.process(OurSends())
        world.now = mention.created_at
        handler.handle(mention, delivery_id="sqs-1")
        if brand_replied:
            world.now = reply.created_at
            handler.handle(reply, delivery_id="sqs-2")
        world.now = mention.created_at + timedelta(minutes=31)
        assert len(world.check().run().escalated) == escalated
