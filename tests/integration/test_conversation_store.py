"""One set of behaviours, run against the DynamoDB store (moto, provisioned from the template) and the in-memory fake.

The unit tests of the process use case trust the fake; this keeps it honest.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import boto3
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialdesk.devtools.local_aws import AWS_ENVIRONMENT, local_aws
from socialdesk.model import SocialEvent
from socialdesk.model.conversation import ConversationActivity, Customer, EventProgress
from socialdesk.store.dynamodb import (
    ACTIVITY_FIELDS,
    IN_USE_RETENTION,
    MESSAGE_TIME_RETENTION,
    RECORD_RETENTION,
    DynamoDbConversationStore,
    _sortable,
)
from socialdesk.store.port import Alias, Claim, ConversationStore, EventBusyError, conversation_anchor, message_anchor
from tests.support.dynamodb_capacity import MeteredClient, OneRequestAtATime
from tests.support.events import follow_up, sample_event
from tests.support.process_fakes import InMemoryStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
KEY = "facebook:448242228374517:post:448242228374517_1221316769125949"


@pytest.fixture(params=["dynamodb", "in-memory"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[ConversationStore]:
    if request.param == "in-memory":
        yield InMemoryStore()
        return
    for name, value in AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with local_aws() as aws:
        client = boto3.client("dynamodb")
        yield DynamoDbConversationStore(aws.resource("StateTable"), lambda: client, clock=lambda: NOW)


def test_an_event_lease_keeps_duplicates_out_until_released_or_expired(store: ConversationStore) -> None:
    store.begin_event("e1", owner="sqs-a", now=NOW, lease_seconds=90)
    with pytest.raises(EventBusyError) as busy:
        store.begin_event("e1", owner="sqs-b", now=NOW + timedelta(seconds=30), lease_seconds=90)
    assert busy.value.retry_after == 60
    resumed = store.begin_event("e1", owner="sqs-a", now=NOW + timedelta(seconds=31), lease_seconds=90)  # the same delivery resumes
    taken = store.begin_event("e1", owner="sqs-b", now=NOW + timedelta(seconds=200), lease_seconds=90)  # an expired lease is taken over
    # And each says the try before it died mid-way (its lease was never released), so what it sent is unknown
    assert resumed.comments_uncertain and taken.comments_uncertain
    store.save_progress("e1", msgspec.structs.replace(taken, comments_uncertain=False), now=NOW, release=True)
    assert not store.begin_event("e1", owner="sqs-c", now=NOW + timedelta(seconds=201), lease_seconds=90).comments_uncertain


def test_progress_is_kept_and_a_completed_event_is_open_to_every_delivery(store: ConversationStore) -> None:
    store.begin_event("e2", owner="sqs-a", now=NOW, lease_seconds=90)
    store.save_progress("e2", EventProgress(zendesk_done=True, ticket_id=4014), now=NOW, release=False)
    with pytest.raises(EventBusyError):
        store.begin_event("e2", owner="sqs-b", now=NOW, lease_seconds=90)
    done = EventProgress(zendesk_done=True, salesforce_done=True, ticket_id=4014, salesforce_ref="00T1", completed=True)
    store.save_progress("e2", done, now=NOW, release=True)
    # And the first try's time is kept for every later one
    assert store.begin_event("e2", owner="sqs-c", now=NOW + timedelta(hours=1), lease_seconds=90) == msgspec.structs.replace(done, first_tried_at=NOW)


def test_a_redelivery_of_a_completed_event_leaves_its_record_as_it_was(store: ConversationStore) -> None:
    # Given an event completed and released by its first delivery
    store.begin_event("e5", owner="sqs-a", now=NOW, lease_seconds=90)
    done = EventProgress(zendesk_done=True, salesforce_done=True, ticket_id=4014, salesforce_ref="00T1", completed=True)
    store.save_progress("e5", done, now=NOW, release=True)
    # When the platform redelivers it, and a minute later once more
    again = store.begin_event("e5", owner="sqs-b", now=NOW + timedelta(hours=1), lease_seconds=90)
    once_more = store.begin_event("e5", owner="sqs-c", now=NOW + timedelta(hours=1, minutes=1), lease_seconds=90)
    # Then both read it completed, and neither took a lease: the second does not take the first for a try that died mid-way
    assert again == once_more == msgspec.structs.replace(done, first_tried_at=NOW)


def test_a_kept_classification_is_what_every_later_try_reads(store: ConversationStore) -> None:
    # Given a first try that kept the classification Comprehend gave it, then crashed
    store.begin_event("e5", owner="sqs-a", now=NOW, lease_seconds=90)
    kept = '{"language":"en","reply_language":"en","sentiment":"negative","sentiment_score":-0.9,"priority":"high"}'
    store.save_progress("e5", EventProgress(classification=kept), now=NOW, release=False)
    # When the next delivery begins after the lease ran out
    progress = store.begin_event("e5", owner="sqs-b", now=NOW + timedelta(minutes=5), lease_seconds=90)
    # Then it reads the same classification
    assert progress.classification == kept


def test_released_progress_is_resumed_by_the_next_delivery(store: ConversationStore) -> None:
    store.begin_event("e3", owner="sqs-a", now=NOW, lease_seconds=90)
    partial = EventProgress(zendesk_done=True, salesforce_attempted=True, ticket_id=4014)
    store.save_progress("e3", partial, now=NOW, release=True)
    partial = msgspec.structs.replace(partial, comments_uncertain=True)
    store.save_progress("e3", partial, now=NOW, release=True)
    assert store.begin_event("e3", owner="sqs-b", now=NOW, lease_seconds=90) == msgspec.structs.replace(partial, first_tried_at=NOW)


def test_an_edit_taken_for_the_customers_message_stays_so_for_every_later_try(store: ConversationStore) -> None:
    # Given an X edit whose post never came, decided to be the customer's message (saved while its lease is held)
    store.begin_event("e4", owner="sqs-a", now=NOW, lease_seconds=90)
    store.save_progress("e4", EventProgress(edit_as_message=True), now=NOW, release=False)
    # When the try dies and a later one resumes it, and saves without saying so again
    resumed = store.begin_event("e4", owner="sqs-a", now=NOW + timedelta(minutes=6), lease_seconds=90)
    store.save_progress("e4", EventProgress(zendesk_done=True), now=NOW, release=True)
    # Then every try reads the decision
    assert resumed.edit_as_message
    assert store.begin_event("e4", owner="sqs-b", now=NOW + timedelta(minutes=7), lease_seconds=90).edit_as_message


def test_one_claim_wins_a_new_conversation_and_the_rest_learn_the_ticket(store: ConversationStore) -> None:
    event = sample_event("meta-fb-comment")
    store.record_activity(KEY, event, customer_key="facebook:7012345678901234")
    assert store.claim_ticket(KEY, owner="A", expected_ticket_id=None, now=NOW, stale_after=90).won
    lost = store.claim_ticket(KEY, owner="B", expected_ticket_id=None, now=NOW + timedelta(seconds=5), stale_after=90)
    assert (lost.won, lost.ticket_id, lost.retry_after) == (False, None, 85)
    resumed = store.claim_ticket(KEY, owner="A", expected_ticket_id=None, now=NOW + timedelta(seconds=6), stale_after=90)
    assert (resumed.won, resumed.creator) == (True, "A")
    store.set_ticket(KEY, ticket_id=4014, opened_by="A", replaces=None)
    late = store.claim_ticket(KEY, owner="B", expected_ticket_id=None, now=NOW + timedelta(seconds=7), stale_after=90)
    assert (late.won, late.ticket_id) == (False, 4014)
    conversation = store.conversation(KEY)
    assert conversation is not None
    assert (conversation.ticket_id, conversation.opened_by, conversation.claim_owner) == (4014, "A", None)


def test_a_fresh_claim_names_no_creator_so_nothing_is_searched_for(store: ConversationStore) -> None:
    store.record_activity(KEY, sample_event("meta-fb-comment"), customer_key=None)
    assert store.claim_ticket(KEY, owner="A", expected_ticket_id=None, now=NOW, stale_after=90) == Claim(won=True, creator=None)


def test_a_stale_claim_taken_over_keeps_naming_the_first_creator_until_the_taker_says_it_creates(store: ConversationStore) -> None:
    # Given A claimed and went silent (it may have created the ticket)
    store.record_activity(KEY, sample_event("meta-fb-comment"), customer_key=None)
    store.claim_ticket(KEY, owner="A", expected_ticket_id=None, now=NOW, stale_after=90)
    # When B takes the stale claim over, and again on B's own retry
    takeover = store.claim_ticket(KEY, owner="B", expected_ticket_id=None, now=NOW + timedelta(seconds=91), stale_after=90)
    retry = store.claim_ticket(KEY, owner="B", expected_ticket_id=None, now=NOW + timedelta(seconds=200), stale_after=90)
    # Then both say a ticket found is A's, made no earlier than A's claim
    assert (takeover.won, takeover.creator, retry.creator) == (True, "A", "A")
    assert takeover.creator_since == retry.creator_since == NOW
    # And once B found none and says it creates, the claim names B, from then
    store.mark_creator(KEY, owner="B", now=NOW + timedelta(seconds=200))
    again = store.claim_ticket(KEY, owner="B", expected_ticket_id=None, now=NOW + timedelta(seconds=201), stale_after=90)
    assert (again.creator, again.creator_since) == ("B", NOW + timedelta(seconds=200))
    # And the ticket's arrival forgets the creator: the next claim (a follow-up ticket) starts clean
    store.set_ticket(KEY, ticket_id=4014, opened_by="B", replaces=None)
    assert store.claim_ticket(KEY, owner="C", expected_ticket_id=4014, now=NOW + timedelta(seconds=202), stale_after=90).creator is None


def test_replacing_a_closed_ticket_is_claimed_against_the_old_one_and_remembered(store: ConversationStore) -> None:
    store.record_activity(KEY, sample_event("meta-fb-comment"), customer_key=None)
    store.claim_ticket(KEY, owner="A", expected_ticket_id=None, now=NOW, stale_after=90)
    store.set_ticket(KEY, ticket_id=4014, opened_by="A", replaces=None)
    assert store.claim_ticket(KEY, owner="C", expected_ticket_id=4014, now=NOW, stale_after=90).won
    assert not store.claim_ticket(KEY, owner="D", expected_ticket_id=4014, now=NOW, stale_after=90).won
    store.set_ticket(KEY, ticket_id=4020, opened_by="C", replaces=4014)
    conversation = store.conversation(KEY)
    assert conversation is not None
    assert (conversation.ticket_id, conversation.previous_ticket_ids) == (4020, [4014])


def test_activity_is_order_insensitive_and_replays_change_nothing(store: ConversationStore) -> None:
    first = sample_event("meta-fb-comment")
    later = follow_up(first, 1)
    brand = msgspec.structs.replace(follow_up(first, 2), from_brand=True)
    for event in (brand, later, first, later, brand):
        store.record_activity(KEY, event, customer_key="facebook:7012345678901234")
    conversation = store.conversation(KEY)
    assert conversation is not None
    activity = conversation.activity
    assert (activity.first_customer_at, activity.last_customer_at) == (first.created_at, later.created_at)
    assert activity.first_response_at == brand.created_at
    assert activity.waiting_since is None
    assert conversation.customer_key == "facebook:7012345678901234"


def test_messages_map_to_their_conversation_per_platform_and_account(store: ConversationStore) -> None:
    event = sample_event("x-mention")
    store.remember_message(event, "x:900000000000000001:thread:1924465506158878979")
    assert store.conversation_of_message(event, event.message_id) == "x:900000000000000001:thread:1924465506158878979"
    other_account = msgspec.structs.replace(event, account_id="42")
    assert store.conversation_of_message(other_account, event.message_id) is None


def test_an_event_parked_on_an_unseen_message_is_handed_back_when_that_message_is_remembered(store: ConversationStore) -> None:
    # Given a brand reply parked on the customer post it answers, which nobody has seen yet
    reply = sample_event("x-brand-reply")
    parent = message_anchor(reply.platform, reply.account_id, "1111")
    assert store.park(parent, reply, now=NOW)
    # Then the message the reply waits for is still unknown: parking gives it no conversation
    assert store.conversation_of_message(reply, "1111") is None
    # When the customer post is remembered
    parked = store.remember_message(msgspec.structs.replace(reply, message_id="1111"), KEY)
    # Then the write says events wait, and they are handed back once, then forgotten
    assert parked
    assert store.parked(parent) == [reply]
    store.unpark(parent, [reply])
    assert store.parked(parent) == []
    assert not store.remember_message(msgspec.structs.replace(reply, message_id="1111"), KEY)
    # And parking on a message already known is refused: the caller places the event at once
    assert not store.park(parent, reply, now=NOW)


def test_an_event_parked_on_a_conversation_is_handed_back_when_its_ticket_is_set(store: ConversationStore) -> None:
    # Given an edit parked on a conversation that has no ticket yet (and no item at all)
    edit = sample_event("meta-fb-comment")
    anchor = conversation_anchor(KEY)
    assert store.park(anchor, edit, now=NOW)
    conversation = store.conversation(KEY)
    assert conversation is not None and conversation.parked and conversation.ticket_id is None
    # When the first message of the conversation arrives and opens the ticket
    store.record_activity(KEY, edit, customer_key="facebook:7012345678901234")
    assert store.claim_ticket(KEY, owner="A", expected_ticket_id=None, now=NOW, stale_after=90).won
    assert store.set_ticket(KEY, ticket_id=4014, opened_by="A", replaces=None)
    # Then the parked event is handed back, and the conversation stops saying so once it is unparked
    assert store.parked(anchor) == [edit]
    store.unpark(anchor, [edit])
    conversation = store.conversation(KEY)
    assert conversation is not None and not conversation.parked
    assert not store.park(anchor, edit, now=NOW)


def test_a_pause_is_shared_and_only_ever_extended(store: ConversationStore) -> None:
    store.pause("zendesk", until=NOW + timedelta(seconds=60))
    store.pause("zendesk", until=NOW + timedelta(seconds=30))
    store.pause("salesforce", until=NOW + timedelta(seconds=900))
    assert store.pauses() == {"zendesk": NOW + timedelta(seconds=60), "salesforce": NOW + timedelta(seconds=900)}


def test_customer_ids_are_merged_not_overwritten(store: ConversationStore) -> None:
    store.save_customer(Customer(key="x:1", desk_user_id=494820284))
    store.save_customer(Customer(key="x:1", crm_contact_id="003A"))
    assert store.customer("x:1") == Customer(key="x:1", desk_user_id=494820284, crm_contact_id="003A")
    assert store.customer("x:2") is None


BSUID_CHAT, PHONE_CHAT = "whatsapp:106540352242922:chat:US.13491208655302741918", "whatsapp:106540352242922:chat:16505551234"


def test_an_alias_is_bound_once_and_the_first_binding_stays(store: ConversationStore) -> None:
    # Given a key nobody bound
    assert store.alias(BSUID_CHAT) is None
    # When two events bind it to different keys, one after the other
    first = store.bind_alias(BSUID_CHAT, target=PHONE_CHAT)
    second = store.bind_alias(BSUID_CHAT, target=BSUID_CHAT)
    # Then both learn the first binding, and it is what a reader finds
    assert first == second == store.alias(BSUID_CHAT) == Alias(target=PHONE_CHAT)


def test_an_owner_claims_an_unowned_alias_and_then_only_it_may_repoint_it(store: ConversationStore) -> None:
    # Given a phone key bound by a phone-only event (nobody owns it)
    store.bind_alias(PHONE_CHAT, target=PHONE_CHAT)
    # When a business-scoped id claims it, re-points it, and another id tries to claim it too
    claimed = store.bind_alias(PHONE_CHAT, target=PHONE_CHAT, owner=BSUID_CHAT)
    repointed = store.bind_alias(PHONE_CHAT, target=BSUID_CHAT, owner=BSUID_CHAT)
    refused = store.bind_alias(PHONE_CHAT, target="whatsapp:106540352242922:chat:GB.99", owner="whatsapp:106540352242922:chat:GB.99")
    # Then the first claimant keeps it, as it last pointed it
    assert claimed == Alias(target=PHONE_CHAT, owner=BSUID_CHAT)
    assert repointed == refused == store.alias(PHONE_CHAT) == Alias(target=BSUID_CHAT, owner=BSUID_CHAT)


def test_an_alias_in_use_outlives_its_first_retention(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with local_aws() as aws:
        client: Any = boto3.client("dynamodb")
        table, now = aws.resource("StateTable"), [NOW]
        store = DynamoDbConversationStore(table, lambda: client, clock=lambda: now[0])

        def expires_at() -> int:
            item = client.get_item(TableName=table, Key={"pk": {"S": f"ALIAS#{BSUID_CHAT}"}, "sk": {"S": "ALIAS"}})["Item"]
            return int(item["expires_at"]["N"])

        # Given a chat's alias bound today
        store.bind_alias(BSUID_CHAT, target=PHONE_CHAT)
        bound_until = expires_at()
        # When it is read a day later, then 40 days later
        now[0] = NOW + timedelta(days=1)
        store.alias(BSUID_CHAT)
        unchanged = expires_at()
        now[0] = NOW + timedelta(days=40)
        assert store.alias(BSUID_CHAT) == Alias(target=PHONE_CHAT)
        # Then only the later read extends it (a month of use costs one write), and it never has less than 400 days left
        # after a use: bound for 430, extended to 430 from then once fewer than 400 were left
        assert unchanged == bound_until == int((NOW + IN_USE_RETENTION).timestamp())
        assert expires_at() == int((NOW + timedelta(days=40) + IN_USE_RETENTION).timestamp())
        assert IN_USE_RETENTION - timedelta(days=40 - 1) < RECORD_RETENTION


def test_a_messages_time_is_kept_45_days_and_its_conversation_400(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with local_aws() as aws:
        client: Any = boto3.client("dynamodb")
        table = aws.resource("StateTable")
        store = DynamoDbConversationStore(table, lambda: client, clock=lambda: NOW)
        # Given a customer's message recorded on its conversation
        event = sample_event("x-mention")
        store.record_activity(event.conversation_key, event, customer_key=None)
        # Then its time item lasts 45 days, past the latest an out-of-order neighbour can arrive (8 days old at ingest,
        # 7 waiting, 14 dead-lettered), and the conversation itself 400 days: a message's time no longer costs storage
        # for as long as the conversation is remembered
        items = client.query(
            TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": f"CONV#{event.conversation_key}"}}
        )
        kept = {item["sk"]["S"].split("#", 1)[0]: int(item["expires_at"]["N"]) for item in items["Items"]}
        assert kept == {"T": int((NOW + MESSAGE_TIME_RETENTION).timestamp()), "CONV": int((NOW + RECORD_RETENTION).timestamp())}
        assert timedelta(days=8 + 7 + 14) <= MESSAGE_TIME_RETENTION


# Distinct minutes, each a customer (False) or brand (True) message, in the order they are delivered.
timelines = st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=600)), min_size=1, max_size=7, unique_by=lambda m: m[1])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(timelines, st.randoms(use_true_random=False))
def test_any_delivery_order_gives_the_facts_of_the_whole_set(store: ConversationStore, messages: list[tuple[bool, int]], rng: Any) -> None:
    # Given a conversation's messages delivered in any order, some twice
    key, first = f"facebook:1:post:{uuid.uuid4()}", sample_event("meta-fb-comment")
    delivered = [*messages, *rng.sample(messages, k=min(2, len(messages)))]
    rng.shuffle(delivered)
    for from_brand, minute in delivered:
        event = msgspec.structs.replace(follow_up(first, minute, minutes=1), from_brand=from_brand)
        store.record_activity(key, event, customer_key=None)
    # Then the stored facts are those of the whole set of times, as if delivered once and in order
    at = {minute: first.created_at + timedelta(minutes=minute) for _, minute in messages}
    expected = ConversationActivity.of((at[m] for brand, m in messages if not brand), (at[m] for brand, m in messages if brand))
    conversation = store.conversation(key)
    assert conversation is not None
    assert conversation.activity == expected


@pytest.fixture
def metered(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DynamoDbConversationStore, MeteredClient]]:
    """The DynamoDB store (moto, the table from the template) on a client that counts capacity by AWS's sizing rules."""
    for name, value in AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with local_aws() as aws:
        client = MeteredClient(boto3.client("dynamodb"))
        yield DynamoDbConversationStore(aws.resource("StateTable"), lambda: client, clock=lambda: NOW), client  # type: ignore[arg-type,return-value]


Cost = tuple[dict[str, float], dict[str, int]]


def cost_of(client: MeteredClient, step: Callable[[], object]) -> Cost:
    """The capacity units and DynamoDB calls of one step."""
    client.reset()
    step()
    return dict(client.units), dict(client.calls)


def test_a_redelivery_of_a_completed_event_costs_one_read_and_no_write(metered: tuple[DynamoDbConversationStore, MeteredClient]) -> None:
    store, client = metered
    # Given an event's first delivery, and a duplicate that arrives while the first holds the lease
    first = cost_of(client, lambda: store.begin_event("e6", owner="sqs-a", now=NOW, lease_seconds=90))
    client.reset()
    with pytest.raises(EventBusyError):
        store.begin_event("e6", owner="sqs-b", now=NOW + timedelta(seconds=5), lease_seconds=90)
    busy = dict(client.units), dict(client.calls)
    done = EventProgress(zendesk_done=True, salesforce_done=True, ticket_id=4014, completed=True)
    store.save_progress("e6", done, now=NOW, release=True)
    # When the platform redelivers the completed event
    redelivery = cost_of(client, lambda: store.begin_event("e6", owner="sqs-c", now=NOW + timedelta(days=6), lease_seconds=90))
    # Then the redelivery costs one strongly consistent read and writes nothing (README: Exactly once)
    assert redelivery == ({"RRU": 1}, {"GetItem": 1})
    # And only a delivery that works takes the lease (a read, then a conditional write); the duplicate is answered by the read
    assert first == ({"RRU": 1, "WRU": 1}, {"GetItem": 1, "UpdateItem": 1})
    assert busy == ({"RRU": 1}, {"GetItem": 1})


class ReadThen:
    """A DynamoDB client that runs `then` once, right after its first GetItem answered: another worker acting in between."""

    def __init__(self, client: Any, then: Callable[[], object]) -> None:
        self._client, self._then = client, [then]

    def get_item(self, **request: Any) -> Any:
        response = self._client.get_item(**request)
        while self._then:
            self._then.pop()()
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_a_duplicate_that_takes_the_lease_between_the_read_and_the_write_is_refused_by_the_condition(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with local_aws() as aws:
        client, table = boto3.client("dynamodb"), aws.resource("StateTable")
        first = DynamoDbConversationStore(table, lambda: client)
        # Given a new event whose second delivery reads its record just before the first delivery takes the lease
        racing = ReadThen(client, lambda: first.begin_event("e7", owner="sqs-a", now=NOW, lease_seconds=90))
        second = DynamoDbConversationStore(table, lambda: racing)  # type: ignore[arg-type,return-value]
        # When the second goes on to take the lease the read showed free
        with pytest.raises(EventBusyError) as busy:
            second.begin_event("e7", owner="sqs-b", now=NOW + timedelta(seconds=1), lease_seconds=90)
        # Then the conditional write refuses it: the first delivery keeps the lease, the second waits for it to end
        assert busy.value.retry_after == 89


def deliver(store: ConversationStore, event: SocialEvent, *, customer_key: str | None) -> None:
    """What the process use case asks the store for each message of a conversation: begin the event record, look the
    message up, add it to the conversation (its time item, the facts), remember the message's anchor, complete the record."""
    progress = store.begin_event(event.dedupe_key, owner=f"sqs-{event.event_id}", now=NOW, lease_seconds=90)
    store.conversation_of_message(event, event.message_id)
    store.record_activity(KEY, event, customer_key=customer_key)
    store.remember_message(event, KEY)
    completed = msgspec.structs.replace(progress, zendesk_done=True, salesforce_done=True, completed=True)
    store.save_progress(event.dedupe_key, completed, now=NOW, release=True)


def test_a_message_costs_the_same_capacity_at_message_2000_as_at_message_1(
    metered: tuple[DynamoDbConversationStore, MeteredClient],
) -> None:
    # Given a chat on the DynamoDB store whose customer and brand alternate, metered by AWS's sizing rules
    store, client = metered
    first = sample_event("meta-fb-comment")
    customer = "facebook:7012345678901234"

    def message(index: int) -> SocialEvent:
        return msgspec.structs.replace(follow_up(first, index, minutes=1), from_brand=index % 2 == 1)

    def cost(index: int) -> Cost:
        event = message(index)
        return cost_of(client, lambda: deliver(store, event, customer_key=None if event.from_brand else customer))

    # When message 1 opens it (and its ticket), messages 2 to 50 follow, 51 to 1,999 are stored, then message 2,000 comes
    costs = [cost(0)]
    store.claim_ticket(KEY, owner=message(0).dedupe_key, expected_ticket_id=None, now=NOW, stale_after=90)
    store.set_ticket(KEY, ticket_id=4014, opened_by=message(0).dedupe_key, replaces=None)
    costs += [cost(index) for index in range(1, 50)]
    store_as_delivered(client, [message(index) for index in range(50, 1999)], customer=customer, facts_of=[message(i) for i in range(1999)])
    costs.append(cost(1999))
    # Then message 2,000 costs what message 1 and every one up to 50 did: nothing the store reads or writes grows with the conversation
    assert all(each == costs[0] for each in costs)
    # And that is 3 RRU and 5 WRU: the event record read and leased, the message looked up, its time written, the
    # conversation's facts read and written, its anchor written, the record completed, each item under 1 KB
    assert costs[-1] == ({"RRU": 3, "WRU": 5}, {"GetItem": 3, "UpdateItem": 4, "PutItem": 1})
    # And the conversation is the one of 2,000 messages, as if each had come through the store
    conversation = store.conversation(KEY)
    assert conversation is not None and conversation.version == 2000
    everything = [message(index) for index in range(2000)]
    assert conversation.activity == ConversationActivity.of(
        (event.created_at for event in everything if not event.from_brand), (event.created_at for event in everything if event.from_brand)
    )


def store_as_delivered(client: MeteredClient, events: list[SocialEvent], *, customer: str, facts_of: list[SocialEvent]) -> None:
    """Write what delivering `events` one by one leaves under the conversation, in batches (moto takes ~20 ms a message).

    Each message's time item, and the conversation item with the facts and the version of every message in `facts_of`. The
    messages' event records and anchors are items of their own, which no later message reads, so they are left out.
    """
    raw: Any = client._client
    table = raw.list_tables()["TableNames"][0]
    expires = int((NOW + RECORD_RETENTION).timestamp())
    items = [
        {
            "pk": {"S": f"CONV#{KEY}"},
            "sk": {"S": f"T#{'B' if event.from_brand else 'C'}#{_sortable(event.created_at)}#{event.dedupe_key}"},
            "expires_at": {"N": str(expires)},
        }
        for event in events
    ]
    for start in range(0, len(items), 25):
        raw.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]})
    facts = ConversationActivity.of(
        (event.created_at for event in facts_of if not event.from_brand), (event.created_at for event in facts_of if event.from_brand)
    )
    values = {f":{name}": {"S": getattr(facts, name).isoformat()} for name in ACTIVITY_FIELDS if getattr(facts, name) is not None}
    assert facts.waiting_since is not None  # message 1,999 is the customer's: every fact is set, as after message 2,000
    raw.update_item(
        TableName=table,
        Key={"pk": {"S": f"CONV#{KEY}"}, "sk": {"S": "CONV"}},
        UpdateExpression="SET " + ", ".join(f"{name} = :{name}" for name in ACTIVITY_FIELDS) + ", version = :version, customer_key = :customer",
        ExpressionAttributeValues={**values, ":version": {"N": str(len(facts_of))}, ":customer": {"S": customer}},
    )


def test_a_note_for_a_closed_ticket_waits_for_the_ticket_that_replaces_it(store: ConversationStore) -> None:
    # Given a conversation whose ticket 4014 is closed, and a brand reply parked until a ticket other than 4014 exists
    store.record_activity(KEY, sample_event("meta-fb-comment"), customer_key=None)
    store.claim_ticket(KEY, owner="A", expected_ticket_id=None, now=NOW, stale_after=90)
    store.set_ticket(KEY, ticket_id=4014, opened_by="A", replaces=None)
    reply = msgspec.structs.replace(follow_up(sample_event("meta-fb-comment"), 1), from_brand=True)
    anchor = conversation_anchor(KEY)
    assert store.park(anchor, reply, now=NOW, replacing=4014)
    # When the follow-up ticket replaces it, Then its writer learns that an event waits for it, and finds it parked
    store.claim_ticket(KEY, owner="B", expected_ticket_id=4014, now=NOW, stale_after=90)
    assert store.set_ticket(KEY, ticket_id=4020, opened_by="B", replaces=4014)
    assert [event.event_id for event in store.parked(anchor)] == [reply.event_id]
    # And once it exists, parking against the closed ticket again is refused: the event goes straight to the new one
    assert not store.park(anchor, reply, now=NOW, replacing=4014)


def test_an_events_automatic_message_done_is_kept_with_its_progress(store: ConversationStore) -> None:
    store.begin_event("e-auto", owner="sqs-a", now=NOW, lease_seconds=90)
    store.save_progress("e-auto", EventProgress(zendesk_done=True, ticket_id=4014, automatic_done=True), now=NOW, release=True)
    assert store.begin_event("e-auto", owner="sqs-b", now=NOW, lease_seconds=90).automatic_done


def test_one_automatic_message_per_conversation_per_window(store: ConversationStore) -> None:
    window = timedelta(hours=24)
    # Given a message claiming its conversation's automatic message
    assert store.claim_automatic(KEY, owner="event-1", now=NOW, window=window)
    # When the same event claims again (its retry), and another message of the conversation claims within the window
    retry = store.claim_automatic(KEY, owner="event-1", now=NOW + timedelta(minutes=6), window=window)
    other = store.claim_automatic(KEY, owner="event-2", now=NOW + timedelta(hours=23, minutes=59), window=window)
    # Then the retry keeps its claim, the other is refused
    assert retry and not other
    # And another conversation is not concerned
    assert store.claim_automatic(KEY + "-other", owner="event-2", now=NOW, window=window)
    # When the window has passed, the next message takes the next window; the old claimant no longer holds it
    assert store.claim_automatic(KEY, owner="event-3", now=NOW + timedelta(hours=24), window=window)
    assert not store.claim_automatic(KEY, owner="event-1", now=NOW + timedelta(hours=24, minutes=1), window=window)


def test_a_claim_refused_inside_its_window_costs_a_read_and_no_write(metered: tuple[DynamoDbConversationStore, MeteredClient]) -> None:
    store, client = metered
    window = timedelta(hours=24)
    # Given a conversation whose automatic message was claimed by its first message (a read, then the conditional write)
    first = cost_of(client, lambda: store.claim_automatic(KEY, owner="event-1", now=NOW, window=window))
    # When its follow-up comes inside the window
    refused: list[bool] = []
    follow_up = cost_of(client, lambda: refused.append(store.claim_automatic(KEY, owner="event-2", now=NOW + timedelta(minutes=3), window=window)))
    # Then it is refused by one eventually consistent read (half an RRU), writing nothing (docs/benchmarks.md: a follow-up's 5 WRU)
    assert refused == [False]
    assert follow_up == ({"RRU": 0.5}, {"GetItem": 1})
    assert first == ({"RRU": 0.5, "WRU": 1}, {"GetItem": 1, "UpdateItem": 1})


def test_a_retry_keeps_the_time_its_claim_was_taken(store: ConversationStore) -> None:
    window = timedelta(hours=1)
    # Given a claim, and its retry 50 minutes later
    assert store.claim_automatic(KEY, owner="event-1", now=NOW, window=window)
    assert store.claim_automatic(KEY, owner="event-1", now=NOW + timedelta(minutes=50), window=window)
    # Then the window still ends an hour after the first claim, not after the retry
    assert store.claim_automatic(KEY, owner="event-2", now=NOW + timedelta(hours=1), window=window)


def test_two_events_claiming_at_once_get_one_automatic_message(store: ConversationStore) -> None:
    if isinstance(store, DynamoDbConversationStore):
        client = cast("DynamoDBClient", OneRequestAtATime(store._client()))
        store = DynamoDbConversationStore(store._table, lambda: client, clock=lambda: NOW)
    # Given eight messages of one conversation claiming at the same moment from eight workers
    barrier = threading.Barrier(8)
    won: list[str] = []

    def claim(owner: str) -> None:
        barrier.wait()
        if store.claim_automatic(KEY, owner=owner, now=NOW, window=timedelta(hours=24)):
            won.append(owner)

    workers = [threading.Thread(target=claim, args=(f"event-{number}",)) for number in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # Then exactly one holds the window
    assert len(won) == 1
