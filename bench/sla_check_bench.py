"""The scheduled SLA check reads what is due, not what is open: 100,000 open conversations against 1,000, 100 due in each.

Run: ./uvw run python -m bench.sla_check_bench

AWS in moto (the state table from infra/template.yaml), the real store (store/clock.py), check (sla/check.py) and an
in-memory helpdesk (the sandbox). Open conversations are written straight into the table as the clock leaves them (a
`CONV` item with its `sla_*` fields and one due-index entry each): the not-yet-due ones are due in 6 to 65 minutes, the
due ones breached 4 minutes ago, all urgent: the integration tests' rules (tests/support/sla_world.py), whose urgent
policy is 6 minutes round the clock. One check run then escalates the 100 due
ones to level 1. Counted: every item each DynamoDB read returned (Query and GetItem), every call by operation, and the
run's time (best of RUNS runs, the due conversations written back to their breached state before each), with and
without the time spent inside moto's backend (MotoTime says why the latter is the figure to compare).

It also counts what the clock costs process per message: the calls of `ResponseClock.customer_wrote` for a new
customer message, and of `brand_wrote` for the answer that stops it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
from datetime import datetime, timedelta
from typing import Any

import msgspec
from moto.core.botocore_stubber import BotocoreStubber

from socialdesk.desk.port import NewTicket
from socialdesk.store.clock import DUE_SHARDS, _due_item
from tests.support.events import sample_event
from tests.support.sla_world import SLA_RULES, START, SlaWorld, sla_world

DUE = 100
OPEN_COUNTS = (1_000, 100_000)
RUNS = 3


def conversation_item(key: str, *, started_minutes_ago: float, ticket_id: int) -> dict[str, Any]:
    """A waiting conversation's item as process leaves it (store/dynamodb.py and store/clock.py field for field)."""
    start = START - timedelta(minutes=started_minutes_ago)
    due = start + timedelta(minutes=6)
    text = {
        "pk": f"CONV#{key}",
        "sk": "CONV",
        "first_customer_at": start.isoformat(),
        "last_customer_at": start.isoformat(),
        "waiting_since": start.isoformat(),
        "sla_start": start.isoformat(),
        "sla_due": due.isoformat(),
        "sla_platform": "x",
        "sla_kind": "post",
        "sla_priority": "urgent",
    }
    numbers = {"version": 1, "ticket_id": ticket_id, "sla_level": 0, "sla_rev": 1}
    return {name: {"S": value} for name, value in text.items()} | {name: {"N": str(value)} for name, value in numbers.items()}


def seed(world: SlaWorld, open_count: int) -> list[Any]:
    """Write `open_count` waiting conversations, DUE of them breached; the due ones' writes are returned, to write again."""
    requests: list[Any] = []
    for number in range(open_count):
        key = f"x:1000:thread:{number}"
        due = number < DUE
        ticket = world.desk.create_ticket(NewTicket(subject="s", requester_id=1, body="b", external_id=key), idempotency_key=key) if due else 0
        item = conversation_item(key, started_minutes_ago=10 if due else -(number % 60), ticket_id=ticket)
        entry = _due_item(key, datetime.fromisoformat(item["sla_due"]["S"]))
        requests += [{"PutRequest": {"Item": item}}, {"PutRequest": {"Item": {name: {"S": value} for name, value in entry.items()}}}]
    write(world, requests)
    return requests[: 2 * DUE]


def write(world: SlaWorld, requests: list[Any]) -> None:
    for begin in range(0, len(requests), 25):
        world.store._client().batch_write_item(RequestItems={world.store._table: requests[begin : begin + 25]})


class MotoTime:
    """Seconds spent inside moto's backend (its stand-in for DynamoDB's servers), to tell them from socialdesk's own.

    moto answers a Query by sorting every item of the table (moto/dynamodb/models/table.py, `Table.query` through
    `all_items`), so its time grows with the table; DynamoDB's grows with the items the key condition reads, which are
    counted here (`items_read`) and are the same for both sizes."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._original = BotocoreStubber.process_request

    def __enter__(self) -> MotoTime:
        original = self._original

        def timed(stubber: BotocoreStubber, request: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(stubber, request)
            finally:
                self.seconds += time.perf_counter() - started

        BotocoreStubber.process_request = timed  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *_: object) -> None:
        BotocoreStubber.process_request = self._original  # type: ignore[method-assign]


def measure(open_count: int) -> dict[str, Any]:
    """One seeding, then RUNS check runs, each after the due conversations are written back to not yet escalated."""
    best: dict[str, Any] | None = None
    with sla_world(SLA_RULES) as world:
        due = seed(world, open_count)
        for _ in range(RUNS):
            write(world, due)
            world.items_read.clear()
            world.calls.clear()
            with MotoTime() as moto:
                started = time.perf_counter()
                report = world.check().run()
                seconds = time.perf_counter() - started
            assert len(report.escalated) == DUE, report
            own = seconds - moto.seconds
            result = {
                "open": open_count,
                "due": DUE,
                "items_read": sum(world.items_read.values()),
                "calls": dict(world.calls),
                "seconds": seconds,
                "own_seconds": own,
            }
            if best is None or own < best["own_seconds"]:
                best = result
    assert best is not None
    return best


def clock_calls_per_message() -> dict[str, dict[str, int]]:
    """DynamoDB calls of the clock alone (after process recorded the message's time): a customer message that starts
    it, a repeat that changes nothing, and the brand's answer that stops it."""
    with sla_world(SLA_RULES) as world:
        key = "x:1000:thread:one"
        event = msgspec.structs.replace(sample_event("x-mention"), created_at=START)
        world.store.record_activity(key, event, customer_key=None)
        counted = {}
        for what in ("customer message (clock starts)", "the same message again (a retry)"):
            world.calls.clear()
            world.clock.customer_wrote(key, at=START, platform="x", kind="post", priority="urgent")
            counted[what] = dict(world.calls)
        answer = msgspec.structs.replace(event, created_at=START + timedelta(minutes=2), from_brand=True, event_id="answer")
        world.store.record_activity(key, answer, customer_key=None)
        world.calls.clear()
        world.clock.brand_wrote(key, at=answer.created_at)
        counted["brand answer (clock stops)"] = dict(world.calls)
        return counted


def main() -> None:
    logging.disable(logging.CRITICAL)
    with contextlib.redirect_stdout(io.StringIO()):
        results = [measure(count) for count in OPEN_COUNTS]
        per_message = clock_calls_per_message()
    small, large = results
    print(f"shards: {DUE_SHARDS}; due: {DUE}; best of {RUNS} runs each")
    for result in results:
        goal = 2 * result["due"] + DUE_SHARDS
        print(
            f"{result['open']:>7} open: {result['items_read']} items read (goal <= {goal}), socialdesk's own time "
            f"{result['own_seconds'] * 1000:.0f} ms (with moto's backend: {result['seconds'] * 1000:.0f} ms), "
            f"calls {dict(sorted(result['calls'].items()))}"
        )
    print(f"time ratio 100,000 / 1,000 open, socialdesk's own: {large['own_seconds'] / small['own_seconds']:.2f} (goal <= 1.5)")
    print(f"time ratio 100,000 / 1,000 open, with moto's backend: {large['seconds'] / small['seconds']:.2f} (moto sorts the whole table per Query)")
    for what, calls in per_message.items():
        print(f"clock, {what}: {dict(sorted(calls.items()))}")


if __name__ == "__main__":
    main()
