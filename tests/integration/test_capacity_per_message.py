"""What one inbound message costs in DynamoDB, as docs/benchmarks.md and the cost model state it, measured the way
bench/process_calls_bench.py measures it (the whole stack in moto, capacity counted by AWS's sizing rules)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.process_calls_bench import Result


def test_a_follow_up_inside_the_acknowledgement_window_writes_five_units(shipped: dict[str, Result]) -> None:
    """Given a known customer's follow-up in their open conversation, with the shipped rules (acknowledgements on)
    When it goes through ingest and process
    Then it costs 14 DynamoDB calls, 7.5 RRU and 5 WRU: the window's claim is answered by a read, not a refused write
    (eventually consistent, as are the customer's record and the backend pauses: a stale answer decides nothing), the
    response clock (the shipped `[sla]`) is read once and, the customer already waiting, not written, and nothing is
    written before the Salesforce call (a try that dies leaves its lease, which tells the retry to look for the Task)."""
    follow_up = shipped["known customer, follow-up in the same conversation"].socialdesk
    assert follow_up.dynamodb == Counter(GetItem=9, PutItem=1, UpdateItem=4)
    assert (follow_up.units["RRU"], follow_up.units["WRU"]) == (7.5, 5)


def test_a_follow_ups_task_waits_beside_its_comment_and_a_new_tickets_after_it(shipped: dict[str, Result]) -> None:
    """Given the calls benchmark's deliveries, Then a follow-up's one Salesforce call is made beside its Zendesk calls (the
    function waits for both at once), and a new conversation's after its ticket exists (the Task links it)."""
    alongside = {name: (result.socialdesk.salesforce, result.socialdesk.salesforce_alongside) for name, result in shipped.items()}
    assert alongside["known customer, follow-up in the same conversation"] == (1, 1)
    assert alongside["known customer, new conversation"] == (1, 0)
    assert alongside["new customer, new conversation"] == (1, 0)


def test_a_new_conversation_and_a_redelivery_cost_what_the_docs_say(shipped: dict[str, Result]) -> None:
    """Given the four deliveries of the calls benchmark, Then a new customer costs 7.5 RRU / 14 WRU, a known customer's new
    conversation 7.5 / 11 (the response clock started: its state read and written, its due entry put), and a redelivery
    one strongly consistent read and no write."""
    units = {name: (result.socialdesk.units["RRU"], result.socialdesk.units["WRU"]) for name, result in shipped.items()}
    assert units["new customer, new conversation"] == (7.5, 14)
    assert units["known customer, new conversation"] == (7.5, 11)
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
