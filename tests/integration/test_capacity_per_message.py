"""What one inbound message costs in DynamoDB, as docs/benchmarks.md and the cost model state it, measured the way
bench/process_calls_bench.py measures it (the whole stack in moto, capacity counted by AWS's sizing rules)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.process_calls_bench import Result


def test_a_follow_up_inside_the_acknowledgement_window_writes_four_units(shipped: dict[str, Result]) -> None:
    """Given a known customer's follow-up in their open conversation, with the shipped rules (acknowledgements on)
    When it goes through ingest and process
    Then it costs 12 DynamoDB calls, 6.5 RRU and 4 WRU: no record of a direct message's id is read or written (its chat
    names its conversation), the window's claim is answered by a read, not a refused write
    (eventually consistent, as are the customer's record and the backend pauses: a stale answer decides nothing), the
    response clock (the shipped `[sla]`) is read once and, the customer already waiting, not written, and nothing is
    written before the Salesforce call (a try that dies leaves its lease, which tells the retry to look for the Task)."""
    follow_up = shipped["known customer, follow-up in the same conversation"].socialdesk
    assert follow_up.dynamodb == Counter(GetItem=8, PutItem=1, UpdateItem=3)
    assert (follow_up.units["RRU"], follow_up.units["WRU"]) == (6.5, 4)


def test_each_task_is_written_beside_the_zendesk_calls_made_once_the_words_are_on_a_ticket(shipped: dict[str, Result]) -> None:
    """Given the calls benchmark's deliveries, Then each customer message's one Salesforce call is made in the thread beside
    Zendesk's, after the call that put the words on a ticket and alongside those that follow: a follow-up's tags call
    (its comment first), a new ticket's context note and acknowledgement tag (its creation first, after the new customer's
    user)."""
    seen = {name: (r.socialdesk.salesforce, r.socialdesk.salesforce_alongside, r.socialdesk.zendesk_timeline) for name, r in shipped.items()}
    assert seen["known customer, follow-up in the same conversation"] == (1, 1, [True, False])
    assert seen["known customer, new conversation"] == (1, 1, [True, False, False])
    assert seen["new customer, new conversation"] == (1, 1, [False, True, False, False])
    assert seen["the same message delivered again"] == (0, 0, [])


def test_a_new_conversation_and_a_redelivery_cost_what_the_docs_say(shipped: dict[str, Result]) -> None:
    """Given the four deliveries of the calls benchmark, Then a new customer costs 6.5 RRU / 13 WRU, a known customer's new
    conversation 6.5 / 10 (the response clock started: its state read and written, its due entry put), and a redelivery
    one strongly consistent read and no write."""
    units = {name: (result.socialdesk.units["RRU"], result.socialdesk.units["WRU"]) for name, result in shipped.items()}
    assert units["new customer, new conversation"] == (6.5, 13)
    assert units["known customer, new conversation"] == (6.5, 10)
    assert units["the same message delivered again"] == (1, 0)


def test_the_outbound_function_writes_three_units_per_acknowledgement(shipped: dict[str, Result]) -> None:
    """Given a new conversation's acknowledgement on the outbound queue, When the outbound function sends it
    Then it makes one platform send and one Zendesk note, and writes 3 WRU (claim, remembered message, finish), reading
    nothing; a follow-up queues no job."""
    sends = shipped["new customer, new conversation"].outbound
    assert (sends.platform, sends.zendesk) == (1, 1)
    assert sends.dynamodb == Counter(UpdateItem=3)
    assert (sends.units["RRU"], sends.units["WRU"]) == (0, 3)
    assert shipped["known customer, follow-up in the same conversation"].outbound.platform == 0
