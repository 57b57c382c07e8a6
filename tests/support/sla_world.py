"""The response clock on moto's state table (from the template), the sandbox helpdesk, recorded alerts and metrics:
what the SLA integration tests and bench/sla_check_bench.py drive, on a clock they move themselves."""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast
from unittest.mock import patch

import boto3
import msgspec

from socialdesk.desk.port import NewTicket
from socialdesk.devtools.local_aws import AWS_ENVIRONMENT, local_aws
from socialdesk.process.process_event import ProcessEvent
from socialdesk.rules import RulesConfig
from socialdesk.sla.check import SlaCheck
from socialdesk.sla.clock import ClockDeskEvents, ResponseClock
from socialdesk.sla.policy import Policies
from socialdesk.store.clock import DynamoDbClockStore
from tests.support.dynamodb_capacity import OneRequestAtATime
from tests.support.events import sample_event
from tests.support.fakes import FakeQueue
from tests.support.process_fakes import FakeDesk

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from mypy_boto3_dynamodb import DynamoDBClient

    from socialdesk.desk.sandbox import SandboxTicket
    from tests.support.process_stack import Flow

# Friday 4 December 2026, 10:00 UTC (11:00 in Berlin).
START = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
SLA_RULES = """
[zendesk]
subdomain = "acme"

[calendars.berlin]
zone = "Europe/Berlin"
hours = { mon = ["09:00-17:00"], tue = ["09:00-17:00"], wed = ["09:00-17:00"], thu = ["09:00-17:00"], fri = ["09:00-17:00"] }

[sla]
window_warning_minutes = 120

[[sla.policies]]
name = "urgent"
priorities = ["urgent"]
first_response_minutes = 6
next_response_minutes = 6
[[sla.policies.ladder]]
priority = "urgent"
[[sla.policies.ladder]]
after_minutes = 10
group_id = 360000000009
alert = true

[[sla.policies]]
name = "standard"
first_response_minutes = 30
next_response_minutes = 20
calendar = "berlin"
[[sla.policies.ladder]]
priority = "high"
tags = ["sla_standard"]
[[sla.policies.ladder]]
after_minutes = 30
group_id = 360000000009
alert = true
"""
# Every new ticket urgent: the round-the-clock 6-minute policy, whatever the hour a test runs at.
URGENT_TICKETS = SLA_RULES.replace('subdomain = "acme"\n', 'subdomain = "acme"\nticket = { priority = "urgent" }\n', 1)
# The conversation most tests of the clock use.
KEY = "x:1000:thread:42"


# Appended to process_stack.RULES for the flows through the real handlers: 15 minutes round the clock, level 2 ten later.
FLOW_SLA = """
[sla]
[[sla.policies]]
name = "everything"
first_response_minutes = 15
next_response_minutes = 15
[[sla.policies.ladder]]
priority = "high"
[[sla.policies.ladder]]
after_minutes = 10
group_id = 360000000009
alert = true
"""


def waiting_since(table: str) -> datetime:
    """The one conversation's `waiting_since` as process stored it (moto running): flows through the real handlers count
    from it, since `process_all` may move the virtual clock on by the waits it skips."""
    items = boto3.client("dynamodb").scan(TableName=table, FilterExpression="sk = :conv", ExpressionAttributeValues={":conv": {"S": "CONV"}})["Items"]
    [item] = items
    return datetime.fromisoformat(item["waiting_since"]["S"])


def checks_after_the_message(flow: Flow, minutes: Iterable[int], *, each: Callable[[], AbstractContextManager[Any]] = nullcontext) -> list[int]:
    """Run sla_check (the real handler) at each of these minutes after the one conversation's message, inside `each`;
    how many conversations each run escalated."""
    assert flow.clock is not None
    since = waiting_since(flow.aws.resource("StateTable"))
    escalated = []
    for minute in minutes:
        flow.clock.move_to(since + timedelta(minutes=minute))
        with each():
            escalated.append(int(flow.sla_check()["escalated"]))
    return escalated


class RecordedAlerts:
    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []

    def alert(self, *, subject: str, message: str, deduplication_id: str) -> None:
        self.sent.append({"subject": subject, "message": message, "deduplication_id": deduplication_id})


class RecordedMetrics:
    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []
        self.breaches: list[dict[str, Any]] = []

    def answered(self, **values: Any) -> None:
        self.answers.append(values)

    def breached(self, **values: Any) -> None:
        self.breaches.append(values)


class OurSends:
    """`SentMessages`: the outbound function's record of what socialdesk itself sent, filled in when a test says so; no
    send is ever under way (an echo must tell by itself)."""

    def __init__(self, *message_ids: str) -> None:
        self.message_ids = set(message_ids)

    def find_sent(self, platform: str, message_id: str) -> str | None:
        return f"job-{message_id}" if message_id in self.message_ids else None

    def sending(self, conversation_key: str, text: str, now: datetime) -> bool:
        return False


@dataclass
class SlaWorld:
    store: DynamoDbClockStore
    clock: ResponseClock
    desk: FakeDesk
    alerts: RecordedAlerts
    metrics: RecordedMetrics
    policies: Policies
    rules: RulesConfig
    items_read: Counter[str]
    calls: Counter[str]
    """DynamoDB calls by operation, since the last `calls.clear()`."""
    """Items each DynamoDB read call returned (GetItem, Query), since the last `items_read.clear()`."""
    now: datetime = START
    tickets: dict[str, int] = field(default_factory=dict)

    def check(self) -> SlaCheck:
        return SlaCheck(
            store=self.store, policies=self.policies, clock=self.clock, desk=self.desk, alerts=self.alerts, metrics=self.metrics, now=lambda: self.now
        )

    def desk_events(self) -> ClockDeskEvents:
        return ClockDeskEvents(self.clock)

    def process(self, sent: OurSends) -> ProcessEvent:
        """The process use case on this world's table, desk, rules, clock and response clock."""
        return ProcessEvent(
            store=self.store,
            desk=self.desk,
            crm=None,
            rules=self.rules,
            events=FakeQueue(),
            clock=lambda: self.now,
            jitter=lambda _: 0,
            sent=sent,
            response_clock=self.clock,
        )

    def ticket(self, key: str = KEY) -> SandboxTicket:
        return self.desk.tickets[self.tickets[key]]

    def notes(self, key: str = KEY) -> list[str]:
        return [comment.body for comment in self.ticket(key).comments if not comment.public]

    def customer_writes(self, key: str, *, at: datetime, priority: str | None = "normal", platform: str = "x", kind: str = "post") -> None:
        """A customer message as process records it: its time, the conversation's ticket, then the clock."""
        event = msgspec.structs.replace(sample_event("meta-fb-comment"), created_at=at, event_id=f"{key}@{at.isoformat()}")
        self.store.record_activity(key, event, customer_key=None)
        if key not in self.tickets:
            ticket = self.desk.create_ticket(NewTicket(subject="s", requester_id=1, body="b", external_id=key), idempotency_key=key)
            self.store.set_ticket(key, ticket_id=ticket, opened_by="e", replaces=None)
            self.tickets[key] = ticket
        self.clock.customer_wrote(key, at=at, platform=platform, kind=kind, priority=priority)

    def brand_echo(self, key: str, *, at: datetime) -> None:
        """The brand's reply typed in the platform's app, as process records its echo."""
        event = msgspec.structs.replace(sample_event("meta-fb-comment"), created_at=at, from_brand=True, event_id=f"{key}@brand@{at.isoformat()}")
        self.store.record_activity(key, event, customer_key=None)
        self.clock.brand_wrote(key, at=at)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@contextmanager
def sla_world(rules_text: str = SLA_RULES) -> Iterator[SlaWorld]:
    rules = RulesConfig.model_validate(tomllib.loads(rules_text))
    policies = Policies.of(rules)
    assert policies is not None
    with patch.dict("os.environ", AWS_ENVIRONMENT), local_aws() as aws:
        client = boto3.client("dynamodb")
        items_read: Counter[str] = Counter()
        calls: Counter[str] = Counter()

        def count(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
            items_read[model.name] += len(parsed.get("Items", [])) + (1 if "Item" in parsed else 0)
            calls[model.name] += 1

        client.meta.events.register("after-call.dynamodb", count)
        atomic = cast("DynamoDBClient", OneRequestAtATime(client))  # two checks at once: each request atomic, as in DynamoDB
        store = DynamoDbClockStore(aws.resource("StateTable"), lambda: atomic)
        metrics = RecordedMetrics()
        yield SlaWorld(
            store=store,
            clock=ResponseClock(store, policies, metrics),
            desk=FakeDesk(),
            alerts=RecordedAlerts(),
            metrics=metrics,
            policies=policies,
            rules=rules,
            items_read=items_read,
            calls=calls,
        )
