"""The batch driver runs a batch's conversations side by side, and each conversation's events in the order they came.

Threads meet on `threading.Event`s, never on sleeps: each test says which step waits for which. A wait that should
never be needed has a timeout as a safety net, and the test then fails on what that wait saw.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest

from socialdesk.desk.port import DeskRateLimitedError, DeskUser
from socialdesk.model import SocialEvent
from socialdesk.model.conversation import EventProgress
from socialdesk.ports.queues import QueueMessage, QueueUnavailableError, event_message
from socialdesk.process.failures import PermanentFailureError, WaitError
from socialdesk.process.sqs_batch import FAILURE_REASON_ATTRIBUTE, MIN_REMAINING_MILLIS, RETRY_ATTRIBUTE, Outcome, SqsBatch
from tests.support.events import follow_up, sample_event
from tests.support.process_fakes import CrashError, FakeDesk, InMemoryStore
from tests.support.process_world import World
from tests.support.sqs_sim import SimMessage, SimQueue, SimRedelivery, VirtualClock
from tests.support.webhooks import FakeLambdaContext

START = 1_795_000_000.0
SAFETY_NET = 5  # seconds: only a broken driver ever waits this long


def batch_of(*events: SocialEvent | str) -> tuple[SimQueue, list[SimMessage]]:
    """The events (or raw bodies) queued in this order and received as one batch."""
    queue = SimQueue(VirtualClock(START))
    for event in events:
        queue.send(event_message(event) if isinstance(event, SocialEvent) else QueueMessage(body=event, attributes={}))
    return queue, queue.receive()


def run(driver: SqsBatch, queue: SimQueue, batch: list[SimMessage], context: Any = None) -> list[str]:
    """Run the batch; the message ids reported failed."""
    lambda_context: Any = context or FakeLambdaContext()
    answer: Any = driver.run(queue.lambda_event(batch), lambda_context)
    return [item["itemIdentifier"] for item in answer["batchItemFailures"]]


def customer_of(event: SocialEvent) -> str:
    assert event.author is not None
    return event.author.id


# --- side by side -------------------------------------------------------------------------------


class CompletionsSeen(InMemoryStore):
    """The store fake, saying when each event is saved completed."""

    def __init__(self) -> None:
        super().__init__()
        self.completed: dict[str, threading.Event] = {}

    def save_progress(self, event_key: str, progress: EventProgress, *, now: Any, release: bool) -> None:
        super().save_progress(event_key, progress, now=now, release=release)
        if progress.completed:
            self.completed.setdefault(event_key, threading.Event()).set()

    def completion(self, event: SocialEvent) -> threading.Event:
        with self._lock:
            return self.completed.setdefault(event.dedupe_key, threading.Event())


class SlowFor(FakeDesk):
    """The helpdesk, holding one customer's user lookup until `go_on` says so; what it saw while holding it."""

    def __init__(self, customer: str, go_on: threading.Event, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.customer, self.go_on, self.saw_go_on = customer, go_on, False
        self.calling = threading.Event()

    def upsert_user(self, user: DeskUser) -> int:
        if user.external_id.endswith(f":{self.customer}"):
            self.calling.set()
            self.saw_go_on = self.go_on.wait(SAFETY_NET)
        return super().upsert_user(user)


def world_with(desk: FakeDesk, store: InMemoryStore) -> World:
    world = World()
    world.desk, world.store = desk, store
    world.process = world.fresh_process()
    return world


def test_a_conversation_waiting_on_zendesk_does_not_hold_up_another_conversation_of_its_batch() -> None:
    # Given a batch of two new conversations, the first of which finds Zendesk slow: its first call is answered only
    # once the second conversation's event is completed
    slow, other = sample_event("meta-whatsapp-text"), sample_event("meta-messenger-message")
    store = CompletionsSeen()
    desk = SlowFor(customer_of(slow), store.completion(other))
    world = world_with(desk, store)
    queue, batch = batch_of(slow, other)
    # When the batch runs
    failed = run(SqsBatch(process=world.process, redelivery=SimRedelivery(queue), clock=queue.clock), queue, batch)
    # Then the second conversation was done while the first waited for Zendesk, and then the first was done too
    assert desk.saw_go_on
    assert failed == []
    assert world.ticket_of(slow).external_id == slow.conversation_key
    assert world.ticket_of(other).external_id == other.conversation_key


@dataclass
class Recorder:
    """Stands in for the process use case: records when each event starts and ends; `hold` keeps one until `until` is set."""

    hold: str = ""
    until: threading.Event = field(default_factory=threading.Event)
    started: dict[str, threading.Event] = field(default_factory=dict)
    steps: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def begin_batch(self) -> None:
        pass

    def begun(self, event_id: str) -> threading.Event:
        with self.lock:
            return self.started.setdefault(event_id, threading.Event())

    def release_once_started(self, *events: SocialEvent) -> None:
        """Set `until` as soon as every one of `events` has started (watched from a thread of its own)."""

        def watch() -> None:
            if all(self.begun(event.event_id).wait(SAFETY_NET) for event in events):
                self.until.set()

        threading.Thread(target=watch, daemon=True).start()

    def handle(self, event: SocialEvent, *, delivery_id: str, attempt: int) -> Outcome:
        with self.lock:
            self.steps.append(("start", event.event_id))
        self.begun(event.event_id).set()
        if event.event_id == self.hold:
            self.until.wait(SAFETY_NET)
        with self.lock:
            self.steps.append(("end", event.event_id))
        return Outcome(event_key=event.dedupe_key)


def test_one_conversations_events_are_handled_one_after_the_other_in_the_order_they_came() -> None:
    # Given a batch where three events of one conversation come between events of two others, and the first of the
    # three is held until both other conversations have started (so a free worker could take the second of the three)
    first = sample_event("meta-whatsapp-text")
    second, third = follow_up(first, 1), follow_up(first, 2)
    others = sample_event("meta-messenger-message"), sample_event("x-dm")
    process = Recorder(hold=first.event_id)
    process.release_once_started(*others)
    queue, batch = batch_of(first, others[0], second, others[1], third)
    # When the batch runs
    failed = run(SqsBatch(process=process, redelivery=SimRedelivery(queue), clock=queue.clock), queue, batch)
    # Then the conversation's events ran in delivery order, each after the one before it had ended
    mine = [step for step in process.steps if step[1] in (first.event_id, second.event_id, third.event_id)]
    assert mine == [(step, event.event_id) for event in (first, second, third) for step in ("start", "end")]
    # And the other conversations ran meanwhile: both started before the held event ended
    assert process.steps.index(("end", first.event_id)) > max(process.steps.index(("start", other.event_id)) for other in others)
    assert failed == []


def test_events_naming_one_whatsapp_chat_by_either_key_are_one_conversation() -> None:
    # Given a chat's event keyed by phone number and a later one keyed by the customer's business-scoped id that names
    # the phone-keyed chat as its other key, with an unrelated conversation between them
    by_phone = sample_event("meta-whatsapp-text")
    by_bsuid = msgspec.structs.replace(
        follow_up(by_phone, 1), conversation_key="whatsapp:106540352242922:chat:US.13491208655302741918", conversation_alias=by_phone.conversation_key
    )
    other = sample_event("meta-messenger-message")
    process = Recorder(hold=by_phone.event_id)
    process.release_once_started(other)
    queue, batch = batch_of(by_phone, other, by_bsuid)
    # When the batch runs
    run(SqsBatch(process=process, redelivery=SimRedelivery(queue), clock=queue.clock), queue, batch)
    # Then the second waited for the first, as one conversation's events do
    assert process.steps.index(("start", by_bsuid.event_id)) > process.steps.index(("end", by_phone.event_id))


# --- each record reported on its own ------------------------------------------------------------


@dataclass
class Answers:
    """Stands in for the process use case: each event's answer by its id (an exception to raise, or done)."""

    answers: dict[str, BaseException]
    handled: list[str] = field(default_factory=list)

    def begin_batch(self) -> None:
        pass

    def handle(self, event: SocialEvent, *, delivery_id: str, attempt: int) -> Outcome:
        self.handled.append(event.event_id)
        if (answer := self.answers.get(event.event_id)) is not None:
            raise answer
        return Outcome(event_key=event.dedupe_key)


class RequeueRefusedFor(SimRedelivery):
    """SQS refusing the delayed copy of one event's message only."""

    def __init__(self, queue: SimQueue, event: SocialEvent) -> None:
        super().__init__(queue)
        self.refused = event_message(event).body

    def requeue(self, message: QueueMessage, *, delay_seconds: int) -> None:
        if message.body == self.refused:
            raise QueueUnavailableError("SendMessage failed: InternalError")
        super().requeue(message, delay_seconds=delay_seconds)


def test_a_record_whose_copy_cannot_be_queued_is_the_only_one_reported_failed() -> None:
    # Given a batch of five conversations: one waits but its delayed copy is refused, one waits and is re-queued, one is
    # refused by Zendesk for good, one is not an event at all, one goes through
    stuck, waiting, refused, done = (sample_event(name) for name in ("meta-whatsapp-text", "meta-messenger-message", "x-dm", "x-mention"))
    process = Answers(
        {stuck.event_id: WaitError(40, "claim"), waiting.event_id: WaitError(40, "claim"), refused.event_id: PermanentFailureError("no")}
    )
    queue, batch = batch_of(stuck, waiting, refused, "not an event", done)
    redelivery = RequeueRefusedFor(queue, stuck)
    # When the batch runs
    failed = run(SqsBatch(process=process, redelivery=redelivery, clock=queue.clock), queue, batch)
    # Then only the stuck one is reported failed (it comes back through its visibility timeout); the others are done
    assert failed == [batch[0].message_id]
    assert batch[0].visible_at == START + 40
    assert sorted(process.handled) == sorted(event.event_id for event in (stuck, waiting, refused, done))
    reasons = sorted(message.attributes[FAILURE_REASON_ATTRIBUTE] for message in redelivery.dead_letter_queue)
    assert [reason[:22] for reason in reasons] == ["no", "not a canonical event:"]
    assert redelivery.requeues == 1


def test_a_crash_in_one_conversation_ends_the_invocation() -> None:
    # Given a batch where one conversation's event kills the function (out of memory, a timeout)
    dying, other = sample_event("meta-whatsapp-text"), sample_event("meta-messenger-message")
    process = Answers({dying.event_id: CrashError()})
    queue, batch = batch_of(dying, other)
    # When the batch runs, Then the invocation dies with it: nothing is reported, SQS redelivers the whole batch
    with pytest.raises(CrashError):
        run(SqsBatch(process=process, redelivery=SimRedelivery(queue), clock=queue.clock), queue, batch)


class RunningOut(FakeLambdaContext):
    """A Lambda context whose remaining time drops under the driver's minimum once `spent` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.spent = threading.Event()

    def get_remaining_time_in_millis(self) -> int:
        return MIN_REMAINING_MILLIS - 1 if self.spent.is_set() else 60_000


def test_a_conversations_next_event_is_not_started_once_the_invocation_runs_short_of_time() -> None:
    # Given a conversation of two events, the first of which takes the invocation past the time the driver keeps in hand,
    # and another conversation beside it
    first = sample_event("meta-whatsapp-text")
    second = follow_up(first, 1)
    other = sample_event("meta-messenger-message")
    context = RunningOut()

    @dataclass
    class SpendsTheTime(Answers):
        def handle(self, event: SocialEvent, *, delivery_id: str, attempt: int) -> Outcome:
            context.spent.set()
            return super().handle(event, delivery_id=delivery_id, attempt=attempt)

    process = SpendsTheTime({})
    queue, batch = batch_of(first, other, second)
    redelivery = SimRedelivery(queue)
    # When the batch runs
    failed = run(SqsBatch(process=process, redelivery=redelivery, clock=queue.clock), queue, batch, context)
    # Then the second is not started but queued again for a few seconds later, with no failure counted
    assert first.event_id in process.handled and second.event_id not in process.handled
    assert failed == []
    received = {message.message_id for message in batch}
    [copy] = [message for message in queue.messages.values() if message.message_id not in received and message.body == event_message(second).body]
    assert copy.visible_at == START + 5
    assert msgspec.json.decode(copy.attributes[RETRY_ATTRIBUTE]).get("failures", 0) == 0


# --- a pause learned mid-batch ----------------------------------------------------------------


class PauseSeen(InMemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.paused_event = threading.Event()

    def pause(self, backend: str, *, until: Any) -> None:
        super().pause(backend, until=until)
        self.paused_event.set()


class LimitedFor(SlowFor):
    """Holds one customer's user lookup until `go_on`; answers another customer's, once that one is under way, with 429."""

    def __init__(self, customer: str, go_on: threading.Event, limited: str) -> None:
        super().__init__(customer, go_on)
        self.limited = limited

    def upsert_user(self, user: DeskUser) -> int:
        if user.external_id.endswith(f":{self.limited}"):
            self.calling.wait(SAFETY_NET)  # answered while the other call is under way
            with self._lock:
                self.calls["upsert_user"] += 1
            raise DeskRateLimitedError(60)
        return super().upsert_user(user)


def test_an_event_under_way_when_another_conversation_is_answered_429_makes_no_further_zendesk_call() -> None:
    # Given a batch of two new conversations: the first's Zendesk user lookup is under way when the second's is
    # answered 429 with Retry-After 60, and is answered only once the process has recorded that pause
    under_way, limited = sample_event("meta-whatsapp-text"), sample_event("meta-messenger-message")
    store = PauseSeen()
    desk = LimitedFor(customer_of(under_way), store.paused_event, limited=customer_of(limited))
    world = world_with(desk, store)
    queue, batch = batch_of(under_way, limited)
    redelivery = SimRedelivery(queue)
    # When the batch runs
    failed = run(SqsBatch(process=world.process, redelivery=redelivery, clock=queue.clock), queue, batch)
    # Then the first finished the call it had made, and made no other: no ticket during the Retry-After; both wait
    assert desk.saw_go_on
    assert dict(desk.calls) == {"upsert_user": 2}
    assert desk.tickets == {}
    assert failed == []
    copies = [message for message in queue.messages.values() if message.message_id not in {received.message_id for received in batch}]
    assert len(copies) == redelivery.requeues == 2
    assert all(copy.visible_at >= START + 60 for copy in copies)
