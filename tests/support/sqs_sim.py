"""SQS and Lambda's event source on a virtual clock: visibility timeouts, delays, receive counts, redrive.

The fault suite runs hours of traffic in seconds with it. It follows the semantics the
template configures (infra/template.yaml: InboundQueue): a received message is invisible
for the visibility timeout, a batch item reported failed returns when that ends (or when
ChangeMessageVisibility said), successes are deleted, and a message received more than
maxReceiveCount times moves to the dead-letter queue instead of being delivered.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from socialdesk.ports.queues import QueueMessage
from tests.support.webhooks import FakeLambdaContext


class VirtualClock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@dataclass
class SimMessage:
    message_id: str
    body: str
    attributes: dict[str, str]
    visible_at: float
    sent_at: float
    receive_count: int = 0
    receipt: str = ""


@dataclass
class SimQueue:
    clock: VirtualClock
    visibility_timeout: int = 360
    max_receive_count: int = 10
    messages: dict[str, SimMessage] = field(default_factory=dict)
    dead_letters: list[SimMessage] = field(default_factory=list)
    _ids: Any = field(default_factory=itertools.count)
    _lock: Any = field(default_factory=threading.Lock, repr=False)
    """The batch driver's workers send (retries, released events) from several threads."""

    def send(self, message: QueueMessage, *, delay_seconds: int = 0) -> None:
        assert 0 <= delay_seconds <= 900, "SQS refuses DelaySeconds over 900"
        with self._lock:
            message_id = f"m{next(self._ids)}"
            now = self.clock()
            self.messages[message_id] = SimMessage(message_id, message.body, dict(message.attributes), now + delay_seconds, now)

    def receive(self, limit: int = 10) -> list[SimMessage]:
        now, batch = self.clock(), list[SimMessage]()
        for message in sorted(self.messages.values(), key=lambda m: m.visible_at):
            if len(batch) == limit or message.visible_at > now:
                break
            if message.receive_count >= self.max_receive_count:
                del self.messages[message.message_id]  # the redrive policy moves it instead of delivering it again
                self.dead_letters.append(message)
                continue
            message.receive_count += 1
            message.visible_at = now + self.visibility_timeout
            message.receipt = f"{message.message_id}#{message.receive_count}"
            batch.append(message)
        return batch

    def delete(self, message_id: str) -> None:
        self.messages.pop(message_id, None)

    def next_visible(self) -> float | None:
        return min((message.visible_at for message in self.messages.values()), default=None)

    def lambda_event(self, batch: list[SimMessage]) -> dict[str, Any]:
        """The SQS event Lambda's event source mapping hands the function."""
        return {
            "Records": [
                {
                    "messageId": message.message_id,
                    "receiptHandle": message.receipt,
                    "body": message.body,
                    "attributes": {"ApproximateReceiveCount": str(message.receive_count), "SentTimestamp": str(int(message.sent_at * 1000))},
                    "messageAttributes": {name: {"stringValue": value, "dataType": "String"} for name, value in message.attributes.items()},
                    "md5OfBody": "",
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:InboundQueue",
                    "awsRegion": "eu-west-1",
                }
                for message in batch
            ]
        }


@dataclass
class SimRedelivery:
    """The process function's Redelivery port on the simulated queues."""

    queue: SimQueue
    dead_letter_queue: list[QueueMessage] = field(default_factory=list)
    requeues: int = 0

    _lock: Any = field(default_factory=threading.Lock, repr=False)

    def requeue(self, message: QueueMessage, *, delay_seconds: int) -> None:
        with self._lock:
            self.requeues += 1
        self.queue.send(message, delay_seconds=delay_seconds)

    def retry_after(self, receipt_handle: str, seconds: int) -> None:
        message = self.queue.messages.get(receipt_handle.partition("#")[0])
        if message is not None:
            message.visible_at = self.queue.clock() + seconds

    def dead_letter(self, message: QueueMessage) -> None:
        with self._lock:
            self.dead_letter_queue.append(message)


@dataclass
class SimQueueSender:
    """The MessageQueue port (send_all) on the simulated inbound queue: how released parked events come back."""

    queue: SimQueue

    def send_all(self, messages: Any) -> None:
        for message in messages:
            self.queue.send(message)


def run_until_empty(queue: SimQueue, driver: Any, clock: VirtualClock, *, rounds: int) -> None:
    """Let SQS and the batch driver run as the event source mapping does (delete what was reported done), jumping the
    clock to the next visible message, until the queue is empty or `rounds` is spent."""
    for _ in range(rounds):
        batch = queue.receive()
        if batch:
            answer = driver.run(queue.lambda_event(batch), FakeLambdaContext())
            failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
            for message in batch:
                if message.message_id not in failed:
                    queue.delete(message.message_id)
        elif (upcoming := queue.next_visible()) is None:
            return
        else:
            clock.now = max(clock.now, upcoming)
