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
    # A customer named by business-scoped user id: with her number, by username alone, the brand's Business app reply, a failed status
    "whatsapp-bsuid": ["meta-whatsapp-text-bsuid", "meta-whatsapp-username", "meta-whatsapp-smb-echo", "meta-whatsapp-status-failed-bsuid"],
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


def test_a_crash_at_any_call_never_splits_a_phone_keyed_chat_when_the_customers_bsuid_appears() -> None:
    # Given a chat keyed by phone before BSUIDs, then the customer with BSUID and number, by username alone, and a failed status
    # (in this order: only a message carrying both ids links the two, see process/aliases.py)
    events = [sample_event(f"meta-whatsapp-{name}") for name in ("text", "text-bsuid", "username", "status-failed-bsuid")]
    golden = seen(run(events)[0])
    assert list(golden["tickets"]) == ["whatsapp:106540352242922:chat:16505551234"]
    # When the process dies before or after any one call, then SQS redelivers
    crashes = range(1, run(events)[1].count + 1)
    broken = [(at, after) for after in (False, True) for at in crashes if seen(run(events, at=at, after=after)[0]) != golden]
    # Then every run ends with the one ticket, its comments and notes, and the Tasks
    assert broken == []
