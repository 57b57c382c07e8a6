"""Held: a crash (dead Lambda, no `finally`) before or after any single call, in any delivery order, changes nothing agents see."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest

from tests.support.crash_harness import run
from tests.support.events import sample_event
from tests.support.process_world import World

SCENARIOS = {
    "facebook": ["meta-fb-comment", "meta-fb-page-reply", "meta-fb-comment-edited", "meta-fb-comment-removed"],
    "facebook-thread": ["meta-fb-comment", "meta-fb-comment-reply", "meta-fb-page-reply"],
    "whatsapp": ["meta-whatsapp-text", "meta-whatsapp-image", "meta-whatsapp-status-failed"],
    "messenger": ["meta-messenger-message", "meta-messenger-echo"],
    "x-dm": ["x-dm", "x-dm-brand"],
}


def seen(world: World) -> dict[str, Any]:
    """Comments, notes and tags per conversation, Tasks per event, the response clock (the first message's subject aside)."""
    tickets: dict[str, Any] = {}
    for ticket in world.desk.tickets.values():
        comments = Counter((c.public, c.body) for c in ticket.comments if not c.body.startswith("Social context"))
        tickets.setdefault(str(ticket.external_id), []).append((comments, sorted(ticket.tags)))
    clocks = {key: conversation.activity for key, conversation in world.store.conversations.items()}
    return {"tickets": tickets, "tasks": Counter(a.event_key for a in world.crm.activities.values()), "clocks": clocks}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_crash_at_any_call_in_any_order_gives_the_same_tickets_notes_tasks_and_clock(scenario: str) -> None:
    # Given a conversation's events, and what agents see when they come in order without faults
    events = [sample_event(name) for name in SCENARIOS[scenario]]
    golden = seen(run(events)[0])
    broken: list[tuple[list[Any], tuple[int, bool] | None]] = []
    # When they come in every order, and the process dies before or after any one call, then SQS redelivers
    for order in itertools.permutations(events):
        clean, crasher = run(list(order))
        if seen(clean) != golden:
            broken.append(([e.kind for e in order], None))
        for after, at in itertools.product((False, True), range(1, crasher.count + 1)):
            if seen(run(list(order), at=at, after=after)[0]) != golden:
                broken.append(([e.kind for e in order], (at, after)))
    # Then every run ends the same
    assert broken == []
