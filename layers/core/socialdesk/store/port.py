"""What the process use case needs to remember, as an interface the DynamoDB adapter implements."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol

import msgspec

from socialdesk.platforms.x_mentions import without_leading_mentions

if TYPE_CHECKING:
    from collections.abc import Sequence

    from socialdesk.model import SocialEvent
    from socialdesk.model.conversation import Conversation, Customer, EventProgress


class EventBusyError(Exception):
    """Another worker is processing a duplicate of this event right now."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"a duplicate of this event is being processed; retry after {retry_after} s")
        self.retry_after = retry_after


class Claim(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of asking to open a conversation's ticket.

    `won`: go ahead and create it. `creator` names the one earlier claimant (this event's
    own earlier try, or one whose claim went stale) that may already have created a ticket
    under this claim: a ticket found then is theirs, with their words as its first comment.
    Otherwise `ticket_id` is a ticket someone else opened, or `retry_after` says when
    another worker's attempt will have finished.
    """

    won: bool
    creator: str | None = None
    creator_since: datetime | None = None
    """When the creator claimed: a ticket it made is no older (a conversation's ticket of long ago, whose records expired, is)."""
    ticket_id: int | None = None
    retry_after: int = 0


class Alias(msgspec.Struct, frozen=True, kw_only=True):
    """Events keyed by one key belong under `target` instead: a WhatsApp chat or customer known by another key.

    `owner` is set when a business-scoped user id claimed a phone-keyed key (see process/aliases.py):
    a number claimed by one customer is never handed to another who comes with the same number later.
    """

    target: str
    owner: str | None = None


# How long a send is "under way" for its echo: the outbound function's 60 s timeout, and the echo's own delivery after it.
SENDING_WINDOW = timedelta(minutes=2)


def sending_key(conversation_key: str, text: str) -> str:
    """A send under way: the conversation and a digest of its text as the platform echoes it (spaces aside, and the
    `@handle ` X puts in front of a reply: the echo of "Sorry, Dana" is "@dana_r Sorry, Dana")."""
    words = " ".join(without_leading_mentions(text).split())
    return f"{conversation_key}#{hashlib.sha256(words.encode()).hexdigest()[:32]}"


def message_anchor(platform: str, account_id: str, message_id: str) -> str:
    """Events parked here wait for this message to be seen (and so its conversation known)."""
    return f"MSG#{platform}:{account_id}:{message_id}"


def conversation_anchor(conversation_key: str) -> str:
    """Events parked here wait for this conversation to have a ticket."""
    return f"CONV#{conversation_key}"


class ConversationStore(Protocol):
    def begin_event(self, event_key: str, *, owner: str, now: datetime, lease_seconds: int) -> EventProgress:
        """Take the processing lease of an event and return its progress; raise EventBusyError if a duplicate holds it."""
        ...

    def save_progress(self, event_key: str, progress: EventProgress, *, now: datetime, release: bool) -> None:
        """Record progress (completed events are kept at least 8 days to absorb redeliveries)."""
        ...

    def conversation(self, key: str) -> Conversation | None: ...

    def withdraw_answer(self, conversation_key: str, *, reference: str) -> None:
        """The answer recorded under `reference` (an agent's reply the platform took) never reached the customer (a
        WhatsApp `failed` status): it no longer counts, and the response clock runs again from the customer's
        unanswered messages. Idempotent; nothing to do when no such answer was recorded."""
        ...

    def claim_ticket(self, key: str, *, owner: str, expected_ticket_id: int | None, now: datetime, stale_after: int) -> Claim:
        """Ask to open the ticket of a conversation whose current ticket is `expected_ticket_id`."""
        ...

    def mark_creator(self, key: str, *, owner: str, now: datetime) -> None:
        """Say that `owner`, holding the claim, is about to create the ticket (after finding none)."""
        ...

    def set_ticket(self, key: str, *, ticket_id: int, opened_by: str, replaces: int | None) -> bool:
        """Record the conversation's new ticket and release the claim; True when events are parked waiting for it."""
        ...

    def record_activity(self, key: str, event: SocialEvent, *, customer_key: str | None) -> Conversation:
        """Apply the event to the conversation's response-time facts (creating the conversation if new)."""
        ...

    def conversation_of_message(self, event: SocialEvent, message_id: str) -> str | None:
        """The conversation a message of this platform and brand account belongs to, if we saw it."""
        ...

    def remember_message(self, event: SocialEvent, conversation_key: str, *, message_id: str | None = None) -> bool:
        """Map the event's message (or `message_id`) to its conversation; True when events are parked waiting for it."""
        ...

    def park(self, anchor: str, event: SocialEvent, *, now: datetime, replacing: int | None = None) -> bool:
        """Keep `event` until `anchor` is ready; False (nothing kept) when it became ready meanwhile.

        A conversation anchor is ready when the conversation has a ticket, or with `replacing`, a ticket other than that
        one (a closed ticket, which takes no note, until the customer's next message opens its follow-up).
        """
        ...

    def parked(self, anchor: str) -> list[SocialEvent]:
        """Every event parked on `anchor`, for the caller to queue again before it calls `unpark`."""
        ...

    def unpark(self, anchor: str, events: Sequence[SocialEvent]) -> None:
        """Forget `events` (queued again) and clear the anchor's flag."""
        ...

    def pause(self, backend: str, *, until: datetime) -> None:
        """Every container stops calling `backend` until `until` (a 429's Retry-After, a spent allocation)."""
        ...

    def pauses(self) -> dict[str, datetime]:
        """The backends paused now or in the past, with the time their pause ends."""
        ...

    def alias(self, key: str) -> Alias | None:
        """Where events keyed `key` belong, if a binding says so."""
        ...

    def bind_alias(self, key: str, *, target: str, owner: str | None = None) -> Alias:
        """Bind `key` to `target` unless it is bound already, and return the binding in force: the first writer wins.

        With `owner`, a binding nobody owns is taken over, and the owner may re-point its own.
        """
        ...

    def claim_automatic(self, conversation_key: str, *, owner: str, now: datetime, window: timedelta) -> bool:
        """Take the conversation's one automatic message of the window that starts now, unless one was taken within `window`.

        True for the first claimant, and again for the same `owner` (an event's retry, which re-queues the same job:
        outbound sends a job id once); False for any other event until `window` has passed since the claim.
        """
        ...

    def customer(self, key: str) -> Customer | None: ...

    def save_customer(self, customer: Customer) -> None: ...


SendStatus = Literal["sent", "failed", "unknown", "cancelled"]
"""How a claimed send ended: the platform took it; it refused for good; or its answer was lost after the request left."""


class SendLedger(Protocol):
    """What the outbound function remembers about its sends: each job sent at most once, and the messages it sent."""

    def claim_send(self, job_id: str, now: datetime) -> bool:
        """Claim the job's one send (a conditional write); False when it was claimed before, whatever became of it."""
        ...

    def release_send(self, job_id: str, now: datetime) -> None:
        """Give a claimed job back, when the platform refused it before anything was sent (a rate limit, a refused
        connection): the next try may claim it again. A finished send is never released."""
        ...

    def count_wait(self, job_id: str, now: datetime, *, tell_after: int) -> bool:
        """Count one more wait of the job (a rate limit: nothing sent); True once, for the wait that reaches `tell_after`
        (the agent is told then that the message is held back), False for every other."""
        ...

    def settle_abandoned(self, job_id: str, *, claimed_before: datetime, now: datetime) -> bool:
        """Mark `unknown` a claim taken before `claimed_before` and never finished (its function died mid-send); True
        for the one caller that did so, which tells the agent. A send under way, finished or released is left alone."""
        ...

    def finish_send(self, job_id: str, *, status: SendStatus, platform_message_id: str | None, reason: str | None, now: datetime) -> None:
        """Record how the claimed send ended (a finished job stays claimed: it is never sent again)."""
        ...

    def mark_sending(self, conversation_key: str, text: str, job_id: str, now: datetime) -> None:
        """Before the platform is called: `text` is being sent into the conversation (its echo may outrun the answer)."""
        ...

    def remember_sent(self, platform: str, message_id: str, job_id: str, conversation_key: str, now: datetime) -> None:
        """Remember that `message_id` is ours (the job that sent it), so its echo is recognised."""
        ...

    def find_sent(self, platform: str, message_id: str) -> str | None:
        """The job id of a message we sent on `platform`, or None when the message is not ours."""
        ...
