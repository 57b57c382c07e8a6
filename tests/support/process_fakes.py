"""In-memory stand-ins for the process ports, with failure injection: the sandboxes, counted, and a store fake.

The store fake follows the DynamoDB adapter's semantics; tests/integration/test_conversation_store.py
runs one set of behaviour tests against both, so this fake cannot drift from the real store.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import msgspec

from socialdesk.crm.port import CrmActivity, CrmContact, RecordedActivity
from socialdesk.crm.sandbox import SandboxCrm
from socialdesk.desk.port import NewTicket
from socialdesk.desk.sandbox import SandboxDesk, SandboxTicket
from socialdesk.model import SocialEvent
from socialdesk.model.conversation import Conversation, Customer, EventProgress, ReplyTarget, SortedTimes
from socialdesk.ports.desk_events import EventClaim
from socialdesk.store.port import SENDING_WINDOW, Alias, Claim, EventBusyError, SendStatus, message_anchor, sending_key

StoreT = TypeVar("StoreT")


class CrashError(BaseException):
    """The process dies here (not an Exception: nothing in the code under test may catch it)."""


class Failures:
    """Errors to raise on the next calls of a named operation, in order."""

    def __init__(self) -> None:
        self._queued: dict[str, list[BaseException]] = {}

    def add(self, operation: str, *errors: BaseException) -> None:
        self._queued.setdefault(operation, []).extend(errors)

    def check(self, operation: str) -> None:
        queued = self._queued.get(operation)
        if queued:
            raise queued.pop(0)


class FakeDesk(SandboxDesk):
    """The sandbox helpdesk, counting calls and failing on demand."""

    def __init__(self, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__(clock=clock)
        self.calls: Counter[str] = Counter()
        self.failures = Failures()
        self.after: dict[str, Callable[[], None]] = {}

    def _before(self, operation: str) -> None:
        with self._lock:  # the batch driver calls from several threads
            self.calls[operation] += 1
            self.failures.check(operation)

    def create_ticket(self, ticket: NewTicket, *, idempotency_key: str) -> int:
        ticket_id = super().create_ticket(ticket, idempotency_key=idempotency_key)
        if hook := self.after.pop("create_ticket", None):
            hook()
        return ticket_id

    def forget_idempotency_keys(self) -> None:
        """Zendesk keeps an Idempotency-Key for 2 hours (developer.zendesk.com, API reference: Idempotency); after that a replay creates anew."""
        self.state.idempotency.clear()

    @property
    def users(self) -> dict[str, int]:
        return {external_id: user.id for external_id, user in self.state.users.items()}

    @property
    def tickets(self) -> dict[int, SandboxTicket]:
        return self.state.tickets

    @property
    def http_calls(self) -> int:
        return sum(self.calls.values())


class FakeCrm(SandboxCrm):
    """The sandbox CRM, counting calls and failing on demand (any recording fails under `record_activity`)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()
        self.failures = Failures()
        self.after_record: Callable[[], None] | None = None

    def _before(self, operation: str) -> None:
        with self._lock:
            self.calls[operation] += 1
            self.failures.check("record_activity" if operation in ("record_activity", "insert_task") else operation)

    def record_activity(self, activity: CrmActivity, *, contact: CrmContact, contact_id: str | None, persona_id: str | None) -> RecordedActivity:
        recorded = super().record_activity(activity, contact=contact, contact_id=contact_id, persona_id=persona_id)
        if self.after_record:
            hook, self.after_record = self.after_record, None
            hook()
        return recorded

    @property
    def activities(self) -> dict[str, CrmActivity]:
        return {activity_id: recorded.activity for activity_id, recorded in self.state.activities.items()}

    @property
    def http_calls(self) -> int:
        return sum(self.calls.values())


def _one_call_at_a_time(cls: type[StoreT]) -> type[StoreT]:
    """Every public method of `cls` runs under the instance's lock: each call is atomic, as each DynamoDB request is on
    its item (the batch driver calls from several threads)."""

    def locked(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return method(self, *args, **kwargs)

        return call

    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and inspect.isfunction(member):
            setattr(cls, name, locked(member))
    return cls


@_one_call_at_a_time
class InMemoryStore:
    """The conversation store in memory, with the DynamoDB adapter's conditional semantics."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.events: dict[str, tuple[EventProgress, str | None, int]] = {}
        self.conversations: dict[str, Conversation] = {}
        self.times: dict[str, SortedTimes] = {}
        """Each conversation's message times: the DynamoDB store keeps one small item per message."""
        self.messages: dict[str, str] = {}
        self.customers: dict[str, Customer] = {}
        self.aliases: dict[str, Alias] = {}
        self.parked_by_anchor: dict[str, dict[str, SocialEvent]] = {}
        self.parked_flags: set[str] = set()
        self.creators: dict[str, str] = {}
        self.creators_since: dict[str, datetime] = {}
        self.paused: dict[str, datetime] = {}
        self.automatic: dict[str, tuple[str, datetime]] = {}
        """Each conversation's automatic-message claim: who took it, when."""
        self.sends: dict[str, dict[str, Any]] = {}
        """Each outbound job's send record, as the DynamoDB store keeps it (`send_state`, `platform_message_id`, `reason`)."""
        self.sent: dict[str, tuple[str, str]] = {}
        self.answers: list[tuple[str, str, str]] = []
        """(conversation key, reference, source) of every answer recorded (AnswerLog)."""
        self.private_replies: dict[str, str] = {}
        self.sending_until: dict[str, datetime] = {}
        self.answer_times: dict[tuple[str, str], datetime] = {}
        self.desk_events: dict[str, tuple[str, int]] = {}
        """Each Zendesk event's state (`claimed`, `released`, `done`) and lease end, as the DynamoDB store keeps them."""
        self.failures = Failures()
        self.dead = False  # after a simulated crash nothing more is written

    def begin_event(self, event_key: str, *, owner: str, now: datetime, lease_seconds: int) -> EventProgress:
        progress, lease_owner, lease_until = self.events.get(event_key, (EventProgress(), None, 0))
        epoch = int(now.timestamp())
        if progress.completed:  # a redelivery: read, never leased (one GetItem in DynamoDB)
            return progress.resumed(now=now, crashed=lease_until != 0)
        if lease_owner not in (None, owner) and lease_until >= epoch:
            raise EventBusyError(max(1, lease_until - epoch))
        progress = progress.resumed(now=now, crashed=lease_until != 0)  # lease_until != 0: the last try died mid-way
        self.events[event_key] = (progress, owner, epoch + lease_seconds)
        return msgspec.structs.replace(progress)

    def save_progress(self, event_key: str, progress: EventProgress, *, now: datetime, release: bool) -> None:
        if self.dead:
            return
        stored, owner, lease_until = self.events.get(event_key, (EventProgress(), None, 0))
        kept = msgspec.structs.replace(
            progress,
            first_tried_at=stored.first_tried_at,
            edit_as_message=stored.edit_as_message or progress.edit_as_message,
            classification=progress.classification or stored.classification,
        )
        self.events[event_key] = (kept, owner, 0 if release else lease_until)

    def conversation(self, key: str) -> Conversation | None:
        found = self.conversations.get(key)
        return msgspec.structs.replace(found, parked=f"CONV#{key}" in self.parked_flags) if found else None

    def claim_ticket(self, key: str, *, owner: str, expected_ticket_id: int | None, now: datetime, stale_after: int) -> Claim:
        conversation = self.conversations.setdefault(key, Conversation(key=key))
        if conversation.ticket_id != expected_ticket_id:
            return Claim(won=False, ticket_id=conversation.ticket_id)
        claim_at = int(conversation.claim_at.timestamp()) if conversation.claim_at else 0
        if conversation.claim_owner not in (None, owner) and claim_at >= int(now.timestamp()) - stale_after:
            return Claim(won=False, retry_after=max(1, claim_at + stale_after - int(now.timestamp())))
        conversation.claim_owner, conversation.claim_at = owner, now
        creator = self.creators.get(key)
        since = self.creators_since.get(key)
        self.creators.setdefault(key, owner)
        self.creators_since.setdefault(key, now.replace(microsecond=0))
        return Claim(won=True, creator=creator, creator_since=since)

    def mark_creator(self, key: str, *, owner: str, now: datetime) -> None:
        assert self.conversations[key].claim_owner == owner
        self.creators[key] = owner
        self.creators_since[key] = now.replace(microsecond=0)

    def set_ticket(self, key: str, *, ticket_id: int, opened_by: str, replaces: int | None) -> bool:
        self.failures.check("set_ticket")
        conversation = self.conversations[key]
        conversation.ticket_id, conversation.opened_by = ticket_id, opened_by
        conversation.claim_owner = conversation.claim_at = None
        self.creators.pop(key, None)
        self.creators_since.pop(key, None)
        if replaces is not None:
            conversation.previous_ticket_ids.append(replaces)
        return f"CONV#{key}" in self.parked_flags

    def record_activity(self, key: str, event: SocialEvent, *, customer_key: str | None) -> Conversation:
        conversation = self.conversations.setdefault(key, Conversation(key=key))
        times = self.times.setdefault(key, SortedTimes())
        times.add(event.created_at, from_brand=event.from_brand)
        before = conversation.activity.last_customer_at
        conversation.activity = conversation.activity.with_message(event.created_at, from_brand=event.from_brand, times=times)
        if (target := ReplyTarget.of(event)) is not None and conversation.activity.last_customer_at == event.created_at != before:
            conversation.reply_target = target
        conversation.customer_key = conversation.customer_key or customer_key
        conversation.version += 1
        return msgspec.structs.replace(conversation, parked=f"CONV#{key}" in self.parked_flags)

    def record_answer(self, conversation_key: str, *, at: datetime, reference: str, source: str) -> None:
        self.answers.append((conversation_key, reference, source))
        conversation = self.conversations.setdefault(conversation_key, Conversation(key=conversation_key))
        times = self.times.setdefault(conversation_key, SortedTimes())
        times.add(at, from_brand=True)
        self.answer_times[(conversation_key, reference)] = at
        conversation.activity = conversation.activity.with_message(at, from_brand=True, times=times)

    def withdraw_answer(self, conversation_key: str, *, reference: str) -> None:
        at = self.answer_times.pop((conversation_key, reference), None)
        conversation, times = self.conversations.get(conversation_key), self.times.get(conversation_key)
        if at is None or conversation is None or times is None:
            return
        times.brand_times.discard(at)
        conversation.activity = conversation.activity.without_brand_message(at, customer_times=times.customer_times, brand_times=times.brand_times)

    def conversation_of_message(self, event: SocialEvent, message_id: str) -> str | None:
        return self.messages.get(message_anchor(event.platform, event.account_id, message_id))

    def remember_message(self, event: SocialEvent, conversation_key: str, *, message_id: str | None = None) -> bool:
        anchor = message_anchor(event.platform, event.account_id, message_id or event.message_id)
        self.messages[anchor] = conversation_key
        return anchor in self.parked_flags

    def park(self, anchor: str, event: SocialEvent, *, now: datetime, replacing: int | None = None) -> bool:
        self.failures.check("park")
        if anchor.startswith("MSG#"):
            ready = anchor in self.messages
        elif replacing is not None:
            ready = self._ticket(anchor.removeprefix("CONV#")) != replacing
        else:
            ready = self._has_ticket(anchor.removeprefix("CONV#"))
        if ready:
            return False
        self.parked_by_anchor.setdefault(anchor, {})[event.dedupe_key] = event
        self.parked_flags.add(anchor)
        if anchor.startswith("CONV#"):
            self.conversations.setdefault(anchor.removeprefix("CONV#"), Conversation(key=anchor.removeprefix("CONV#")))
        return True

    def _has_ticket(self, key: str) -> bool:
        return self._ticket(key) is not None

    def _ticket(self, key: str) -> int | None:
        found = self.conversations.get(key)
        return found.ticket_id if found is not None else None

    def parked(self, anchor: str) -> list[SocialEvent]:
        return list(self.parked_by_anchor.get(anchor, {}).values())

    def unpark(self, anchor: str, events: Sequence[SocialEvent]) -> None:
        for event in events:
            self.parked_by_anchor.get(anchor, {}).pop(event.dedupe_key, None)
        self.parked_flags.discard(anchor)

    def pause(self, backend: str, *, until: datetime) -> None:
        if backend not in self.paused or self.paused[backend] < until:
            self.paused[backend] = until

    def pauses(self) -> dict[str, datetime]:
        return dict(self.paused)

    def alias(self, key: str) -> Alias | None:
        return self.aliases.get(key)

    def bind_alias(self, key: str, *, target: str, owner: str | None = None) -> Alias:
        bound = self.aliases.get(key)
        if bound is None or (owner is not None and bound.owner in (None, owner)):
            bound = self.aliases[key] = Alias(target=target, owner=owner)
        return bound

    def claim_automatic(self, conversation_key: str, *, owner: str, now: datetime, window: timedelta) -> bool:
        held = self.automatic.get(conversation_key)
        if held is not None and int(held[1].timestamp()) > int((now - window).timestamp()):
            return held[0] == owner
        self.automatic[conversation_key] = (owner, now)
        return True

    def customer(self, key: str) -> Customer | None:
        found = self.customers.get(key)
        return msgspec.structs.replace(found) if found else None

    def save_customer(self, customer: Customer) -> None:
        stored = self.customers.setdefault(customer.key, Customer(key=customer.key))
        for name in ("desk_user_id", "crm_contact_id", "crm_persona_id"):
            if (value := getattr(customer, name)) is not None:
                setattr(stored, name, value)

    # --- outbound sends -------------------------------------------------------------------

    def claim_send(self, job_id: str, now: datetime) -> bool:
        self.failures.check("claim_send")
        record = self.sends.get(job_id)
        if record is not None and record.get("send_state", "released") != "released":
            return False
        self.sends[job_id] = {**(record or {}), "send_state": "claimed", "claimed_at": int(now.timestamp())}
        return True

    def release_send(self, job_id: str, now: datetime) -> None:
        self.failures.check("release_send")
        record = self.sends.get(job_id)
        if record is not None and record.get("send_state") == "claimed":
            record.update(send_state="released", released_at=int(now.timestamp()))

    def count_wait(self, job_id: str, now: datetime, *, tell_after: int) -> bool:
        self.failures.check("count_wait")
        record = self.sends.setdefault(job_id, {})
        record["waits"] = record.get("waits", 0) + 1
        if record["waits"] < tell_after or "wait_told_at" in record:
            return False
        record["wait_told_at"] = int(now.timestamp())
        return True

    def settle_abandoned(self, job_id: str, *, claimed_before: datetime, now: datetime) -> bool:
        self.failures.check("settle_abandoned")
        record = self.sends.get(job_id)
        if record is None or record.get("send_state") != "claimed" or record["claimed_at"] >= int(claimed_before.timestamp()):
            return False
        record.update(send_state="unknown", finished_at=int(now.timestamp()), reason="the try that claimed it stopped before it finished")
        return True

    def finish_send(self, job_id: str, *, status: SendStatus, platform_message_id: str | None, reason: str | None, now: datetime) -> None:
        self.failures.check("finish_send")
        record = self.sends.setdefault(job_id, {})
        record.update(send_state=status, finished_at=int(now.timestamp()))
        if platform_message_id is not None:
            record["platform_message_id"] = platform_message_id
        if reason is not None:
            record["reason"] = reason[:1000]

    def remember_sent(self, platform: str, message_id: str, job_id: str, conversation_key: str, now: datetime) -> None:
        self.failures.check("remember_sent")
        self.sent[f"{platform}:{message_id}"] = (job_id, conversation_key)

    def mark_sending(self, conversation_key: str, text: str, job_id: str, now: datetime) -> None:
        self.failures.check("mark_sending")
        self.sending_until[sending_key(conversation_key, text)] = now + SENDING_WINDOW

    def sending(self, conversation_key: str, text: str, now: datetime) -> bool:
        until = self.sending_until.get(sending_key(conversation_key, text))
        return until is not None and until >= now

    def find_sent(self, platform: str, message_id: str) -> str | None:
        found = self.sent.get(f"{platform}:{message_id}")
        return found[0] if found else None

    def send_record(self, job_id: str) -> dict[str, Any] | None:
        record = self.sends.get(job_id)
        return dict(record) if record is not None else None

    def claim_private_reply(self, platform: str, comment_id: str, *, job_id: str, now: datetime) -> str:
        return self.private_replies.setdefault(f"{platform}:{comment_id}", job_id)

    def release_private_reply(self, platform: str, comment_id: str, *, job_id: str) -> None:
        if self.private_replies.get(f"{platform}:{comment_id}") == job_id:
            del self.private_replies[f"{platform}:{comment_id}"]

    # --- desk events ----------------------------------------------------------------------

    def claim_desk_event(self, event_id: str, *, now: datetime, lease_seconds: int) -> EventClaim:
        self.failures.check("claim_desk_event")
        state, until = self.desk_events.get(event_id, ("released", 0))
        if state == "done":
            return "done"
        if state == "claimed" and until >= int(now.timestamp()):
            return "busy"
        self.desk_events[event_id] = ("claimed", int(now.timestamp()) + lease_seconds)
        return "claimed"

    def finish_desk_event(self, event_id: str, *, now: datetime) -> None:
        self.desk_events[event_id] = ("done", 0)

    def release_desk_event(self, event_id: str) -> None:
        if self.desk_events.get(event_id, ("", 0))[0] == "claimed":
            self.desk_events[event_id] = ("released", 0)
