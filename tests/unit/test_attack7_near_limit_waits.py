"""Attack (issue 7, items 7 and 9): an event that just fits an SQS message must still wait for free.

Ingest queues an event when its message (body and attributes, as SQS counts them) is at most 256 KiB. A wait re-queues
a copy carrying one more attribute, `socialdesk_retry`; for an event within ~80 bytes of the limit SQS refuses that copy
(InvalidParameterValue, "Message must be shorter than 262144 bytes"), so the driver falls back to the message's own
visibility, which costs an SQS receive: ten waits and SQS's redrive policy moves it to the dead-letter queue, with no
`socialdesk_failure` reason (the dead-letter copy, which adds that attribute, is refused the same way).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from socialdesk.aws.sqs import MAX_MESSAGE_BYTES
from socialdesk.model import SocialEvent
from socialdesk.ports.queues import RETRY_HEADROOM_BYTES, QueueMessage, QueueUnavailableError, event_message
from socialdesk.process.failures import PermanentFailureError, WaitError
from socialdesk.process.sqs_batch import FAILURE_REASON_ATTRIBUTE, Outcome, SqsBatch
from tests.support.events import sample_event
from tests.support.sqs_sim import SimQueue, SimRedelivery, VirtualClock, run_until_empty
from tests.support.webhooks import FakeLambdaContext

START = 1_795_000_000.0


class SqsSizedRedelivery(SimRedelivery):
    """SendMessage as SQS answers it on the template's queues (MaximumMessageSize 262144, body plus attributes)."""

    def _check(self, message: QueueMessage) -> None:
        if message.size_bytes > MAX_MESSAGE_BYTES:
            raise QueueUnavailableError("SendMessage failed: InvalidParameterValue")

    def requeue(self, message: QueueMessage, *, delay_seconds: int) -> None:
        self._check(message)
        super().requeue(message, delay_seconds=delay_seconds)

    def dead_letter(self, message: QueueMessage) -> None:
        self._check(message)
        super().dead_letter(message)


@dataclass
class WaitsThenDone:
    waits: int
    tries: int = 0
    done: list[str] = field(default_factory=list)

    def begin_batch(self) -> None:
        pass

    def handle(self, event: SocialEvent, *, delivery_id: str, attempt: int) -> Outcome:
        self.tries += 1
        if self.tries <= self.waits:
            raise WaitError(30, "Zendesk rate limit")
        self.done.append(event.dedupe_key)
        return Outcome(event_key=event.dedupe_key)


def event_of_size(size: int) -> SocialEvent:
    """A Facebook visitor post whose queued message is exactly `size` bytes."""
    event = sample_event("meta-fb-visitor-post")
    base = event_message(msgspec.structs.replace(event, text="")).size_bytes
    sized = msgspec.structs.replace(event, text="x" * (size - base))
    assert event_message(sized).size_bytes == size
    return sized


def test_the_largest_event_ingest_queues_waits_through_a_rate_limit_storm_without_dead_lettering() -> None:
    # Given the largest event ingest queues: it leaves RETRY_HEADROOM_BYTES of the SQS limit free (larger ones go to the bucket)
    event = event_of_size(MAX_MESSAGE_BYTES - RETRY_HEADROOM_BYTES)
    clock = VirtualClock(START)
    queue = SimQueue(clock)
    redelivery = SqsSizedRedelivery(queue)
    process = WaitsThenDone(waits=12)  # 6 minutes of Zendesk 429s with Retry-After 30
    driver = SqsBatch(process=process, redelivery=redelivery, clock=clock)
    queue.send(event_message(event))
    # When SQS and the driver run until the queue is empty
    run_until_empty(queue, driver, clock, rounds=100)
    # Then the waits cost nothing: the event is done, and nothing reached either dead-letter queue (README: waiting is not failing)
    assert queue.dead_letters == [], "moved to the dead-letter queue by SQS's redrive policy after 10 receives"
    assert process.done == [event.dedupe_key]


def test_the_largest_event_ingest_queues_is_dead_lettered_with_its_whole_reason() -> None:
    # Given the largest event ingest queues, refused for good with the longest reason a dead-letter copy carries
    event = event_of_size(MAX_MESSAGE_BYTES - RETRY_HEADROOM_BYTES)
    clock = VirtualClock(START)
    queue = SimQueue(clock)
    redelivery = SqsSizedRedelivery(queue)
    driver = SqsBatch(process=Refuses("Zendesk refused the ticket: " + "x" * 2000), redelivery=redelivery, clock=clock)
    queue.send(event_message(event))
    # When it is processed, Then SQS takes its dead-letter copy, reason included
    driver.run(queue.lambda_event(queue.receive()), FakeLambdaContext())  # type: ignore[arg-type]
    [dead] = redelivery.dead_letter_queue
    assert dead.attributes[FAILURE_REASON_ATTRIBUTE].startswith("Zendesk refused the ticket")


@dataclass
class Refuses:
    reason: str

    def begin_batch(self) -> None:
        pass

    def handle(self, event: SocialEvent, *, delivery_id: str, attempt: int) -> Outcome:
        raise PermanentFailureError(self.reason)
