"""Attack (issue 7, item 3): a WhatsApp customer's phone number must never reach a log line, failure paths included.

The batch driver logs an unexpected exception with `logger.exception`, i.e. with its message and stack trace, and
neither goes through `log_text`. The DynamoDB adapter's own errors name the conversation key, which for WhatsApp holds
the customer's number: a customer who sends a burst of short messages ("hi", "my order", "#4411", ...) makes the
process containers write the same conversation item at once, and the adapter gives up with
`StoreUnavailableError("conversation whatsapp:<id>:chat:<phone> kept changing under 3 attempts")`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import msgspec
import pytest

from socialdesk.devtools.local_aws import AWS_ENVIRONMENT, local_aws
from socialdesk.observability import logger
from socialdesk.ports.queues import event_message
from socialdesk.process.process_event import ProcessEvent
from socialdesk.process.sqs_batch import SqsBatch
from socialdesk.store.dynamodb import DynamoDbConversationStore
from tests.support.events import sample_event
from tests.support.process_fakes import FakeCrm, FakeDesk
from tests.support.process_world import rules
from tests.support.sqs_sim import SimQueue, SimQueueSender, SimRedelivery, VirtualClock
from tests.support.webhooks import FakeLambdaContext

PHONE = "16505551234"  # the sender of the meta-whatsapp-text sample
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class BusyConversation:
    """The DynamoDB client as a container sees it while other containers write the same conversation item meanwhile:
    each conditional write of that item finds its version moved on (another message of the burst got there first)."""

    def __init__(self, client: Any, table: str, burst: list[Any]) -> None:
        self._client, self._burst = client, burst
        self._others = DynamoDbConversationStore(table, lambda: client, clock=lambda: NOW)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def update_item(self, **request: Any) -> Any:
        if "version" in request.get("ConditionExpression", "") and self._burst:
            other = self._burst.pop(0)
            self._others.record_activity(other.conversation_key, other, customer_key=f"whatsapp:{PHONE}")
        return self._client.update_item(**request)


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    for name, value in AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with local_aws() as aws:
        yield boto3.client("dynamodb"), aws.resource("StateTable")


def test_a_contended_whatsapp_conversation_logs_no_phone_number(dynamodb: tuple[Any, str], caplog: pytest.LogCaptureFixture) -> None:
    # Given a WhatsApp message, and three other messages of the same burst written by other containers at the same time
    client, table = dynamodb
    message = sample_event("meta-whatsapp-text")
    assert PHONE in message.conversation_key
    burst = [msgspec.structs.replace(message, created_at=message.created_at - timedelta(seconds=n + 1), event_id=f"wamid.burst{n}") for n in range(3)]
    busy: Any = BusyConversation(client, table, burst)
    store = DynamoDbConversationStore(table, lambda: busy, clock=lambda: NOW)
    clock = VirtualClock(NOW.timestamp())
    queue = SimQueue(clock)
    process = ProcessEvent(
        store=store, desk=FakeDesk(), crm=FakeCrm(), rules=rules(), events=SimQueueSender(queue), clock=lambda: NOW, jitter=lambda _: 0
    )
    driver = SqsBatch(process=process, redelivery=SimRedelivery(queue), clock=clock)
    queue.send(event_message(message))
    # When the process function handles it at LogLevel=DEBUG
    caplog.set_level(logging.DEBUG)
    driver.run(queue.lambda_event(queue.receive()), FakeLambdaContext(function_name="socialdesk-process"))  # type: ignore[arg-type]
    # Then the event is retried later (the contention is not lost), and no log line names the customer's number
    logged = "\n".join(logger.registered_formatter.format(record) for record in caplog.records if record.name == logger.name)
    assert '"message":"event failed unexpectedly; retrying with backoff"' in logged
    assert PHONE not in logged
