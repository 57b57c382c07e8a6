"""Which messages stop the response clock, through the process use case on moto's table: the brand's own reply typed in
WhatsApp Business stops it; socialdesk's own automatic message, coming back as the same kind of echo, never does."""

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


@pytest.mark.parametrize(("ours", "escalated"), [(True, 1), (False, 0)])
def test_only_a_person_s_echo_stops_the_clock_never_our_own_automatic_message(world: SlaWorld, ours: bool, escalated: int) -> None:
    # Given a WhatsApp message (an urgent ticket: 6 minutes), then an echo of a message from the business number 1 minute later:
    # socialdesk's own acknowledgement (ours) or the brand typing in the WhatsApp Business app
    message, echo = sample_event("meta-whatsapp-text"), sample_event("meta-whatsapp-smb-echo")
    echo = msgspec.structs.replace(echo, created_at=message.created_at + timedelta(minutes=1))
    handler = world.process(OurSends(echo.message_id) if ours else OurSends())
    world.now = message.created_at
    handler.handle(message, delivery_id="sqs-1")
    handler.handle(echo, delivery_id="sqs-2")
    # When the check runs 7 minutes after the message
    world.now = message.created_at + timedelta(minutes=7)
    # Then the clock ran on past our own message and breached, but stopped at the brand's
    assert len(world.check().run().escalated) == escalated
