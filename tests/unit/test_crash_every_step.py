"""Held: a crash (dead Lambda, no `finally`) before or after any single call, in any delivery order, changes nothing agents see."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from socialdesk.model import SocialEvent
from socialdesk.process.sides import Together, side_by_side
from tests.support.crash_harness import in_order, run
from tests.support.events import sample_event
from tests.support.process_world import World
from tests.support.x_activity import BRAND, deletion, post

SCENARIOS = {
    "facebook": ["meta-fb-comment", "meta-fb-page-reply", "meta-fb-comment-edited", "meta-fb-comment-removed"],
    "facebook-thread": ["meta-fb-comment", "meta-fb-comment-reply", "meta-fb-page-reply"],
    "whatsapp": ["meta-whatsapp-text", "meta-whatsapp-image", "meta-whatsapp-status-failed"],
    # A customer named by business-scoped user id: with her number, by username alone, the brand's Business app reply, a failed status
    "whatsapp-bsuid": ["meta-whatsapp-text-bsuid", "meta-whatsapp-username", "meta-whatsapp-smb-echo", "meta-whatsapp-status-failed-bsuid"],
    "messenger": ["meta-messenger-message", "meta-messenger-echo"],
    "x-dm": ["x-dm", "x-dm-brand"],
    # Account Activity: a mention, the brand's reply, the customer's reply to that, the mention deleted
    "x-thread": ["x-mention", "x-brand-reply", "x-reply", "x-tweet-delete"],
}
ORIGINAL, EDITED = "2080765813578191303", "2080766999999999999"
# X Activity API threads built by the real normaliser (tests/support/x_activity.py): edits give a post a new id.
X_SCENARIOS: dict[str, Callable[[], list[SocialEvent]]] = {
    # A mention, its edit, the brand's reply and the customer's follow-up, both under the edited version
    "x-edited-mention": lambda: [
        post(ORIGINAL, "@AcmeHelp my order never arrived", minutes=0),
        post(EDITED, "@AcmeHelp my order #4411 never arrived", minutes=2, edits=[ORIGINAL]),
        post("2080767000000000001", "@user_2222 Sorry! Please DM us.", minutes=10, author=BRAND, replies_to=EDITED),
        post("2080767100000000001", "@AcmeHelp still nothing", minutes=12, replies_to=EDITED),
    ],
    # An edit of a post that never came (the customer added the @mention), the brand's reply to it, its deletion
    "x-edit-of-a-post-never-seen": lambda: [
        post(EDITED, "@AcmeHelp my order #4411 never arrived", minutes=2, edits=[ORIGINAL]),
        post("2080767000000000001", "@user_2222 Sorry! Please DM us.", minutes=10, author=BRAND, replies_to=EDITED),
        deletion(EDITED),
    ],
    # The brand's broadcast, a customer's reply to it, and the brand's answer to the customer
    "x-broadcast": lambda: [
        post("2080761390344937796", "Our spring sale starts today!", minutes=0, author=BRAND),
        post("2080761400000000001", "@AcmeHelp the code is refused", minutes=3, replies_to="2080761390344937796"),
        post("2080761500000000001", "@user_2222 Fixed, try again!", minutes=9, author=BRAND, replies_to="2080761400000000001"),
    ],
}


def seen(world: World) -> dict[str, Any]:
    """Comments, notes and tags per conversation, Tasks per event, the response clock (the first message's subject aside)."""
    tickets: dict[str, Any] = {}
    for ticket in world.desk.tickets.values():
        comments = Counter((c.public, c.body) for c in ticket.comments if not c.body.startswith("Social context"))
        tickets.setdefault(str(ticket.external_id), []).append((comments, sorted(ticket.tags)))
    clocks = {key: conversation.activity for key, conversation in world.store.conversations.items()}
    return {"tickets": tickets, "tasks": Counter(a.event_key for a in world.crm.activities.values()), "clocks": clocks}


def scenario_events(scenario: str) -> list[SocialEvent]:
    return X_SCENARIOS[scenario]() if scenario in X_SCENARIOS else [sample_event(name) for name in SCENARIOS[scenario]]


@pytest.mark.parametrize("sides", [in_order, side_by_side])
@pytest.mark.parametrize("scenario", [*SCENARIOS, *X_SCENARIOS])
def test_a_crash_at_any_call_in_any_order_gives_the_same_tickets_notes_tasks_and_clock(scenario: str, sides: Together) -> None:
    # Given a conversation's events, and what agents see when they come in order without faults
    events = scenario_events(scenario)
    golden = seen(run(events)[0])
    broken: list[tuple[list[Any], tuple[int, bool] | None]] = []
    # When they come in every order, a message's Zendesk and Salesforce sides one after the other or in the function's
    # threads (any interleaving), and the process dies before or after any one call, then SQS redelivers
    for order in itertools.permutations(events):
        clean, crasher = run(list(order), together=sides)
        if seen(clean) != golden:
            broken.append(([e.kind for e in order], None))
        for after, at in itertools.product((False, True), range(1, crasher.count + 1)):
            if seen(run(list(order), at=at, after=after, together=sides)[0]) != golden:
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
