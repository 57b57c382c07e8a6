"""Held (attack 7): two deliveries worked at the same moment by two containers, interleaved at every store, Zendesk,
Salesforce and queue call, end as when they run one after the other.

The crash harness runs events one at a time; this one runs each event in its own worker and switches between them at
each single call of either (every preemption point), then lets waits and released parked events settle.
"""

from __future__ import annotations

import pytest

from socialdesk.model import SocialEvent
from tests.support.events import sample_event
from tests.support.interleave import interleaved, preemption_schedules, seen
from tests.support.process_world import said


def scenarios() -> dict[str, tuple[list[SocialEvent], list[str] | None]]:
    whatsapp = sample_event("meta-whatsapp-text")
    return {
        "two first messages of one new chat": ([whatsapp, said(whatsapp, 1, "and the tracking link is broken", minutes=1)], None),
        "a message and its duplicate delivery": ([whatsapp, whatsapp], ["sqs-a", "sqs-b"]),
        "a message and the failed delivery of the reply": ([whatsapp, sample_event("meta-whatsapp-status-failed")], None),
        "a Messenger message and the Page's echo": ([sample_event("meta-messenger-message"), sample_event("meta-messenger-echo")], None),
        "a Facebook comment and its edit": ([sample_event("meta-fb-comment"), sample_event("meta-fb-comment-edited")], None),
        "a Facebook comment and the Page's reply": ([sample_event("meta-fb-comment"), sample_event("meta-fb-page-reply")], None),
        "an X mention and the brand's reply": ([sample_event("x-mention"), sample_event("x-brand-reply")], None),
        "an X mention and its deletion": ([sample_event("x-mention"), sample_event("x-tweet-delete")], None),
    }


@pytest.mark.parametrize("name", scenarios())
def test_two_concurrent_deliveries_end_as_when_they_come_one_after_the_other(name: str) -> None:
    # Given two events and what agents see when the first is done before the second starts
    events, deliveries = scenarios()[name]
    golden_events = events[:1] if deliveries else events  # a duplicate delivery leaves what the one event leaves
    golden = seen(interleaved(golden_events, [0] * 200 + [1] * 200, deliveries[:1] if deliveries else None)[0])
    _, steps = interleaved(events, [], deliveries)
    # When the two run at once, one preempted by the other at any single call
    broken = [
        schedule[:40] for schedule in preemption_schedules(steps[0] + 1, steps[1] + 1) if seen(interleaved(events, schedule, deliveries)[0]) != golden
    ]
    # Then every interleaving ends the same: tickets, comments, notes, tags, Tasks and response clock
    assert broken == []
