"""What the console counts as held back (quarantined, deferred, dead-lettered) and why, from what the stack really writes.

The messages come from the real ingest use case and the real batch driver, and the deferred
reasons from the batch driver's own log records, so a change to any of them shows here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from socialdesk.local.attention import NO_FAILURE_REASON, DeferredEvents, dead_lettered, held, parked, quarantined
from socialdesk.observability import logger
from socialdesk.ports.queues import QueueMessage, event_message
from socialdesk.process.failures import PermanentFailureError, RetryLaterError, WaitError
from socialdesk.process.sqs_batch import Outcome, SqsBatch
from socialdesk.store.port import conversation_anchor, message_anchor
from tests.support.events import sample_event
from tests.support.ingest import Harness
from tests.support.sqs_sim import SimQueue, SimRedelivery, VirtualClock
from tests.support.webhooks import FakeLambdaContext, meta_post, recorded_sample, sample_body, to_bytes


def as_received(message: QueueMessage) -> dict[str, Any]:
    """A queue message as ReceiveMessage returns it."""
    return {
        "Body": message.body,
        "MessageAttributes": {name: {"StringValue": value, "DataType": "String"} for name, value in message.attributes.items()},
    }


class Scripted:
    """The process use case, answering each try with the next step: an exception to raise, or done."""

    def __init__(self, *steps: BaseException | None) -> None:
        self.steps = list(steps)

    def begin_batch(self) -> None:
        pass

    def handle(self, event: Any, *, delivery_id: str, attempt: int) -> Outcome:
        step = self.steps.pop(0) if self.steps else None
        if step is not None:
            raise step
        return Outcome(event_key=event.dedupe_key)


@pytest.fixture
def deferred() -> Iterator[DeferredEvents]:
    recorder = DeferredEvents()
    stop = recorder.watch(logger)
    yield recorder
    stop()


def batch_driver(process: Scripted, redelivery: SimRedelivery, clock: VirtualClock) -> SqsBatch:
    return SqsBatch(process=process, redelivery=redelivery, clock=clock)


def run_once(driver: SqsBatch, queue: SimQueue, clock: VirtualClock) -> None:
    """Deliver the next visible batch, as Lambda's event source mapping would, deleting what was done."""
    clock.now = max(clock.now, queue.next_visible() or clock.now)
    batch = queue.receive()
    answer: Any = driver.run(queue.lambda_event(batch), FakeLambdaContext())  # type: ignore[arg-type]
    failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
    for message in batch:
        if message.message_id not in failed:
            queue.delete(message.message_id)


def test_a_replayed_delivery_counts_as_quarantined_with_its_reason() -> None:
    # Given ingest quarantining a delivery recorded in 2025 (a replay: StaleEvent)
    harness = Harness()
    harness.send(recorded_sample("x-mention"))
    # When the console reads the quarantine queue
    found = quarantined(as_received(message) for message in harness.quarantine.messages)
    # Then it counts one event, for that reason, with its details
    assert found.count == 1
    [reason] = found.reasons
    assert (reason.reason, reason.count) == ("StaleEvent", 1)
    assert reason.detail.startswith("x: StaleEvent: created 2025-")


def test_an_oversize_item_counts_as_quarantined_and_says_where_it_is_kept() -> None:
    # Given a Messenger message too large for an SQS message, kept whole in the bucket
    harness = Harness()
    payload = sample_body("meta-messenger-message")
    payload["entry"][0]["messaging"][0]["message"]["text"] = "Mi pedido no ha llegado. " * 400
    harness.send(meta_post(to_bytes(payload)))
    found = quarantined(as_received(message) for message in harness.quarantine.messages)
    [reason] = found.reasons
    [key] = harness.bucket.objects
    assert (found.count, reason.reason) == (1, "oversize_event")
    assert reason.detail.endswith(f"/{key}")


def test_dead_lettered_events_are_counted_by_the_reason_process_gave_them() -> None:
    # Given one event Zendesk refused for good, and one SQS moved itself after maxReceiveCount (no reason attribute)
    clock = VirtualClock(1_795_000_000.0)
    queue = SimQueue(clock)
    redelivery = SimRedelivery(queue)
    queue.send(event_message(sample_event("x-dm")))
    run_once(batch_driver(Scripted(PermanentFailureError("Zendesk refused the request: 422 invalid")), redelivery, clock), queue, clock)
    moved_by_sqs = as_received(event_message(sample_event("x-mention")))
    # When the console reads the dead-letter queue
    found = dead_lettered([*(as_received(message) for message in redelivery.dead_letter_queue), moved_by_sqs])
    # Then each is counted with its reason
    assert found.count == 2
    assert {(reason.reason, reason.detail) for reason in found.reasons} == {
        ("Zendesk refused the request", "Zendesk refused the request: 422 invalid"),
        (NO_FAILURE_REASON.split(": ", 1)[0], NO_FAILURE_REASON),
    }


def test_an_event_is_deferred_with_its_latest_reason_until_it_is_processed(deferred: DeferredEvents) -> None:
    # Given an event that first waits for a Zendesk rate limit, then fails on an outage, then goes through
    clock = VirtualClock(1_795_000_000.0)
    queue = SimQueue(clock)
    driver = batch_driver(
        Scripted(WaitError(30, "Zendesk rate limit"), RetryLaterError(60, "Zendesk unavailable: HTTP 503")), SimRedelivery(queue), clock
    )
    queue.send(event_message(sample_event("x-dm")))
    # When the first try waits
    run_once(driver, queue, clock)
    # Then the event counts as deferred, waiting, not failing
    assert held(deferred.reasons()).count == 1
    assert [(reason.reason, reason.detail) for reason in held(deferred.reasons()).reasons] == [
        ("waiting: Zendesk rate limit", "Zendesk rate limit; next try in 30 s")
    ]
    # When the second try fails
    run_once(driver, queue, clock)
    # Then it is still one event, now with the failure as its reason
    [reason] = held(deferred.reasons()).reasons
    assert (reason.reason, reason.count) == ("failed, tried again later: Zendesk unavailable", 1)
    assert reason.detail == "Zendesk unavailable: HTTP 503; failure 1, next try in 60 s"
    # When the third try goes through, it is deferred no more
    run_once(driver, queue, clock)
    assert deferred.reasons() == []


def test_a_dead_lettered_event_is_no_longer_counted_as_deferred(deferred: DeferredEvents) -> None:
    clock = VirtualClock(1_795_000_000.0)
    queue = SimQueue(clock)
    steps = (RetryLaterError(60, "Zendesk unavailable"), PermanentFailureError("Zendesk refused the request: 422"))
    driver = batch_driver(Scripted(*steps), SimRedelivery(queue), clock)
    queue.send(event_message(sample_event("x-dm")))
    run_once(driver, queue, clock)
    assert held(deferred.reasons()).count == 1
    run_once(driver, queue, clock)
    assert deferred.reasons() == []


def test_parked_events_say_what_they_wait_for() -> None:
    # Given an X brand reply parked until the post it answers arrives, and a note parked until its conversation has a ticket
    items = [
        {"pk": f"PARK#{message_anchor('x', '900', '1924')}", "sk": "x:900:1925"},
        {"pk": f"PARK#{conversation_anchor('x:900:thread:1924')}", "sk": "x:900:1926"},
    ]
    found = held(parked(items))
    assert found.count == 2
    assert [(reason.reason, reason.detail) for reason in found.reasons] == [
        ("parked until the message it answers or changes arrives", "waits for message x:900:1924"),
        ("parked until its conversation has a ticket", "waits for a ticket on x:900:thread:1924"),
    ]


def test_reasons_are_grouped_most_frequent_first_and_shown_as_text() -> None:
    found = held([("a", "a: 1"), ("b\u202e", "b: x\x1b"), ("b\u202e", "b: y")])
    assert [(reason.reason, reason.count, reason.detail) for reason in found.reasons] == [("b\\u202e", 2, "b: y"), ("a", 1, "a: 1")]


def test_a_quarantine_message_that_is_not_ingests_json_still_counts() -> None:
    found = quarantined([{"Body": "not json"}, {"Body": json.dumps(["a list"])}])
    assert (found.count, [reason.reason for reason in found.reasons]) == (2, ["unreadable quarantine message"])
