"""Attack (issue 7, item 6): every customer message exactly once on the ticket, when words repeat and an answer is lost.

After a lost answer a retry looks for "a comment with the same words, author and visibility made since the event's first
try" (README). A 504 from Zendesk's gateway does not say the comment was made; if it was not, and the customer's next,
identical message ("?") is posted meanwhile, the retry takes that one for its own and adds nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from socialdesk.desk.port import DeskUnavailableError
from socialdesk.process.failures import RetryLaterError
from tests.support.events import sample_event
from tests.support.process_world import World, said


@pytest.mark.xfail(strict=True, reason="attack: a retry after a 504 finds the customer's next identical '?' and skips its own; one '?' is lost")
def test_two_identical_chasers_both_reach_the_ticket_when_the_first_ones_answer_is_lost() -> None:
    # Given a WhatsApp chat with a ticket
    world = World()
    first = sample_event("meta-whatsapp-text")
    world.handle(first)
    # When the customer chases with "?", and Zendesk's gateway answers 504 before the comment was made
    chase_1 = said(first, 1, "?", minutes=30)
    world.desk.failures.add("add_comment", DeskUnavailableError("Zendesk answered 504", uncertain=True))
    with pytest.raises(RetryLaterError):
        world.handle(chase_1)
    # And a minute later they chase again with "?", which is posted at once
    world.now += timedelta(minutes=1)
    chase_2 = said(first, 2, "?", minutes=31)
    world.handle(chase_2)
    # And the first chaser is retried after its backoff
    world.now += timedelta(minutes=1)
    world.handle(chase_1, attempt=2)
    # Then both are on the ticket: the customer wrote "?" twice (README: "a customer who writes '?' twice gets both")
    assert world.public_bodies(first.conversation_key) == [first.text, "?", "?"]
