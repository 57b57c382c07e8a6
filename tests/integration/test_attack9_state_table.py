"""Attack 9: the StateTable as process uses it: what it keeps and how long (README, Resources worth knowing: "conversations, customers and
public-thread message ids are kept 400 days after their last use"), through the process use case on the DynamoDB store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, cast

import boto3
import msgspec
import pytest

from socialdesk.devtools.local_aws import AWS_ENVIRONMENT, local_aws
from socialdesk.model import SocialEvent
from socialdesk.process.failures import RetryLaterError
from socialdesk.process.process_event import ProcessEvent
from socialdesk.process.sqs_batch import Outcome
from socialdesk.store.dynamodb import DynamoDbConversationStore
from tests.support.events import follow_up, sample_event
from tests.support.fakes import FakeQueue
from tests.support.process_fakes import CrashError, FakeCrm, FakeDesk
from tests.support.process_world import NOW, rules
from tests.support.x_activity import post as x_post

DAY = timedelta(days=1)


class Stack:
    """The process use case on the moto-backed StateTable, with fake Zendesk and Salesforce and a clock the test moves."""

    def __init__(self, table: str, client: Any) -> None:
        self.now, self.client, self.table = NOW, client, table
        self.store = DynamoDbConversationStore(table, lambda: client, clock=lambda: self.now)
        self.desk, self.crm = FakeDesk(clock=lambda: self.now), FakeCrm()
        self.process = ProcessEvent(
            store=self.store, desk=self.desk, crm=self.crm, rules=rules(), events=FakeQueue(), clock=lambda: self.now, jitter=lambda _: 0
        )

    def item(self, pk: str, sk: str) -> dict[str, Any]:
        found: dict[str, Any] = self.client.get_item(TableName=self.table, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item", {})
        return found

    def expires(self, pk: str, sk: str) -> datetime:
        return datetime.fromtimestamp(int(self.item(pk, sk)["expires_at"]["N"]), tz=NOW.tzinfo)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    for name, value in AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with local_aws() as aws:
        yield Stack(aws.resource("StateTable"), boto3.client("dynamodb"))


def test_a_customer_who_keeps_writing_keeps_their_customer_record_400_days_after_their_last_message(stack: Stack) -> None:
    """Given a WhatsApp customer first seen on day 0, who writes again on day 390
    When the day-390 message has been processed
    Then their customer record (Zendesk user id, Salesforce contact id) is kept 400 days from that last use, as the README
    promises, not 400 days from the day it was first written: else on day 401 an active customer is a stranger again and
    each next message pays a Zendesk user upsert and a Salesforce contact upsert (and Social mode a persona) anew."""
    first = sample_event("meta-whatsapp-text")
    stack.process.handle(first, delivery_id="sqs-1")
    stack.now = NOW + 390 * DAY
    later = follow_up(first, 1, minutes=390 * 24 * 60)
    stack.process.handle(later, delivery_id="sqs-2")
    customer_key = f"whatsapp:{first.author.id if first.author else ''}"
    assert stack.store.customer(customer_key) is not None
    # The conversation is refreshed by its use (holds) ...
    assert stack.expires(f"CONV#{first.conversation_key}", "CONV") >= stack.now + 400 * DAY - DAY
    # ... and so must the customer be.
    kept_until = stack.expires(f"CUST#{customer_key}", "CUST")
    assert kept_until >= stack.now + 400 * DAY - DAY, f"customer record expires {kept_until:%Y-%m-%d}, 10 days after its last use"


def test_a_reply_to_a_facebook_comment_300_days_later_continues_its_ticket(stack: Stack) -> None:
    """Given a customer's Facebook comment on the brand's post, processed on day 0
    When another customer's reply to that comment arrives on day 300 (a public thread: its anchor is kept 400 days)
    Then it is found in the same conversation and lands on the same ticket."""
    first = sample_event("meta-fb-comment")
    stack.process.handle(first, delivery_id="sqs-1")
    stack.now = NOW + 300 * DAY
    reply = follow_up(first, 1, minutes=300 * 24 * 60, in_reply_to=first.message_id)
    outcome = stack.process.handle(reply, delivery_id="sqs-2")
    assert outcome.conversation_key == first.conversation_key
    assert len(stack.desk.tickets) == 1


def _expire(stack: Stack) -> int:
    """DynamoDB's TTL: delete every item whose `expires_at` has passed (moto keeps them)."""
    gone = 0
    for page in stack.client.get_paginator("scan").paginate(TableName=stack.table, ConsistentRead=True):
        for item in page["Items"]:
            if "expires_at" in item and int(item["expires_at"]["N"]) < int(stack.now.timestamp()):
                stack.client.delete_item(TableName=stack.table, Key={"pk": item["pk"], "sk": item["sk"]})
                gone += 1
    return gone


def _handle_through_waits(stack: Stack, event: SocialEvent) -> Outcome:
    for attempt in range(1, 40):
        try:
            return stack.process.handle(event, delivery_id=f"sqs-{event.event_id}", attempt=attempt)
        except RetryLaterError as exc:
            stack.now += timedelta(seconds=exc.delay_seconds + 1)
    raise AssertionError("never settled")


def test_an_x_thread_still_in_use_keeps_its_first_posts_id_400_days_after_its_last_use(stack: Stack) -> None:
    """Given a customer's X mention on day 0 (its ticket opened), and their reply to that same post on day 390, which
    continued the ticket (the post's id was used to thread it)
    When on day 401, after DynamoDB's TTL has run, they reply to that first post once more
    Then the reply continues the same ticket: the README keeps public-thread message ids "400 days after their last use",
    and that id was last used 11 days before. Observed: the id expired 400 days after it was first written, so the reply
    waits out the 12-minute parent wait and opens a second ticket, cut off from the conversation (still kept)."""
    day = 24 * 60
    mention = x_post("2080000000000000001", "@AcmeHelp my order #4411 never arrived", minutes=0)
    _handle_through_waits(stack, mention)
    [ticket] = stack.desk.tickets
    stack.now = NOW + 390 * DAY
    again = x_post("2080000000000000002", "@AcmeHelp still nothing, a year on", minutes=390 * day, replies_to=mention.message_id)
    assert _handle_through_waits(stack, again).conversation_key == mention.conversation_key
    stack.now = NOW + 401 * DAY
    assert _expire(stack) > 0
    assert stack.store.conversation(mention.conversation_key) is not None  # the conversation itself is kept (used on day 390)
    latest = x_post("2080000000000000003", "@AcmeHelp hello?", minutes=401 * day, replies_to=mention.message_id)
    outcome = _handle_through_waits(stack, latest)
    assert outcome.conversation_key == mention.conversation_key, f"a new thread: {outcome.conversation_key}"
    assert list(stack.desk.tickets) == [ticket]


class _DyingStore:
    """The DynamoDB store of a Lambda that can die: once `dead`, no call reaches the table (no `finally` writes)."""

    def __init__(self, store: DynamoDbConversationStore) -> None:
        self.store, self.dead = store, False

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.store, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.dead:
                raise CrashError("dead")
            return attr(*args, **kwargs)

        return call


def test_a_lambda_dying_after_salesforce_created_the_follow_ups_task_leaves_one_task_on_dynamodb(stack: Stack) -> None:
    """Given a follow-up on a known ticket, its comment and Task side by side, on the DynamoDB store
    When the Lambda dies right after Salesforce created the Task (nothing after it reaches the table: its lease stays held)
    Then SQS's redelivery six minutes later reads the held lease as "the Task may exist", finds it, and writes no second
    Task; the comment is there once (README, Exactly once: a crash or timeout after Salesforce created the Task)."""
    first = sample_event("meta-whatsapp-text")
    stack.process.handle(first, delivery_id="sqs-1")
    dying = _DyingStore(stack.store)

    def process() -> ProcessEvent:
        return ProcessEvent(
            store=cast(Any, dying), desk=stack.desk, crm=stack.crm, rules=rules(), events=FakeQueue(), clock=lambda: stack.now, jitter=lambda _: 0
        )

    def die() -> None:
        dying.dead = True
        raise CrashError("Lambda timed out")

    stack.crm.after_record = die
    event = follow_up(first, 1)
    with pytest.raises(CrashError):
        process().handle(event, delivery_id="sqs-2")
    dying.dead = False
    stack.now += timedelta(minutes=6)
    process().handle(event, delivery_id="sqs-2", attempt=2)
    tasks = [activity.event_key for activity in stack.crm.activities.values()]
    assert len(tasks) == len(set(tasks)) == 2
    assert stack.crm.calls["find_activity"] == 1
    assert [c.body for t in stack.desk.tickets.values() for c in t.comments].count("follow-up 1") == 1
    assert stack.store.begin_event(event.dedupe_key, owner="sqs-3", now=stack.now, lease_seconds=90).completed


def test_a_second_commenter_on_a_known_post_is_remembered_in_both_systems_when_the_sides_run_together(stack: Stack) -> None:
    """Given a Facebook post whose ticket a first commenter opened
    When a second customer comments on it (a known ticket: the Zendesk user and the Salesforce contact are made side by side,
    each side writing its id into the same customer record at the same time)
    Then the record keeps both ids, and the customer's next comment creates neither again."""
    first = sample_event("meta-fb-comment")
    stack.process.handle(first, delivery_id="sqs-1")
    assert first.author is not None
    other = msgspec.structs.replace(first.author, id="7770001", display_name="Sam Other", handle=None)
    second = msgspec.structs.replace(follow_up(first, 1), author=other)
    stack.process.handle(second, delivery_id="sqs-2")
    key = f"facebook:{other.id}"
    customer = stack.store.customer(key)
    assert customer is not None and customer.desk_user_id is not None and customer.crm_contact_id is not None
    users, composites = stack.desk.calls["upsert_user"], len({a.event_key for a in stack.crm.activities.values()})
    stack.process.handle(msgspec.structs.replace(follow_up(first, 2), author=other), delivery_id="sqs-3")
    assert stack.desk.calls["upsert_user"] == users
    assert len(stack.crm.activities) == composites + 1
