"""Attack 9b: the StateTable's retention as README "Resources worth knowing" states it: "conversations, customers and the
ids of public posts and comments ... are kept 400 days after their last use (one in use is extended at most once a
month) ... a direct message leaves no record of its id", through the process use case on the moto-backed table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import boto3
import pytest

from socialdesk.devtools.local_aws import AWS_ENVIRONMENT, local_aws
from tests.integration.test_attack9_state_table import Stack
from tests.support.events import follow_up, sample_event
from tests.support.process_world import NOW

DAY = timedelta(days=1)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    for name, value in AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with local_aws() as aws:
        yield Stack(aws.resource("StateTable"), boto3.client("dynamodb"))


def _pks(stack: Stack, prefix: str) -> list[str]:
    items = stack.client.scan(TableName=stack.table)["Items"]
    return sorted(item["pk"]["S"] for item in items if item["pk"]["S"].startswith(prefix))


def test_a_customer_who_wrote_again_29_days_later_is_kept_400_days_after_that_last_message(stack: Stack) -> None:
    """Given a WhatsApp customer first seen on day 0 (their customer record written: Zendesk user, Salesforce contact)
    When they write again on day 29 (a use of that record)
    Then the record is kept 400 days after that last use, i.e. until day 429 (README: "customers ... are kept 400 days
    after their last use"); a record kept only until day 400 makes a customer who returns on day 401, 372 days after
    their last message, a stranger again: a new Zendesk user upsert and Salesforce contact upsert, and in Social mode a
    new persona. "Extended at most once a month" is about how often it is written, not a 30-day discount on the promise."""
    first = sample_event("meta-whatsapp-text")
    stack.process.handle(first, delivery_id="sqs-1")
    stack.now = NOW + 29 * DAY
    stack.process.handle(follow_up(first, 1, minutes=29 * 24 * 60), delivery_id="sqs-2")
    customer_key = f"whatsapp:{first.author.id if first.author else ''}"
    last_use = stack.now
    kept_until = stack.expires(f"CUST#{customer_key}", "CUST")
    assert kept_until >= last_use + 400 * DAY - DAY, (
        f"customer record expires {kept_until:%Y-%m-%d}, {(kept_until - last_use).days} days after its last use on {last_use:%Y-%m-%d}"
    )


def test_direct_message_conversations_on_every_platform_leave_no_message_id_records(stack: Stack) -> None:
    """Given a WhatsApp chat, a Messenger, an Instagram and an X direct-message conversation, each a first message and a
    follow-up
    When all eight are processed on the DynamoDB store
    Then the table holds no `MSG#` item (README: "a direct message leaves no record of its id, as its chat's participants
    name its conversation"), and both conversations have their one ticket with both messages on it (holds)."""
    for name in ("meta-whatsapp-text", "meta-messenger-message", "meta-instagram-dm", "x-dm"):
        first = sample_event(name)
        stack.process.handle(first, delivery_id=f"sqs-{name}-1")
        stack.process.handle(follow_up(first, 1), delivery_id=f"sqs-{name}-2")
    assert _pks(stack, "MSG#") == []
    assert len(stack.desk.tickets) == 4
    for ticket in stack.desk.tickets.values():
        assert [c.body for c in ticket.comments if c.public][-1] == "follow-up 1"


def _let_ttl_delete_expired(stack: Stack) -> int:
    """What DynamoDB's TTL does within days of an item's `expires_at` (moto keeps them): the expired items deleted."""
    now = int(stack.now.timestamp())
    expired = [item for item in stack.client.scan(TableName=stack.table)["Items"] if int(item.get("expires_at", {"N": "0"})["N"]) < now]
    for item in expired:
        stack.client.delete_item(TableName=stack.table, Key={"pk": item["pk"], "sk": item["sk"]})
    return len(expired)


def test_a_failed_agent_reply_in_a_conversation_older_than_45_days_keeps_its_first_message_and_first_response(stack: Stack) -> None:
    """Given a WhatsApp conversation opened on day 0 and answered by an agent that day, in which the customer writes again
    on day 50 and an agent's reply of day 50 is accepted (the response clock's facts: first customer message day 0,
    first response day 0), the day-0 message-time items having expired (45 days) and been deleted by TTL
    When WhatsApp reports that day-50 reply failed (131047), so the answer is withdrawn
    Then the conversation's first customer message and first response are still day 0's (README: response-time facts
    from the set of message times, the conversation kept 400 days): recomputing them from the 45-day items alone moves
    the conversation's first message to day 50 and forgets its first response."""
    first = sample_event("meta-whatsapp-text")
    stack.process.handle(first, delivery_id="sqs-1")
    key = first.conversation_key
    stack.store.record_answer(key, at=first.created_at + timedelta(hours=1), reference="agent-day-0", source="agent")
    before = stack.store.conversation(key)
    assert before is not None and before.activity.first_customer_at == first.created_at
    first_response = before.activity.first_response_at
    assert first_response is not None
    stack.now = NOW + 50 * DAY
    later = follow_up(first, 1, minutes=50 * 24 * 60)
    stack.process.handle(later, delivery_id="sqs-2")
    stack.store.record_answer(key, at=later.created_at + timedelta(minutes=10), reference="agent-day-50", source="agent")
    assert _let_ttl_delete_expired(stack) > 0
    stack.store.withdraw_answer(key, reference="agent-day-50")
    after = stack.store.conversation(key)
    assert after is not None
    assert (after.activity.first_customer_at, after.activity.first_response_at) == (first.created_at, first_response), after.activity
