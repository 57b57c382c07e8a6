"""The batch driver's retry rules on simulated SQS: waiting is free, failures are counted, nothing circles for ever."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from socialdesk.model import SocialEvent
from socialdesk.ports.queues import QueueMessage, QueueUnavailableError, event_message
from socialdesk.process.failures import MAX_FAILURES, PermanentFailureError, RetryLaterError, WaitError
from socialdesk.process.sqs_batch import FAILURE_REASON_ATTRIBUTE, MAX_WAITING_SECONDS, RETRY_ATTRIBUTE, Blocked, EventHandler, Outcome, SqsBatch
from tests.support.events import sample_event
from tests.support.sqs_sim import SimQueue, SimRedelivery, VirtualClock, run_until_empty
from tests.support.webhooks import FakeLambdaContext

START = 1_795_000_000.0


@dataclass
class ScriptedProcess:
    """Stands in for the process use case: answers each try from a script (an exception to raise, or done)."""

    script: list[BaseException | None]
    tries: list[int] = field(default_factory=list)

    def begin_batch(self) -> None:
        pass

    def handle(self, event: SocialEvent, *, delivery_id: str, attempt: int) -> Outcome:
        self.tries.append(attempt)
        step = self.script.pop(0) if self.script else None
        if step is not None:
            raise step
        return Outcome(event_key=event.dedupe_key)


class FailingRedelivery(SimRedelivery):
    def requeue(self, message: QueueMessage, *, delay_seconds: int) -> None:
        raise QueueUnavailableError("SendMessage failed: InternalError")


def drive(process: EventHandler, *, redelivery_class: type[SimRedelivery] = SimRedelivery, rounds: int = 400) -> tuple[SimQueue, SimRedelivery]:
    """Queue one event and let SQS and the driver run until the queue is empty (jumping the clock to the next visible message)."""
    clock = VirtualClock(START)
    queue = SimQueue(clock)
    redelivery = redelivery_class(queue)
    driver = SqsBatch(process=process, redelivery=redelivery, clock=clock)
    queue.send(event_message(sample_event("x-dm")))
    run_until_empty(queue, driver, clock, rounds=rounds)
    return queue, redelivery


def test_waits_never_count_and_never_use_up_receives() -> None:
    # Given an event that must wait 30 times in a row (rate limits, a claim), then goes through
    process = ScriptedProcess([WaitError(60, "Zendesk rate limit")] * 30)
    queue, redelivery = drive(process)
    # Then it was done on the 31st try, every try saw no failure, and nothing reached a dead-letter queue
    assert len(process.tries) == 31
    assert set(process.tries) == {1}
    assert redelivery.dead_letter_queue == []
    assert queue.dead_letters == []


def test_real_failures_are_counted_and_dead_letter_after_the_limit_with_the_reason() -> None:
    # Given Zendesk keeps failing, with waits in between that do not count
    process = ScriptedProcess([RetryLaterError(60, "Zendesk unavailable: 503"), WaitError(5, "claim")] * MAX_FAILURES)
    _, redelivery = drive(process)
    # Then the tries count failures only, and the tenth failure dead-letters the event with why
    assert process.tries == [n for failures in range(1, MAX_FAILURES + 1) for n in (failures, failures + 1)][: 2 * MAX_FAILURES - 1]
    [dead] = redelivery.dead_letter_queue
    assert dead.attributes[FAILURE_REASON_ATTRIBUTE] == f"failed {MAX_FAILURES} times; last: Zendesk unavailable: 503"
    # And it carries no retry state, so moving it back from the dead-letter queue starts afresh
    assert RETRY_ATTRIBUTE not in dead.attributes
    assert dead.attributes["platform"] == "x"


def test_a_wait_longer_than_sqs_allows_hops_through_the_queue_and_is_not_tried_early() -> None:
    # Given a wait of an hour (a spent Salesforce allocation); SQS delays at most 15 minutes
    process = ScriptedProcess([WaitError(3600, "Salesforce API allocation used up")])
    clock_seen: list[float] = []
    original = process.handle

    def handle(event: SocialEvent, *, delivery_id: str, attempt: int) -> Outcome:
        clock_seen.append(queue_clock.now)
        return original(event, delivery_id=delivery_id, attempt=attempt)

    process.handle = handle  # type: ignore[method-assign]
    queue_clock = VirtualClock(START)
    queue = SimQueue(queue_clock)
    redelivery = SimRedelivery(queue)
    driver = SqsBatch(process=process, redelivery=redelivery, clock=queue_clock)
    queue.send(event_message(sample_event("x-dm")))
    hops = 0
    while (batch := queue.receive()) or queue.next_visible() is not None:
        if not batch:
            queue_clock.now = max(queue_clock.now, queue.next_visible() or queue_clock.now)
            continue
        hops += 1
        driver.run(queue.lambda_event(batch), FakeLambdaContext())  # type: ignore[arg-type]
        for message in batch:
            queue.delete(message.message_id)
    # Then it was tried twice: at once, and not before the hour was over, after hopping in 15-minute delays
    assert len(clock_seen) == 2
    assert clock_seen[1] - clock_seen[0] >= 3600
    assert hops == 1 + 4


def test_when_the_copy_cannot_be_queued_the_message_itself_waits_and_is_reported_failed() -> None:
    process = ScriptedProcess([WaitError(40, "claim")])
    clock = VirtualClock(START)
    queue = SimQueue(clock)
    driver = SqsBatch(process=process, redelivery=FailingRedelivery(queue), clock=clock)
    queue.send(event_message(sample_event("x-dm")))
    [message] = queue.receive()
    answer: Any = driver.run(queue.lambda_event([message]), FakeLambdaContext())  # type: ignore[arg-type]
    assert answer["batchItemFailures"] == [{"itemIdentifier": message.message_id}]
    assert message.visible_at == START + 40


def test_an_event_still_waiting_after_a_week_is_dead_lettered_rather_than_kept_circling() -> None:
    process = ScriptedProcess([WaitError(900, "Salesforce API allocation used up")] * 10_000)
    _, redelivery = drive(process, rounds=2000)
    [dead] = redelivery.dead_letter_queue
    assert dead.attributes[FAILURE_REASON_ATTRIBUTE].startswith(f"still waiting after {MAX_WAITING_SECONDS // 3600} hours")


@pytest.mark.parametrize("damaged", ["not json", json.dumps({"failures": "many"})])
def test_a_damaged_retry_attribute_starts_the_count_afresh(damaged: str) -> None:
    clock = VirtualClock(START)
    queue = SimQueue(clock)
    process = ScriptedProcess([PermanentFailureError("Zendesk refused the request")])
    redelivery = SimRedelivery(queue)
    driver = SqsBatch(process=process, redelivery=redelivery, clock=clock)
    message = event_message(sample_event("x-dm"))
    queue.send(QueueMessage(body=message.body, attributes={**message.attributes, RETRY_ATTRIBUTE: damaged}))
    driver.run(queue.lambda_event(queue.receive()), FakeLambdaContext())  # type: ignore[arg-type]
    assert process.tries == [1]
    assert redelivery.dead_letter_queue[0].attributes[FAILURE_REASON_ATTRIBUTE] == "Zendesk refused the request"


class UntilFixed(Blocked):
    """`Blocked` for a number of tries (an operator fixing the secret), then the process use case again."""

    def __init__(self, tries: int, *, outage: bool = False) -> None:
        super().__init__("the CRM secret has no value for zendesk_email", outage=outage)
        self.left, self.attempts, self.done = tries, list[int](), 0

    def handle(self, event: SocialEvent, *, delivery_id: str, attempt: int) -> Outcome:
        self.attempts.append(attempt)
        if self.left:
            self.left -= 1
            return super().handle(event, delivery_id=delivery_id, attempt=attempt)
        self.done += 1
        return Outcome(event_key=event.dedupe_key)


def test_an_event_waits_for_an_operators_fix_for_days_without_a_failure_counted() -> None:
    # Given the process cannot be built for 3 days (an unfilled CRM secret: blocked every 5 minutes, 864 tries)
    blocked = UntilFixed(864)
    queue, redelivery = drive(blocked, rounds=2000)
    # Then the event waited without one failure counted, and was processed once the fix was in
    assert set(blocked.attempts) == {1}
    assert blocked.done == 1
    assert redelivery.dead_letter_queue == []
    assert queue.dead_letters == []


def test_an_unreachable_secrets_manager_is_an_outage_retried_with_backoff_and_counted() -> None:
    # Given Secrets Manager unreachable for good
    blocked = UntilFixed(10_000, outage=True)
    _, redelivery = drive(blocked)
    # Then each try counts a failure, and the tenth dead-letters the event with the reason
    assert blocked.attempts == list(range(1, MAX_FAILURES + 1))
    [dead] = redelivery.dead_letter_queue
    assert "CRM secret" in dead.attributes[FAILURE_REASON_ATTRIBUTE]
