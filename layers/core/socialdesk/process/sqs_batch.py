"""Drive the process use case over an SQS batch, reporting partial failures.

Powertools' BatchProcessor runs each record; this module decides what an outcome means:
- wait (a 429's Retry-After, another message's claim, a spent allocation): a copy of the
  message is queued again with a delay and the original is reported done, so waiting never
  consumes SQS receives and never brings an event closer to the dead-letter queue;
- a real failure (an outage, a timeout, a bug): the same, with a backoff, and the count
  of failures carried in the message; after MAX_FAILURES it is dead-lettered;
- permanent (a 400/422, an undecodable body): the message goes to the dead-letter queue at
  once with its reason and is reported done, so it is never retried blindly.
SQS's own receive count (the queue's maxReceiveCount) is then left for what this code
never sees: a function that crashes or times out on the same message again and again.
Nothing waits inside the function.

Records of different conversations run side by side in a few threads (MAX_WORKERS), those of
one conversation one after the other, in the order they came: an event spends nearly all its
time waiting for Zendesk, Salesforce and DynamoDB, so a slow call of one conversation no longer
holds up the rest of the batch. Each record's outcome is still reported on its own, through
Powertools' BatchProcessor, exactly as when they ran one by one.

The driver runs any kind of queued message (`MessageKind`): canonical events (process, the default) and outbound jobs
(the outbound function, socialdesk.outbound.send_job.JOBS): the same waits, failures and dead-lettering for both.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import msgspec
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from socialdesk.model import Platform, SocialEvent, decode_event
from socialdesk.observability import MetricUnit, logger, metrics
from socialdesk.ports.queues import MAX_DELAY_SECONDS, QueueMessage, QueueUnavailableError
from socialdesk.privacy import log_key, log_text
from socialdesk.process.failures import MAX_FAILURES, PermanentFailureError, RetryLaterError, WaitError, backoff

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext


# A record is not started with less time than this left: its calls could be cut off half-way.
MIN_REMAINING_MILLIS = 15_000
NOT_STARTED_RETRY_SECONDS = 5
FAILURE_REASON_ATTRIBUTE = "socialdesk_failure"
RETRY_ATTRIBUTE = "socialdesk_retry"
# Waits longer than SQS's longest delay (MAX_DELAY_SECONDS) hop through the queue.
# A safety valve, not a count: an event still waiting after a week (a rate limit that never
# lifts, a bug that always waits) is dead-lettered with the reason, not kept circling for ever.
MAX_WAITING_SECONDS = 7 * 24 * 3600
# How often an event waiting for an operator's fix is tried again.
BLOCKED_WAIT_SECONDS = 300
# Conversations of one batch processed at once. A batch holds at most 10 records (infra/template.yaml: BatchSize), and
# an event is mostly waiting on the network, so threads suffice: ten, one per record, turn a batch of ten independent
# conversations from ten events' waits into one (bench/process_overlap_bench.py measured 0.18 of one thread's wall time,
# against 0.29 with four), and Lambda bills that wall time. Each worker is one more call at once against Zendesk's and
# Salesforce's rate limits, in every one of the ProcessMaxConcurrency containers: a 429 pauses them all through the
# shared pause (process_event.py), so the rate limit, not the thread count, sets the ceiling; and ten is the
# connection pool requests keeps per host (pool_maxsize), so no connection is opened and thrown away.
MAX_WORKERS = 10
# Actions that are the usual non-event, kept in the event's line but not made a metric: a follow-up inside the
# acknowledgement window (most customer messages) finds its automatic message already sent. As a metric it was 84 B of
# every follow-up's metrics line (docs/benchmarks.md, "Log bytes per delivery"), read by no alarm; Logs Insights counts
# it from the lines when wanted.
UNCOUNTED_ACTIONS = frozenset({"automatic_message_already_sent"})


@dataclass
class Outcome:
    """What handling one message did (an event's or an outbound job's), for its log line and metrics."""

    event_key: str
    conversation_key: str | None = None
    ticket_id: int | None = None
    duplicate: bool = False
    actions: list[str] = field(default_factory=list)


class RetryState(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What a re-queued copy of a message carries about the event's earlier tries."""

    failures: int = 0
    """Real failures so far (waits are not counted)."""
    first_seen: int = 0
    """Epoch seconds of the first try, for the waiting safety valve."""
    not_before: int = 0
    """Epoch seconds before which the event is not tried (waits longer than one SQS delay)."""


class Redelivery(Protocol):
    def requeue(self, message: QueueMessage, *, delay_seconds: int) -> None:
        """Queue a copy of the message, visible after `delay_seconds` (at most 900)."""
        ...

    def retry_after(self, receipt_handle: str, seconds: int) -> None:
        """Make the message itself visible again after `seconds` (the fallback when re-queueing fails)."""
        ...

    def dead_letter(self, message: QueueMessage) -> None:
        """Put a copy of the message on the dead-letter queue."""
        ...


class EventHandler(Protocol):
    """What the batch driver runs each event through: the process use case, or a stand-in that says why it cannot run."""

    def begin_batch(self) -> None: ...

    def handle(self, event: SocialEvent, *, delivery_id: str, attempt: int) -> Outcome: ...


ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class MessageKind(Generic[ItemT]):
    """How the driver reads one kind of message: its decoding, the keys that make two messages one conversation (run in
    order, never side by side), and the key its log lines name."""

    decode: Callable[[str], ItemT]
    conversation_keys: Callable[[ItemT], tuple[str | None, ...]]
    log_name: Callable[[ItemT], str]
    label: str = "event"


def _event_keys(event: SocialEvent) -> tuple[str | None, ...]:
    """A WhatsApp chat may be named by its customer's phone in one event and their BSUID alone in another (only the
    store's alias record joins them), so a WhatsApp number's events all run as one group, in order. Elsewhere a customer's
    events run in order too, whichever conversations they are in (two X posts, two comments): each may create the same
    customer's Zendesk user, Salesforce contact or SocialPersona, which no call of theirs may create twice."""
    if event.platform is Platform.WHATSAPP:
        return (f"whatsapp:{event.account_id}",)
    customer = f"customer:{event.platform}:{event.author.id}" if event.author is not None and not event.from_brand else None
    return (event.conversation_key, event.conversation_alias, customer)


EVENTS: MessageKind[SocialEvent] = MessageKind(decode=decode_event, conversation_keys=_event_keys, log_name=lambda event: event.dedupe_key)


class Blocked:
    """The process use case cannot be built (the CRM secret unfilled or missing a key, the rules file invalid): every event waits.

    Waiting for an operator is not a failure: failing the invocation instead would let SQS count a receive every
    visibility timeout and dead-letter every event after about an hour. Each event is queued again after
    BLOCKED_WAIT_SECONDS, for up to MAX_WAITING_SECONDS, and is processed as soon as the fix is in.
    """

    def __init__(self, reason: str, *, outage: bool = False) -> None:
        self._reason = reason
        self._outage = outage
        """Secrets Manager unreachable: a real failure, retried with backoff like any outage (about 4 hours)."""

    def begin_batch(self) -> None:
        if not self._outage:
            _count("ProcessBlocked")  # ProcessBlockedAlarm
        logger.error("no event is processed until this is fixed; events wait on the queue", extra={"reason": log_text(self._reason)})

    def handle(self, event: SocialEvent, *, delivery_id: str, attempt: int) -> Outcome:
        if self._outage:
            raise RetryLaterError(backoff(attempt), self._reason)
        raise WaitError(BLOCKED_WAIT_SECONDS, self._reason)


class _RequeueFailedError(Exception):
    """The copy could not be queued: the original returns through its visibility timeout instead."""


class SqsBatch:
    def __init__(
        self,
        *,
        process: Any,
        redelivery: Redelivery,
        clock: Callable[[], float] = time.time,
        workers: int = MAX_WORKERS,
        messages: MessageKind[Any] = EVENTS,
    ) -> None:
        """`process` runs each decoded message: an EventHandler for EVENTS, a handler of the same shape for other kinds."""
        self._process = process
        self._messages = messages
        self._redelivery = redelivery
        self._clock = clock
        self._workers = workers

    def run(self, event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        records = [SQSRecord(raw) for raw in event.get("Records") or []]
        _count("RecordsReceived", len(records))
        self._process.begin_batch()
        outcomes = self._run_all(records, context)
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return process_partial_response(event=event, record_handler=outcomes.report, processor=processor, context=context)

    def _run_all(self, records: list[SQSRecord], context: LambdaContext) -> _Outcomes:
        """Run every record, conversations side by side, each conversation's records in order; what each one came to.

        A BaseException (the function dying: in tests, a simulated crash) stops every worker before its next record and
        ends the invocation, as it did when records ran one by one; the records already under way finish their call.
        """
        events = [_decoded(record, self._messages) for record in records]
        outcomes = _Outcomes()
        failures: list[Exception | None] = [None] * len(records)
        died = threading.Event()

        def run_conversation(indexes: list[int]) -> None:
            for index in indexes:
                if died.is_set():
                    return
                try:
                    self._record(records[index], events[index], context)
                except Exception as exc:  # reported as this record's failure, as BatchProcessor would have
                    failures[index] = exc
                except BaseException:
                    died.set()
                    raise

        conversations = _conversations(events, self._messages)
        workers = min(self._workers, len(conversations))
        if workers <= 1:
            for indexes in conversations:
                run_conversation(indexes)
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="socialdesk-record") as pool:
                running = [pool.submit(run_conversation, indexes) for indexes in conversations]
            for finished in running:
                finished.result()  # raises the BaseException that stopped a worker
        for record, failure in zip(records, failures, strict=True):
            outcomes.add(record, failure)
        return outcomes

    def _record(self, record: SQSRecord, social_event: Any, context: LambdaContext) -> None:
        now = int(self._clock())
        state = _retry_state(record)
        state = msgspec.structs.replace(state, first_seen=state.first_seen or now)
        if state.not_before > now:
            self._requeue(record, state, state.not_before - now)
            return
        if context.get_remaining_time_in_millis() < MIN_REMAINING_MILLIS:
            self._requeue(record, state, NOT_STARTED_RETRY_SECONDS)
            return
        if isinstance(social_event, Exception):
            self._dead_letter(record, f"not a canonical {self._messages.label}: {social_event}")
            return
        event_key = str(log_key(self._messages.log_name(social_event)))
        try:
            outcome = self._process.handle(social_event, delivery_id=record.message_id, attempt=state.failures + 1)
        except RetryLaterError as exc:
            self._try_later(record, state, exc, event_key=event_key, now=now)
            return
        except PermanentFailureError as exc:
            self._dead_letter(record, str(exc), event_key=event_key)
            return
        except Exception as exc:
            logger.exception("event failed unexpectedly; retrying with backoff", extra={"event": event_key, "attempt": state.failures + 1})
            self._try_later(
                record, state, RetryLaterError(backoff(state.failures + 1), f"unexpected {type(exc).__name__}"), event_key=event_key, now=now
            )
            return
        if outcome.duplicate:
            _count("EventsDuplicate")
        for action in outcome.actions:
            if action not in UNCOUNTED_ACTIONS:
                _count(_metric_name(action))
        # The event's one routine line: what an operator needs of it, and nothing that is the usual case (a first
        # attempt, no duplicate) or that CloudWatch already holds (observability.py).
        summary: dict[str, Any] = {"event": event_key, "conversation": log_key(outcome.conversation_key), "ticket": outcome.ticket_id}
        if outcome.duplicate:
            summary["duplicate"] = True
        if state.failures:
            summary["attempt"] = state.failures + 1
        logger.info("event processed", extra={**summary, "actions": outcome.actions})

    def _try_later(self, record: SQSRecord, state: RetryState, exc: RetryLaterError, *, event_key: str, now: int) -> None:
        failures = state.failures + (1 if exc.counts_as_failure else 0)
        if failures >= MAX_FAILURES:
            self._dead_letter(record, f"failed {failures} times; last: {exc.reason}", event_key=event_key)
            return
        if now - state.first_seen > MAX_WAITING_SECONDS:
            self._dead_letter(record, f"still waiting after {(now - state.first_seen) // 3600} hours: {exc.reason}", event_key=event_key)
            return
        waiting = not exc.counts_as_failure
        _count("EventsWaiting" if waiting else "EventsDeferred")
        logger.warning(
            "event waiting" if waiting else "event deferred",
            extra={
                "event": event_key,
                "attempt": state.failures + 1,
                "failures": failures,
                "retry_in": exc.delay_seconds,
                "reason": log_text(exc.reason),
            },
        )
        self._requeue(record, msgspec.structs.replace(state, failures=failures), exc.delay_seconds)

    def _requeue(self, record: SQSRecord, state: RetryState, delay_seconds: int) -> None:
        """A delayed copy replaces the message; should that fail, the message itself waits (and costs a receive)."""
        delay = max(0, delay_seconds)
        not_before = int(self._clock()) + delay if delay > MAX_DELAY_SECONDS else 0
        copy = QueueMessage(
            body=record.body,
            attributes={**_attributes(record), RETRY_ATTRIBUTE: msgspec.json.encode(msgspec.structs.replace(state, not_before=not_before)).decode()},
        )
        try:
            self._redelivery.requeue(copy, delay_seconds=min(delay, MAX_DELAY_SECONDS))
        except QueueUnavailableError as exc:
            logger.warning("re-queueing failed; the message returns through its visibility timeout", extra={"reason": log_text(str(exc))})
            self._redelivery.retry_after(record.receipt_handle, delay)
            raise _RequeueFailedError(record.message_id) from exc

    def _dead_letter(self, record: SQSRecord, reason: str, *, event_key: str | None = None) -> None:
        # Without the retry state: a message moved back from the dead-letter queue starts afresh.
        attributes = {name: value for name, value in _attributes(record).items() if name != RETRY_ATTRIBUTE}
        self._redelivery.dead_letter(QueueMessage(body=record.body, attributes={**attributes, FAILURE_REASON_ATTRIBUTE: reason[:1000]}))
        _count("EventsDeadLettered")
        logger.error("event dead-lettered", extra={"event": event_key, "message_id": record.message_id, "reason": log_text(reason[:500])})


class _Outcomes:
    """What each record came to, handed to BatchProcessor as it asks for each record: nothing (done), or its failure."""

    def __init__(self) -> None:
        self._by_message: defaultdict[str, deque[Exception | None]] = defaultdict(deque)

    def add(self, record: SQSRecord, failure: Exception | None) -> None:
        self._by_message[record.message_id].append(failure)

    def report(self, record: SQSRecord) -> None:
        if (failure := self._by_message[record.message_id].popleft()) is not None:
            raise failure


def _decoded(record: SQSRecord, messages: MessageKind[Any]) -> Any:
    """The decoded message, or the exception that says why it is none."""
    try:
        return messages.decode(record.body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return exc


def _conversations(events: list[Any], messages: MessageKind[Any] = EVENTS) -> list[list[int]]:
    """The batch's records (their indexes) by conversation, in the order they came; a record that is no event stands alone.

    Events that name a key in common (`conversation_key`, or the other key a WhatsApp chat goes by, `conversation_alias`)
    are one conversation. Events of a thread that only the store can tell apart (an X reply to a post of another thread)
    may still run side by side: the store's conditional writes keep them apart, as they do events in two containers.
    """
    parent = list(range(len(events)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = index = parent[parent[index]]
        return index

    first_with: dict[str, int] = {}
    for index, event in enumerate(events):
        if not isinstance(event, Exception):
            for key in filter(None, messages.conversation_keys(event)):
                parent[root(index)] = root(first_with.setdefault(key, index))
    conversations: dict[int, list[int]] = {}
    for index in range(len(events)):
        conversations.setdefault(root(index), []).append(index)
    return list(conversations.values())


_metrics_lock = threading.Lock()


def count_metric(name: str, value: int = 1) -> None:
    """Add to a count metric, safely from the batch's threads (what `_count` does, for other use cases' metrics)."""
    _count(name, value)


def _count(name: str, value: int = 1) -> None:
    """Powertools' Metrics is not thread-safe (add_metric reads a metric's entry from a shared dict, then stores it back,
    and flushes and clears the dict at 100 metrics): records running side by side add their counts one at a time."""
    with _metrics_lock:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def _attributes(record: SQSRecord) -> dict[str, str]:
    return {name: value.string_value for name, value in record.message_attributes.items() if value.string_value is not None}


def _retry_state(record: SQSRecord) -> RetryState:
    """The retry state a copy carries; a message from ingest (or a damaged attribute) starts afresh."""
    raw = _attributes(record).get(RETRY_ATTRIBUTE)
    if not raw:
        return RetryState()
    try:
        return msgspec.json.decode(raw, type=RetryState)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return RetryState()


def _metric_name(action: str) -> str:
    """`ticket_created` -> `TicketCreated`."""
    return "".join(part.capitalize() for part in action.split("_"))
