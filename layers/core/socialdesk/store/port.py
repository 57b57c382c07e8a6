"""What the process use case needs to remember, as an interface the DynamoDB adapter implements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import msgspec

if TYPE_CHECKING:
    from datetime import datetime

    from socialdesk.model import SocialEvent
    from socialdesk.model.conversation import Conversation, Customer, EventProgress


class EventBusyError(Exception):
    """Another worker is processing a duplicate of this event right now."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"a duplicate of this event is being processed; retry after {retry_after} s")
        self.retry_after = retry_after


class Claim(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of asking to open a conversation's ticket.

    `won`: go ahead and create it; `previous_owner` says whose earlier attempt (if any)
    may already have created one. Otherwise `ticket_id` is a ticket someone else opened,
    or `retry_after` says when another worker's attempt will have finished.
    """

    won: bool
    previous_owner: str | None = None
    ticket_id: int | None = None
    retry_after: int = 0


class ConversationStore(Protocol):
    def begin_event(self, event_key: str, *, owner: str, now: datetime, lease_seconds: int) -> EventProgress:
        """Take the processing lease of an event and return its progress; raise EventBusyError if a duplicate holds it."""
        ...

    def save_progress(self, event_key: str, progress: EventProgress, *, now: datetime, release: bool) -> None:
        """Record progress (completed events are kept at least 8 days to absorb redeliveries)."""
        ...

    def conversation(self, key: str) -> Conversation | None: ...

    def claim_ticket(self, key: str, *, owner: str, expected_ticket_id: int | None, now: datetime, stale_after: int) -> Claim:
        """Ask to open the ticket of a conversation whose current ticket is `expected_ticket_id`."""
        ...

    def set_ticket(self, key: str, *, ticket_id: int, opened_by: str, replaces: int | None) -> None:
        """Record the conversation's new ticket and release the claim."""
        ...

    def record_activity(self, key: str, event: SocialEvent, *, customer_key: str | None) -> Conversation:
        """Apply the event to the conversation's response-time facts (creating the conversation if new)."""
        ...

    def conversation_of_message(self, event: SocialEvent, message_id: str) -> str | None:
        """The conversation a message of this platform and brand account belongs to, if we saw it."""
        ...

    def remember_message(self, event: SocialEvent, conversation_key: str) -> None: ...

    def customer(self, key: str) -> Customer | None: ...

    def save_customer(self, customer: Customer) -> None: ...
