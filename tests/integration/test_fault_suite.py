"""The fault suite: hours of traffic on every platform, duplicated and reordered, through ordinary faults.

The real batch driver and process use case run on a virtual clock, once on the store fake
with 1,000 messages and once on the DynamoDB adapter (moto, the table from the template) with
100 (about 40 s on moto), against SQS semantics (tests/support/sqs_sim.py) and stateful Zendesk and
Salesforce stand-ins that fail as the real ones do (tests/support/faulty_backends.py):
503s, 429s with Retry-After, lost responses after a ticket, comment or Task was created, a
30-minute Zendesk outage, 20 minutes of 429s and 3 hours of a spent Salesforce allocation.

It asserts what the README promises: one ticket per conversation, one Task per customer
message, every customer message on its ticket exactly once, every brand reply (WhatsApp
Business app echoes included), edit, deletion and failed delivery a note on its ticket
exactly once (deletions also tagged), nothing dead-lettered, and no Zendesk call before a
Retry-After expired by an event begun after the 429. Each container runs a batch's conversations
side by side, as deployed (so the figures vary a little from run to run with the threads' order;
what is asserted holds for every order).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from socialdesk.devtools.local_aws import AWS_ENVIRONMENT, local_aws
from socialdesk.model import EventKind, Platform, SocialEvent, make_event
from socialdesk.ports.queues import event_message
from socialdesk.process import ticket_content
from socialdesk.process.process_event import MESSAGE_KINDS, ProcessEvent
from socialdesk.process.sqs_batch import SqsBatch
from socialdesk.rules import RulesConfig
from socialdesk.store.dynamodb import DynamoDbConversationStore
from socialdesk.store.port import ConversationStore
from tests.support.faulty_backends import Faults, FaultyCrm, FaultyDesk, PausesKnown, Window
from tests.support.process_fakes import InMemoryStore
from tests.support.sqs_sim import SimQueue, SimQueueSender, SimRedelivery, VirtualClock
from tests.support.webhooks import FakeLambdaContext

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CONVERSATIONS = 250  # 50 on each platform
MOTO_CONVERSATIONS = 25
MESSAGES_PER_CONVERSATION = 4
DUPLICATED = 0.30
REORDER_SECONDS = 180
CONTAINERS = 3
HOUR = 3600.0


@dataclass
class Scenario:
    customer_messages: list[SocialEvent] = field(default_factory=list)
    notes: list[SocialEvent] = field(default_factory=list)
    """Events each of which is one internal note on its conversation's ticket."""
    deliveries: list[tuple[float, SocialEvent]] = field(default_factory=list)

    @property
    def deleted(self) -> set[str]:
        """The conversations in which a message was deleted: their tickets carry the deletion tag."""
        return {event.conversation_key for event in self.notes if event.kind is EventKind.DELETE}


def conversation_events(n: int, platform: Platform, start: datetime, rng: random.Random) -> tuple[list[SocialEvent], list[SocialEvent]]:
    """One conversation's life: four customer messages, a brand reply after the second (on WhatsApp a failed delivery, and
    a reply typed in the WhatsApp Business app after the third), and on X, Facebook and Messenger, in one conversation in
    three the customer editing their first message, in the next one deleting their last."""
    account = {"x": "900000000000000001", "facebook": "448242228374517", "instagram": "17841400000000001"}.get(platform, "106540352242922")
    customer = f"{7_000_000_000_000_000 + n}" if platform is not Platform.WHATSAPP else f"1650555{n:04d}"
    scope, thread = {
        Platform.X: ("thread", f"{1_950_000_000_000_000_000 + n * 100}"),
        Platform.FACEBOOK: ("post", f"{account}_{1_221_316_769_000_000 + n}"),
        Platform.INSTAGRAM: ("media", f"{17_900_000_000_000_000 + n}"),
        Platform.MESSENGER: ("dm", customer),
        Platform.WHATSAPP: ("chat", customer),
    }[platform]
    key = f"{platform}:{account}:{scope}:{thread}"
    kind = {Platform.X: EventKind.REPLY, Platform.MESSENGER: EventKind.DIRECT_MESSAGE, Platform.WHATSAPP: EventKind.DIRECT_MESSAGE}.get(
        platform, EventKind.COMMENT
    )
    at = start
    messages: list[SocialEvent] = []
    notes: list[SocialEvent] = []

    def ids(index: int) -> str:
        return thread if platform is Platform.X and index == 0 else f"{thread}{index:02d}" if platform is Platform.X else f"c{n}-{index}"

    for index in range(MESSAGES_PER_CONVERSATION):
        message_id = ids(index)
        parent = None if index == 0 else (f"{thread}90" if platform is Platform.X and index == 2 else ids(index - 1))
        messages.append(
            make_event(
                platform=platform,
                kind=EventKind.POST if platform is Platform.X and index == 0 else kind,
                event_id=message_id,
                message_id=message_id,
                conversation_key=key,
                account_id=account,
                created_at=at,
                from_brand=False,
                author={"id": customer, "handle": f"customer{n}", "display_name": f"Customer {n} ñ"},
                text=f"conversation {n} message {index}: où est ma commande? 주문 📦",
                in_reply_to=parent if platform is Platform.X else None,
            )
        )
        at += timedelta(seconds=rng.randint(60, 300))
        if index == 1:
            notes.append(brand_note(platform, key, account, thread, at=at, n=n, parent=ids(1)))
            at += timedelta(seconds=rng.randint(60, 300))
        if index == 2 and platform is Platform.WHATSAPP:
            notes.append(whatsapp_app_echo(key, account, at=at, n=n, parent=ids(2)))
            at += timedelta(seconds=rng.randint(60, 300))
    # Each platform's conversations take turns: one in three has its first message edited, the next its last one deleted.
    turn = n // len(Platform) % 3
    if turn == 0 and platform in EDIT_IDS:
        first = messages[0]
        notes.append(
            make_event(
                platform=platform,
                kind=EventKind.EDIT,
                event_id=EDIT_IDS[platform](first.message_id, thread),
                message_id=first.message_id,
                conversation_key=key,
                account_id=account,
                created_at=first.created_at + timedelta(seconds=90),
                from_brand=False,
                author={"id": customer},
                text=f"conversation {n} edited: où est ma commande?",
            )
        )
    if turn == 1 and platform in DELETION_IDS:
        notes.append(deletion(platform, key, account, messages[-1], customer=customer, at=at))
    return messages, notes


# An edit's event id, from the edited message's id (and the thread), as each platform's normaliser makes it: on X the
# new version's post id (platforms/x.py), a Facebook feed `edited` (its entry time), a Messenger `message_edit`
# (its edit count; platforms/meta.py). Instagram comments and WhatsApp messages arrive with no edits.
EDIT_IDS: dict[Platform, Callable[[str, str], str]] = {
    Platform.X: lambda message_id, thread: f"{thread}95",
    Platform.FACEBOOK: lambda message_id, thread: f"{message_id}:edited:1795420800",
    Platform.MESSENGER: lambda message_id, thread: f"{message_id}:edit:1",
}

# A deletion's event id, from the message's id, as each platform's normaliser makes it: an X `post.delete`
# (platforms/x.py), a Facebook feed `remove` (platforms/meta.py), a Messenger `is_deleted` message (an unsend).
DELETION_IDS: dict[Platform, Callable[[str], str]] = {
    Platform.X: lambda message_id: f"{message_id}:delete",
    Platform.FACEBOOK: lambda message_id: f"{message_id}:remove",
    Platform.MESSENGER: lambda message_id: f"{message_id}:deleted",
}


def deletion(platform: Platform, key: str, account: str, message: SocialEvent, *, customer: str, at: datetime) -> SocialEvent:
    """The customer deleting their last message: a note on the ticket, and the ticket tagged."""
    return make_event(
        platform=platform,
        kind=EventKind.DELETE,
        event_id=DELETION_IDS[platform](message.message_id),
        message_id=message.message_id,
        conversation_key=key,
        account_id=account,
        created_at=at,
        from_brand=False,
        author={"id": customer},
    )


def whatsapp_app_echo(key: str, account: str, *, at: datetime, n: int, parent: str) -> SocialEvent:
    """A reply the brand typed in the WhatsApp Business app (`smb_message_echoes`), as platforms/meta.py normalises it."""
    echo_id = f"wamid.app{n}"
    return make_event(
        platform=Platform.WHATSAPP,
        kind=EventKind.DIRECT_MESSAGE,
        event_id=echo_id,
        message_id=echo_id,
        conversation_key=key,
        account_id=account,
        created_at=at,
        from_brand=True,
        author={"id": account},
        text=f"brand answer from the WhatsApp Business app to conversation {n}",
        in_reply_to=parent,
    )


def brand_note(platform: Platform, key: str, account: str, thread: str, *, at: datetime, n: int, parent: str) -> SocialEvent:
    """The brand's reply on the platform, or for WhatsApp a failed delivery of one: each becomes a note."""
    if platform is Platform.WHATSAPP:
        return make_event(
            platform=platform,
            kind=EventKind.DELIVERY_STATUS,
            event_id=f"wamid.out{n}:failed",
            message_id=f"wamid.out{n}",
            conversation_key=key,
            account_id=account,
            created_at=at,
            from_brand=True,
            author={"id": account},
            delivery={"status": "failed", "error_code": 131047, "error_title": "Re-engagement message"},
        )
    reply_id = f"{thread}90" if platform is Platform.X else f"brand-{n}"
    return make_event(
        platform=platform,
        kind=EventKind.REPLY if platform is Platform.X else EventKind.DIRECT_MESSAGE if platform is Platform.MESSENGER else EventKind.COMMENT,
        event_id=reply_id,
        message_id=reply_id,
        conversation_key=key,
        account_id=account,
        created_at=at,
        from_brand=True,
        author={"id": account, "handle": "AcmeHelp"},
        text=f"brand answer to conversation {n}",
        in_reply_to=parent,
    )


def scenario(rng: random.Random, conversations: int) -> Scenario:
    built = Scenario()
    platforms = list(Platform)
    for n in range(conversations):
        start = START + timedelta(seconds=rng.uniform(0, 5 * HOUR))
        messages, notes = conversation_events(n, platforms[n % len(platforms)], start, rng)
        built.customer_messages += messages
        built.notes += notes
    for event in built.customer_messages + built.notes:
        sent = (event.created_at - START).total_seconds() + rng.uniform(0, REORDER_SECONDS)
        built.deliveries.append((sent, event))
        if rng.random() < DUPLICATED:  # a redelivery, earlier or later than other events
            built.deliveries.append((sent + rng.uniform(1, 900), event))
    built.deliveries.sort(key=lambda delivery: delivery[0])
    return built


@dataclass
class Outcome:
    desk: FaultyDesk
    crm: FaultyCrm
    redelivery: SimRedelivery
    queue: SimQueue
    scenario: Scenario
    batches: int
    finished_at: float
    known: PausesKnown


def run(store_for: Callable[[VirtualClock], ContextManager[ConversationStore]], *, conversations: int, seed: int = 20261201) -> Outcome:
    """The whole scenario on the virtual clock, until every queue is empty."""
    rng = random.Random(seed)
    clock = VirtualClock(START.timestamp())
    epoch = START.timestamp()
    known = PausesKnown()
    desk = FaultyDesk(
        clock,
        Faults(
            unavailable=0.02,
            lost_response=0.01,
            rate_limited=0.01,
            outages=(Window(epoch + 1 * HOUR, epoch + 1.5 * HOUR),),
            rate_limit_windows=(Window(epoch + 2.5 * HOUR, epoch + 2.5 * HOUR + 1200),),
        ),
        rng,
        known=known,
    )
    crm = FaultyCrm(clock, Faults(unavailable=0.02, lost_response=0.01), rng, limit_windows=(Window(epoch + 3 * HOUR, epoch + 6 * HOUR),))
    queue = SimQueue(clock)
    redelivery = SimRedelivery(queue)
    rules = RulesConfig.model_validate(
        {"zendesk": {"subdomain": "acme"}, "salesforce": {"contact_external_id_field": "Social_Handle__c", "login_domain": "acme.my"}}
    )
    plan = scenario(rng, conversations)
    with store_for(clock) as unwatched:
        store = known.watch(unwatched)

        def container() -> SqsBatch:
            process = ProcessEvent(
                store=store,
                desk=desk,
                crm=crm,
                rules=rules,
                events=SimQueueSender(queue),
                clock=lambda: datetime.fromtimestamp(clock(), UTC),
                jitter=lambda seconds: rng.uniform(0, seconds * 0.1),
            )
            return SqsBatch(process=process, redelivery=redelivery, clock=clock)

        containers = [container() for _ in range(CONTAINERS)]
        pending = list(plan.deliveries)
        batches = 0
        while pending or queue.messages:
            while pending and epoch + pending[0][0] <= clock.now:
                queue.send(event_message(pending.pop(0)[1]))
            worked = False
            for batch_driver in containers:
                batch = queue.receive(10)
                if not batch:
                    break
                worked = True
                batches += 1
                answer = batch_driver.run(queue.lambda_event(batch), FakeLambdaContext(function_name="socialdesk-process"))  # type: ignore[arg-type]
                failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
                for message in batch:
                    if message.message_id not in failed:
                        queue.delete(message.message_id)
            if worked:
                clock.now += 2
            else:
                upcoming = [moment for moment in (queue.next_visible(), epoch + pending[0][0] if pending else None) if moment is not None]
                clock.now = max(clock.now + 1, min(upcoming))
            assert clock.now < epoch + 48 * HOUR, "the queue never drained"
    return Outcome(desk, crm, redelivery, queue, plan, batches, clock.now, known)


@contextmanager
def dynamodb_store(clock: VirtualClock) -> Iterator[ConversationStore]:
    """The real DynamoDB adapter on moto, the table created from the template."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in AWS_ENVIRONMENT.items():
            patch.setenv(name, value)
        with local_aws() as aws:
            client = boto3.client("dynamodb")
            yield DynamoDbConversationStore(aws.resource("StateTable"), lambda: client, clock=lambda: datetime.fromtimestamp(clock(), UTC))


@contextmanager
def in_memory_store(clock: VirtualClock) -> Iterator[ConversationStore]:
    """The store fake, held to the DynamoDB adapter's semantics by tests/integration/test_conversation_store.py."""
    yield InMemoryStore()


@pytest.fixture(scope="module", params=["in-memory store", "dynamodb store"])
def outcome(request: pytest.FixtureRequest) -> Outcome:
    """The full scenario on the store fake (seconds), and a smaller one on the real DynamoDB adapter in moto (moto is slow)."""
    if request.param == "in-memory store":
        return run(in_memory_store, conversations=CONVERSATIONS)
    return run(dynamodb_store, conversations=MOTO_CONVERSATIONS)


def tickets_by_conversation(outcome: Outcome) -> Counter[str]:
    return Counter(str(ticket.external_id) for ticket in outcome.desk.tickets.values())


def test_every_conversation_has_exactly_one_ticket(outcome: Outcome) -> None:
    expected = {event.conversation_key for event in outcome.scenario.customer_messages}
    assert set(tickets_by_conversation(outcome)) == expected
    assert max(tickets_by_conversation(outcome).values()) == 1


def test_every_customer_message_is_one_salesforce_task(outcome: Outcome) -> None:
    recorded = Counter(activity.event_key for activity in outcome.crm.activities.values())
    assert set(recorded) == {event.dedupe_key for event in outcome.scenario.customer_messages}
    assert max(recorded.values()) == 1


def public_comments(outcome: Outcome) -> Counter[tuple[str, str]]:
    """(ticket's conversation key, body) of every public comment, counted."""
    return Counter(
        (str(ticket.external_id), comment.body) for ticket in outcome.desk.tickets.values() for comment in ticket.comments if comment.public
    )


def customer_message_counts(outcome: Outcome) -> dict[str, int]:
    """How many times each customer message is a public comment on the ticket of its conversation, by event."""
    on_tickets = public_comments(outcome)
    return {
        event.dedupe_key: on_tickets[(event.conversation_key, ticket_content.customer_words(event))] for event in outcome.scenario.customer_messages
    }


def test_every_customer_message_is_on_its_ticket_exactly_once(outcome: Outcome) -> None:
    # Given hours of traffic, 30 % of it delivered twice, through outages, 429s and answers Zendesk lost after commenting
    # When the queue has drained
    counts = customer_message_counts(outcome)
    # Then every customer message is one public comment on its own conversation's ticket: none missing, none repeated
    assert {key: count for key, count in counts.items() if count != 1} == {}
    # And the tickets hold no public comment that is not one of them
    assert sum(public_comments(outcome).values()) == len(outcome.scenario.customer_messages)


CONTEXT_NOTE = "Social context (socialdesk)\n"


def expected_note(event: SocialEvent) -> str:
    """The note the event must leave on its ticket, word for word."""
    if event.kind is EventKind.DELIVERY_STATUS:
        return ticket_content.delivery_failure_note(event)
    if event.kind is EventKind.EDIT:
        return ticket_content.edit_note(event)
    if event.kind is EventKind.DELETE:
        return ticket_content.deletion_note(event)
    return ticket_content.brand_reply_note(event)


def notes_by_conversation(outcome: Outcome) -> dict[str, Counter[str]]:
    """Every internal note but the social-context note, counted per ticket and keyed by the ticket's conversation key."""
    found: dict[str, Counter[str]] = {}
    for ticket in outcome.desk.tickets.values():
        bodies = found.setdefault(str(ticket.external_id), Counter())
        bodies.update(comment.body for comment in ticket.comments if not comment.public and not comment.body.startswith(CONTEXT_NOTE))
    return found


def test_every_brand_reply_edit_deletion_and_failed_delivery_is_one_note_on_its_ticket(outcome: Outcome) -> None:
    # Given brand replies (WhatsApp Business app echoes among them), edits, deletions and failed deliveries, delivered
    # twice, out of order and before their ticket exists, through the same faults
    expected: dict[str, Counter[str]] = {}
    for event in outcome.scenario.notes:
        expected.setdefault(event.conversation_key, Counter())[expected_note(event)] += 1
    assert all(count == 1 for bodies in expected.values() for count in bodies.values()), "the scenario repeats a note"
    assert {event.platform for event in outcome.scenario.notes if event.kind is EventKind.EDIT} == set(EDIT_IDS)
    assert {event.platform for event in outcome.scenario.notes if event.kind is EventKind.DELETE} == set(DELETION_IDS)
    assert {event.platform for event in outcome.scenario.notes if event.kind is EventKind.DELIVERY_STATUS} == {Platform.WHATSAPP}
    assert any(event.platform is Platform.WHATSAPP and event.kind is EventKind.DIRECT_MESSAGE for event in outcome.scenario.notes)
    # When the queue has drained
    found = notes_by_conversation(outcome)
    # Then each ticket's notes are exactly its conversation's expected notes, each once: none missing, repeated or stray
    mismatched = {key: (expected.get(key, Counter()), found.get(key, Counter())) for key in set(expected) | set(found)}
    assert {key: pair for key, pair in mismatched.items() if pair[0] != pair[1]} == {}


def test_every_ticket_has_one_social_context_note(outcome: Outcome) -> None:
    # Given tickets opened through lost answers and retries
    # When the queue has drained
    counts = {
        ticket.id: sum(1 for comment in ticket.comments if not comment.public and comment.body.startswith(CONTEXT_NOTE))
        for ticket in outcome.desk.tickets.values()
    }
    # Then each carries its social context once
    assert {ticket_id: count for ticket_id, count in counts.items() if count != 1} == {}


def test_exactly_the_tickets_with_a_deleted_message_are_tagged_deleted(outcome: Outcome) -> None:
    # Given customers deleting a message on X, Facebook and Messenger in some conversations
    assert {event.platform for event in outcome.scenario.notes if event.kind is EventKind.DELETE} == set(DELETION_IDS)
    # When the queue has drained
    tagged = {str(ticket.external_id) for ticket in outcome.desk.tickets.values() if ticket_content.DELETED_TAG in ticket.tags}
    # Then those conversations' tickets, and only those, carry the deletion tag
    assert tagged == outcome.scenario.deleted


def test_nothing_is_dead_lettered_and_the_queue_drains(outcome: Outcome) -> None:
    assert outcome.redelivery.dead_letter_queue == []
    assert outcome.queue.dead_letters == []
    assert outcome.queue.messages == {}


def test_zendesk_is_never_called_before_its_retry_after_expired(outcome: Outcome) -> None:
    # No event that began once the process knew of a 429 calls Zendesk before its Retry-After is over. An event of another
    # conversation already under way in the same batch may be making its call as the 429 comes (counted apart, printed).
    assert outcome.desk.early_calls == 0
    # And the process recorded every 429 it was given, so no call escaped the count by a pause it never knew of
    assert outcome.known.recorded("zendesk") == outcome.desk.rate_limited > 0


NOTE_KINDS = (EventKind.EDIT, EventKind.DELETE, EventKind.DELIVERY_STATUS)


def note_count(outcome: Outcome, *, brand: bool = False, kind: EventKind | None = None, platform: Platform | None = None) -> str:
    """How many of the scenario's notes are brand replies (or of `kind`), on `platform` if given."""
    return str(
        sum(
            1
            for event in outcome.scenario.notes
            if (event.kind in MESSAGE_KINDS if brand else event.kind is kind) and (platform is None or event.platform is platform)
        )
    )


def dead_lettered(outcome: Outcome) -> int:
    return len(outcome.redelivery.dead_letter_queue) + len(outcome.queue.dead_letters)


def test_the_figures_table(outcome: Outcome, capsys: pytest.CaptureFixture[str]) -> None:
    counts = customer_message_counts(outcome)
    notes = notes_by_conversation(outcome)
    rows = [
        ("conversations / tickets", f"{len(tickets_by_conversation(outcome))} / {len(outcome.desk.tickets)}"),
        ("customer messages / Salesforce Tasks", f"{len(outcome.scenario.customer_messages)} / {len(outcome.crm.activities)}"),
        ("notes expected / on tickets", f"{len(outcome.scenario.notes)} / {sum(sum(bodies.values()) for bodies in notes.values())}"),
        (
            "  brand replies (WhatsApp app echoes)",
            note_count(outcome, brand=True) + f" ({note_count(outcome, brand=True, platform=Platform.WHATSAPP)})",
        ),
        ("  edits / deletions / failed deliveries", " / ".join(note_count(outcome, kind=kind) for kind in NOTE_KINDS)),
        ("deliveries (30 % duplicated, reordered up to 3 min)", str(len(outcome.scenario.deliveries))),
        ("batches run", str(outcome.batches)),
        ("waits and retries re-queued", str(outcome.redelivery.requeues)),
        ("Zendesk responses lost / Salesforce responses lost", f"{outcome.desk.lost} / {outcome.crm.lost}"),
        ("duplicate customer comments", str(sum(count - 1 for count in counts.values() if count > 1))),
        ("messages lost / dead-lettered", f"{len(counts) - sum(1 for count in counts.values() if count > 0)} / {dead_lettered(outcome)}"),
        ("Zendesk calls before Retry-After expired", str(outcome.desk.early_calls)),
        ("  and by events under way when the 429 came", str(outcome.desk.calls_under_way)),
        ("virtual hours until drained", f"{(outcome.finished_at - START.timestamp()) / HOUR:.1f}"),
    ]
    with capsys.disabled():
        print(f"\nfault suite, {len(outcome.scenario.customer_messages)} customer messages")
        for name, value in rows:
            print(f"  {name:<52} {value}")
