"""In-memory stand-ins for the process ports (helpdesk, CRM, store), with failure injection.

The store fake follows the DynamoDB adapter's semantics; tests/integration/test_conversation_store.py
runs one set of behaviour tests against both, so this fake cannot drift from the real store.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from socialdesk.crm.port import CrmActivity, CrmContact, RecordedActivity
from socialdesk.desk.port import Comment, DeskUser, NewTicket, TicketClosedError, TicketNotFoundError, TicketRef
from socialdesk.model import SocialEvent
from socialdesk.model.conversation import Conversation, Customer, EventProgress
from socialdesk.store.port import Claim, EventBusyError


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


@dataclass
class DeskTicket:
    id: int
    external_id: str
    subject: str
    requester_id: int
    status: str = "new"
    tags: list[str] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    follow_up_of: int | None = None
    priority: str | None = None
    custom_fields: tuple[tuple[int, object], ...] = ()


class FakeDesk:
    """A helpdesk that keeps tickets in memory, honours idempotency keys and refuses comments on closed tickets."""

    def __init__(self) -> None:
        self.users: dict[str, int] = {}
        self.tickets: dict[int, DeskTicket] = {}
        self.calls: Counter[str] = Counter()
        self.failures = Failures()
        self.after: dict[str, Callable[[], None]] = {}
        self._idempotent: dict[str, int] = {}
        self._ids = itertools.count(4014)

    def _call(self, operation: str) -> None:
        self.calls[operation] += 1
        self.failures.check(operation)

    def _done(self, operation: str) -> None:
        if hook := self.after.pop(operation, None):
            hook()

    def upsert_user(self, user: DeskUser) -> int:
        self._call("upsert_user")
        user_id = self.users.setdefault(user.external_id, 90000 + len(self.users))
        self._done("upsert_user")
        return user_id

    def create_ticket(self, ticket: NewTicket, *, idempotency_key: str) -> int:
        self._call("create_ticket")
        if idempotency_key in self._idempotent:
            return self._idempotent[idempotency_key]
        ticket_id = next(self._ids)
        self.tickets[ticket_id] = DeskTicket(
            id=ticket_id,
            external_id=ticket.external_id,
            subject=ticket.subject,
            requester_id=ticket.requester_id,
            tags=list(ticket.tags),
            comments=[Comment(body=ticket.body, public=True, author_id=ticket.requester_id)],
            follow_up_of=ticket.follow_up_of,
            priority=ticket.priority,
            custom_fields=ticket.custom_fields,
        )
        self._idempotent[idempotency_key] = ticket_id
        self._done("create_ticket")
        return ticket_id

    def forget_idempotency_keys(self) -> None:
        """Zendesk keeps an Idempotency-Key for 2 hours (crm-contracts.md §1.2); after that a replay creates anew."""
        self._idempotent.clear()

    def find_tickets(self, external_id: str) -> list[TicketRef]:
        self._call("find_tickets")
        return [TicketRef(ticket.id, ticket.status) for ticket in self.tickets.values() if ticket.external_id == external_id]

    def add_comment(self, ticket_id: int, comment: Comment, *, reopen: bool = False) -> None:
        self._call("add_comment")
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            raise TicketNotFoundError(str(ticket_id))
        if ticket.status == "closed":
            raise TicketClosedError(str(ticket_id))
        ticket.comments.append(comment)
        if reopen:
            ticket.status = "open"
        self._done("add_comment")

    def add_tags(self, ticket_id: int, tags: Sequence[str]) -> None:
        self._call("add_tags")
        self.tickets[ticket_id].tags.extend(tag for tag in tags if tag not in self.tickets[ticket_id].tags)

    @property
    def http_calls(self) -> int:
        return sum(self.calls.values())


class FakeCrm:
    """A CRM that keeps contacts and activities in memory; `record_activity` with an unknown contact upserts it."""

    def __init__(self) -> None:
        self.contacts: dict[str, str] = {}
        self.activities: dict[str, CrmActivity] = {}
        self.calls: Counter[str] = Counter()
        self.failures = Failures()
        self.after_record: Callable[[], None] | None = None

    def record_activity(self, activity: CrmActivity, *, contact: CrmContact, contact_id: str | None, persona_id: str | None) -> RecordedActivity:
        self.calls["composite" if contact_id is None else "insert_task"] += 1
        self.failures.check("record_activity")
        if contact_id is None:
            contact_id = self.contacts.setdefault(contact.external_id, f"003{len(self.contacts):015d}")
        activity_id = f"00T{len(self.activities):015d}"
        self.activities[activity_id] = activity
        if self.after_record:
            hook, self.after_record = self.after_record, None
            hook()
        return RecordedActivity(contact_id=contact_id, activity_id=activity_id)

    def find_activity(self, activity: CrmActivity, *, contact_id: str | None) -> str | None:
        self.calls["query"] += 1
        return next((found for found, recorded in self.activities.items() if recorded.event_key == activity.event_key), None)

    @property
    def http_calls(self) -> int:
        return sum(self.calls.values())


class InMemoryStore:
    """The conversation store in memory, with the DynamoDB adapter's conditional semantics."""

    def __init__(self) -> None:
        self.events: dict[str, tuple[EventProgress, str | None, int]] = {}
        self.conversations: dict[str, Conversation] = {}
        self.messages: dict[str, str] = {}
        self.customers: dict[str, Customer] = {}
        self.failures = Failures()
        self.dead = False  # after a simulated crash nothing more is written

    def begin_event(self, event_key: str, *, owner: str, now: datetime, lease_seconds: int) -> EventProgress:
        progress, lease_owner, lease_until = self.events.get(event_key, (EventProgress(), None, 0))
        epoch = int(now.timestamp())
        if not progress.completed and lease_owner not in (None, owner) and lease_until >= epoch:
            raise EventBusyError(max(1, lease_until - epoch))
        self.events[event_key] = (progress, owner, epoch + lease_seconds)
        return msgspec.structs.replace(progress)

    def save_progress(self, event_key: str, progress: EventProgress, *, now: datetime, release: bool) -> None:
        if self.dead:
            return
        _, owner, lease_until = self.events.get(event_key, (EventProgress(), None, 0))
        self.events[event_key] = (msgspec.structs.replace(progress), owner, 0 if release else lease_until)

    def conversation(self, key: str) -> Conversation | None:
        found = self.conversations.get(key)
        return msgspec.structs.replace(found) if found else None

    def claim_ticket(self, key: str, *, owner: str, expected_ticket_id: int | None, now: datetime, stale_after: int) -> Claim:
        conversation = self.conversations.setdefault(key, Conversation(key=key))
        if conversation.ticket_id != expected_ticket_id:
            return Claim(won=False, ticket_id=conversation.ticket_id)
        claim_at = int(conversation.claim_at.timestamp()) if conversation.claim_at else 0
        if conversation.claim_owner not in (None, owner) and claim_at >= int(now.timestamp()) - stale_after:
            return Claim(won=False, retry_after=max(1, claim_at + stale_after - int(now.timestamp())))
        previous = conversation.claim_owner
        conversation.claim_owner, conversation.claim_at = owner, now
        return Claim(won=True, previous_owner=previous)

    def set_ticket(self, key: str, *, ticket_id: int, opened_by: str, replaces: int | None) -> None:
        self.failures.check("set_ticket")
        conversation = self.conversations[key]
        conversation.ticket_id, conversation.opened_by = ticket_id, opened_by
        conversation.claim_owner = conversation.claim_at = None
        if replaces is not None:
            conversation.previous_ticket_ids.append(replaces)

    def record_activity(self, key: str, event: SocialEvent, *, customer_key: str | None) -> Conversation:
        conversation = self.conversations.setdefault(key, Conversation(key=key))
        conversation.activity = conversation.activity.with_message(event.created_at, from_brand=event.from_brand)
        conversation.customer_key = conversation.customer_key or customer_key
        conversation.version += 1
        return msgspec.structs.replace(conversation)

    def conversation_of_message(self, event: SocialEvent, message_id: str) -> str | None:
        return self.messages.get(f"{event.platform}:{event.account_id}:{message_id}")

    def remember_message(self, event: SocialEvent, conversation_key: str) -> None:
        self.messages[f"{event.platform}:{event.account_id}:{event.message_id}"] = conversation_key

    def customer(self, key: str) -> Customer | None:
        found = self.customers.get(key)
        return msgspec.structs.replace(found) if found else None

    def save_customer(self, customer: Customer) -> None:
        stored = self.customers.setdefault(customer.key, Customer(key=customer.key))
        for name in ("desk_user_id", "crm_contact_id", "crm_persona_id"):
            if (value := getattr(customer, name)) is not None:
                setattr(stored, name, value)
