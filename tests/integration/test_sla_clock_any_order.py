"""The response clock is a function of the set of facts (customer messages, brand answers, solves, reopenings), like
`ConversationActivity` is of the message times: any delivery order gives the same clock (issue 11's attack, finding 1)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from socialdesk.model.desk_event import DeskEvent, DeskEventKind
from tests.support.sla_world import START, SlaWorld, sla_world

Fact = tuple[str, int]
"""(what, minute after 10:00): "customer", "brand", "solve" or "reopen"."""

FACTS = st.lists(st.tuples(st.sampled_from(["customer", "brand", "solve", "reopen"]), st.integers(0, 12)), min_size=1, max_size=7, unique=True)


def deliver(world: SlaWorld, key: str, facts: list[Fact]) -> tuple[object, ...]:
    """Deliver `facts` in the given order (a customer message first: it creates the conversation and its ticket) and
    read the clock: its start, whether it is a first response, and its due time."""
    for what, minute in facts:
        at = START + timedelta(minutes=minute)
        if what == "customer":
            world.customer_writes(key, at=at, priority="urgent")
        elif what == "brand":
            world.brand_echo(key, at=at)
        else:
            solved = what == "solve"
            event = DeskEvent(
                event_id=f"{key}:{what}:{minute}",
                kind=DeskEventKind.STATUS_CHANGED,
                ticket_id=world.tickets[key],
                occurred_at=at,
                ticket_external_id=key,
                status="solved" if solved else "open",
                previous_status="open" if solved else "solved",
            )
            world.desk_events().on_desk_event(event)
    state = world.store.clock_state(key)
    assert state is not None
    plan = world.policies.plan(state)
    return state.start, state.due, plan.first if plan is not None else None


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[Fact], list[Fact]]:
    """A set of facts in time order and in a random order, both starting with the same customer message."""
    facts: list[Fact] = draw(FACTS)
    customers = [fact for fact in facts if fact[0] == "customer"] or [("customer", 0)]
    facts = list(dict.fromkeys([*facts, *customers]))
    first = draw(st.sampled_from(customers))
    in_time = sorted((fact for fact in facts if fact != first), key=lambda fact: (fact[1], fact[0] != "customer"))
    return [first, *in_time], [first, *draw(st.permutations(in_time))]


SOLVE_AFTER_NEXT_MESSAGE = ([("customer", 0), ("solve", 3), ("customer", 4)], [("customer", 0), ("customer", 4), ("solve", 3)])
REOPEN_BEFORE_SOLVE = ([("customer", 0), ("solve", 3), ("reopen", 20)], [("customer", 0), ("reopen", 20), ("solve", 3)])


def test_any_delivery_order_of_messages_answers_solves_and_reopenings_gives_the_same_clock() -> None:
    """Given any set of customer messages, brand answers, solves and reopenings of one conversation (among them a solve
    delivered after the customer's next message, and a reopening delivered before its solve)
    When they are delivered in time order, and in any other order (a customer message first: it makes the ticket)
    Then the clock has the same start, due time and first/next-response kind."""
    with sla_world() as world:
        keys = itertools.count()

        @settings(max_examples=60, deadline=None)
        @example(SOLVE_AFTER_NEXT_MESSAGE)
        @example(REOPEN_BEFORE_SOLVE)
        @given(deliveries())
        def same_clock(orders: tuple[list[Fact], list[Fact]]) -> None:
            in_time, shuffled = orders
            assert deliver(world, f"x:1:t{next(keys)}", shuffled) == deliver(world, f"x:1:t{next(keys)}", in_time)

        same_clock()
