"""Attack 9b: the Task links the ticket that holds the customer's words (README, How it works inside, 2 Process: "the Task
links the ticket that holds them (the conversation's, or a new or follow-up one), so Salesforce waits for that one Zendesk
call"), also when that Zendesk call fails for now and is retried. A follow-up on a ticket an agent closed (or deleted) lands
on a new ticket; a Task written beside a failed Zendesk call links the old one for good (Tasks are not revisited)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from socialdesk.desk.port import DeskRateLimitedError, DeskUnavailableError
from socialdesk.process.failures import RetryLaterError, WaitError
from tests.support.events import follow_up, sample_event
from tests.support.process_world import World


@pytest.fixture
def world() -> World:
    return World()


def _task_links(world: World) -> list[str | None]:
    return [activity.ticket_url for activity in world.crm.activities.values()]


def _assert_task_links_ticket_holding(world: World, words: str) -> None:
    holding = [ticket.id for ticket in world.desk.tickets.values() if any(c.body == words for c in ticket.comments)]
    assert len(holding) == 1, f"{words!r} is on tickets {holding}"
    links = _task_links(world)
    assert len(links) == 2, links
    assert links[1] is not None and links[1].endswith(f"/{holding[0]}"), f"the Task links {links[1]}, its words are on ticket {holding[0]}"


def test_a_follow_ups_task_links_the_follow_up_ticket_when_zendesk_failed_for_now_opening_it(world: World) -> None:
    """Given a Messenger conversation whose ticket an agent has since closed
    When the customer writes again, and Zendesk answers 503 to the follow-up ticket's creation (the retry creates it)
    Then the Salesforce Task of that message links the follow-up ticket holding its words, not the closed one: while
    Zendesk is failing for now the Task waits for the retry (README: "the Task waits for the retry rather than go without
    its link"); a link to the closed ticket is a wrong link that is never corrected."""
    first = sample_event("meta-messenger-message")
    world.handle(first)
    world.ticket_of(first).status = "closed"
    event = follow_up(first, 1)
    world.desk.failures.add("create_ticket", DeskUnavailableError("503 Service Unavailable"))
    with pytest.raises(RetryLaterError):
        world.handle(event)
    world.now += timedelta(minutes=2)
    world.handle(event, attempt=2)
    _assert_task_links_ticket_holding(world, "follow-up 1")


def test_a_follow_ups_task_links_the_follow_up_ticket_when_its_comment_waited_out_a_429(world: World) -> None:
    """Given a WhatsApp chat whose ticket an agent has since closed
    When the customer writes again, and Zendesk answers the comment 429 (the event waits out Retry-After, then its retry
    finds the ticket closed and opens a follow-up ticket)
    Then the Task links the follow-up ticket, where the words are, not the closed ticket the comment never reached."""
    first = sample_event("meta-whatsapp-text")
    world.handle(first)
    world.ticket_of(first).status = "closed"
    event = follow_up(first, 1)
    world.desk.failures.add("add_comment", DeskRateLimitedError(30))
    with pytest.raises(WaitError):
        world.handle(event)
    world.now += timedelta(seconds=31)
    world.handle(event, attempt=2)
    _assert_task_links_ticket_holding(world, "follow-up 1")


def test_a_follow_ups_task_links_the_fresh_ticket_when_its_comment_on_a_deleted_ticket_first_met_a_503(world: World) -> None:
    """Given a Messenger conversation whose ticket was deleted in Zendesk
    When the customer writes again, and Zendesk's first answer to the comment is a 503 (the retry meets the 404 and opens
    a fresh ticket)
    Then the Task links the fresh ticket, not the deleted one (a dead link for the Salesforce user)."""
    first = sample_event("meta-messenger-message")
    world.handle(first)
    del world.desk.tickets[world.ticket_of(first).id]
    event = follow_up(first, 1)
    world.desk.failures.add("add_comment", DeskUnavailableError("503 Service Unavailable"))
    with pytest.raises(RetryLaterError):
        world.handle(event)
    world.now += timedelta(minutes=2)
    world.handle(event, attempt=2)
    _assert_task_links_ticket_holding(world, "follow-up 1")


def test_a_follow_ups_task_on_an_open_ticket_still_links_it_when_the_comment_waited_out_a_429(world: World) -> None:
    """Given a WhatsApp chat whose ticket is open
    When the customer writes again and the comment is answered 429 (retried after Retry-After)
    Then there is one Task for the message, linking the conversation's ticket where the comment finally landed (holds)."""
    first = sample_event("meta-whatsapp-text")
    world.handle(first)
    event = follow_up(first, 1)
    world.desk.failures.add("add_comment", DeskRateLimitedError(30))
    with pytest.raises(WaitError):
        world.handle(event)
    world.now += timedelta(seconds=31)
    world.handle(event, attempt=2)
    _assert_task_links_ticket_holding(world, "follow-up 1")
