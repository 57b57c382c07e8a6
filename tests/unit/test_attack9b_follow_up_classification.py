"""Attack 9b: a follow-up's classification after its comment (README, How it works inside, 2 Process: "adds a follow-up's
classification after its comment, and only the tags the ticket lacks, as Zendesk's answer to the comment shows them ...
(and no priority read when the ticket's priority is as high already)"; "a retry after the comment was made adds them all
again ... and raises a lower priority"), counted call by call and under a crash, a 429 and an agent's change between tries."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from socialdesk.desk.port import DeskRateLimitedError, DeskUnavailableError
from socialdesk.process.failures import PermanentFailureError, RetryLaterError, WaitError
from tests.support.events import follow_up
from tests.support.process_fakes import CrashError
from tests.unit.test_acknowledgement import AckWorld, at_now

CALM = "Hola, tengo una pregunta sobre mi cuenta"
ANGRY = "Esto es URGENTE, quiero un reembolso YA 😡 estafa"


def _desk_calls_of(world: AckWorld, event: Any, *, attempt: int = 1) -> Counter[str]:
    before = Counter(world.desk.calls)
    world.handle(event, attempt=attempt)
    return Counter(world.desk.calls) - before


def test_a_follow_up_the_ticket_already_describes_costs_one_zendesk_call() -> None:
    """Given a WhatsApp ticket opened by a calm Spanish question (its language, sentiment and priority tags on it)
    When the customer follows up with another calm Spanish question
    Then Zendesk is called once for it (the comment): no tags call, no priority read."""
    world = AckWorld()
    first = at_now("meta-whatsapp-text", text=CALM)
    world.handle(first)
    world.now += timedelta(minutes=2)
    calls = _desk_calls_of(world, msgspec.structs.replace(follow_up(first, 1), text="Y otra pregunta sobre mi cuenta, por favor"))
    assert calls == Counter({"add_comment": 1}), calls


def test_an_angrier_follow_up_on_a_ticket_an_agent_made_urgent_reads_no_priority() -> None:
    """Given a WhatsApp ticket an agent has set to urgent
    When the customer follows up angrily (a negative, urgent-keyword message)
    Then the ticket stays urgent, gains the tags it lacks in one call, and no priority read is made (the comment's answer
    shows urgent already)."""
    world = AckWorld()
    first = at_now("meta-whatsapp-text", text=CALM)
    world.handle(first)
    world.ticket_of(first).priority = "urgent"
    world.now += timedelta(minutes=2)
    calls = _desk_calls_of(world, msgspec.structs.replace(follow_up(first, 1), text=ANGRY))
    assert calls["raise_priority"] == 0 and calls["add_tags"] == 1, calls
    ticket = world.ticket_of(first)
    assert ticket.priority == "urgent"
    assert {"sentiment_negative", "priority_signal_urgent_keywords"} <= set(ticket.tags)


def test_a_lambda_dying_between_a_follow_ups_comment_and_its_tags_leaves_one_comment_and_all_tags() -> None:
    """Given a calm WhatsApp ticket and an angry follow-up
    When the Lambda dies (no `finally`) as Zendesk is asked for the follow-up's tags, after its comment was made, and SQS
    redelivers it 6 minutes later to a new container, an agent having meanwhile removed nothing and raised nothing
    Then the ticket holds the follow-up's words once, its tags and the urgent priority; one Task for each message."""
    world = AckWorld()
    first = at_now("meta-whatsapp-text", text=CALM)
    world.handle(first)
    world.now += timedelta(minutes=2)
    event = msgspec.structs.replace(follow_up(first, 1), text=ANGRY)
    add_tags = world.desk.add_tags

    def dying(*args: Any, **kwargs: Any) -> None:
        world.store.dead = True
        raise CrashError("Lambda timed out while Zendesk took the tags")

    world.desk.add_tags = dying  # type: ignore[method-assign]
    with pytest.raises(CrashError):
        world.handle(event)
    world.desk.add_tags = add_tags  # type: ignore[method-assign]
    world.store.dead = False
    world.now += timedelta(minutes=6)
    world.process = world.fresh_process()
    world.handle(event, attempt=2)
    ticket = world.ticket_of(first)
    assert [c.body for c in ticket.comments if c.public].count(ANGRY) == 1
    assert {"sentiment_negative", "priority_signal_urgent_keywords"} <= set(ticket.tags)
    assert ticket.priority == "urgent"
    tasks = Counter(activity.event_key for activity in world.crm.activities.values())
    assert sorted(tasks.values()) == [1, 1], tasks


def test_a_retry_after_a_429_on_the_tags_never_lowers_a_priority_an_agent_raised_meanwhile() -> None:
    """Given a calm WhatsApp ticket and a follow-up whose sentiment is negative (its priority high, not urgent)
    When Zendesk answers that follow-up's tags call 429, an agent sets the ticket to urgent during Retry-After, and the
    retry adds all the tags again (README: "a retry after the comment was made adds them all again")
    Then the ticket stays urgent, the comment is there once and the tags are on it."""
    world = AckWorld()
    first = at_now("meta-whatsapp-text", text=CALM)
    world.handle(first)
    world.now += timedelta(minutes=2)
    event = msgspec.structs.replace(follow_up(first, 1), text="Esto es terrible, muy mal servicio 😡")
    world.desk.failures.add("add_tags", DeskRateLimitedError(30))
    with pytest.raises(WaitError):
        world.handle(event)
    world.ticket_of(first).priority = "urgent"
    world.now += timedelta(seconds=31)
    calls = _desk_calls_of(world, event, attempt=2)
    ticket = world.ticket_of(first)
    assert ticket.priority == "urgent"
    assert "sentiment_negative" in ticket.tags
    assert [c.body for c in ticket.comments if c.public].count(event.text) == 1
    assert calls["add_comment"] == 0, calls


def test_a_follow_ups_tags_retried_after_its_ticket_was_deleted_do_not_dead_letter_it() -> None:
    """Given an angry follow-up whose comment landed and whose tags call met a Zendesk outage (503: retried with backoff)
    When an agent deletes the ticket (spam, a duplicate) before the retry, which then meets Zendesk's 404 on the tags
    Then the event ends as its closed-ticket twin does (README: the classification is "best effort where Zendesk refuses
    them"; a note on a deleted ticket is dropped: "nothing left to annotate"): no dead-letter, which would page the
    operator and, moved back after "fixing the cause", fail the same way for ever (the retry never comments again)."""
    world = AckWorld()
    first = at_now("meta-whatsapp-text", text=CALM)
    world.handle(first)
    world.now += timedelta(minutes=2)
    event = msgspec.structs.replace(follow_up(first, 1), text=ANGRY)
    world.desk.failures.add("add_tags", DeskUnavailableError("503 Service Unavailable"))
    with pytest.raises(RetryLaterError):
        world.handle(event)
    del world.desk.tickets[world.ticket_of(first).id]
    world.now += timedelta(minutes=2)
    try:
        world.handle(event, attempt=2)
    except PermanentFailureError as exc:
        pytest.fail(f"the follow-up is dead-lettered: {exc}")
    assert len(world.crm.activities) == 2
