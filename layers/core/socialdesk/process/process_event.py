"""Turn one canonical event into helpdesk and CRM work, exactly once.

The event arrives at least once (platform redeliveries, SQS retries, crashes). Each
side effect is guarded by what the store remembers:

- a processing lease per event, so two deliveries of one event never work at once;
- progress per side, so a retry redoes only what is missing: a Salesforce outage
  never blocks the ticket and a Zendesk outage never loses the Salesforce activity;
- a claim per conversation, so two first messages of one thread open one ticket;
- Zendesk's Idempotency-Key plus a lookup by `external_id` after a crash, so a ticket
  created just before a crash is found again rather than created twice.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from socialdesk.crm.port import Crm, CrmError, CrmRateLimitedError, CrmRejectedError, CrmUnavailableError
from socialdesk.desk.port import (
    Comment,
    Desk,
    DeskError,
    DeskRateLimitedError,
    DeskRejectedError,
    TicketClosedError,
    TicketNotFoundError,
)
from socialdesk.model import EventKind, Platform, SocialEvent
from socialdesk.model.conversation import Conversation, Customer, EventProgress, customer_key
from socialdesk.process.failures import Jitter, PermanentFailureError, RetryLaterError, backoff, spread
from socialdesk.rules import ticket_content
from socialdesk.rules.crm_content import crm_activity, crm_contact
from socialdesk.store.port import ConversationStore, EventBusyError

if TYPE_CHECKING:
    from collections.abc import Callable

    from socialdesk.rules.config import RulesConfig

# What customers write that becomes ticket comments and CRM activity; the rest are notes or facts.
MESSAGE_KINDS = frozenset({EventKind.POST, EventKind.REPLY, EventKind.COMMENT, EventKind.DIRECT_MESSAGE})
# Longer than the process function's 60 s timeout: a live worker's lease or claim is never taken over.
LEASE_SECONDS = 90
CLAIM_STALE_SECONDS = 90
CLAIM_RETRY_SECONDS = 15


@dataclass
class Outcome:
    """What handling one event did, for the log line and the metrics."""

    event_key: str
    conversation_key: str | None = None
    ticket_id: int | None = None
    duplicate: bool = False
    actions: list[str] = field(default_factory=list)


@dataclass
class _Run:
    event: SocialEvent
    attempt: int
    progress: EventProgress
    outcome: Outcome
    conversation: Conversation | None = None
    customer: Customer | None = None
    """The author's record, read once per event and shared by both sides."""

    @property
    def owner(self) -> str:
        """Who opens a ticket: the event, whichever delivery of it is working."""
        return self.event.dedupe_key


class ProcessEvent:
    def __init__(
        self,
        *,
        store: ConversationStore,
        desk: Desk,
        crm: Crm | None,
        rules: RulesConfig,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        jitter: Jitter = spread,
    ) -> None:
        self._store = store
        self._desk = desk
        self._crm = crm
        self._rules = rules
        self._clock = clock
        self._monotonic = monotonic
        self._jitter = jitter
        self._crm_paused_until = 0.0

    def handle(self, event: SocialEvent, *, delivery_id: str, attempt: int = 1) -> Outcome:
        """Do what is still missing for `event`; raise RetryLaterError or PermanentFailureError otherwise.

        `delivery_id` identifies this delivery (the SQS message id, the same on each SQS retry of it), so a
        retry resumes its own lease while a duplicate delivery of the same event waits for it.
        """
        try:
            progress = self._store.begin_event(event.dedupe_key, owner=delivery_id, now=self._clock(), lease_seconds=LEASE_SECONDS)
        except EventBusyError as exc:
            raise RetryLaterError(exc.retry_after, "a duplicate of this event is being processed") from exc
        run = _Run(event=event, attempt=attempt, progress=progress, outcome=Outcome(event_key=event.dedupe_key))
        if progress.completed:
            run.outcome.duplicate = True
            return run.outcome
        # Each side runs even when the other failed; a permanent failure outranks a retry, the longest retry wins.
        permanent: PermanentFailureError | None = None
        retry: RetryLaterError | None = None
        try:
            self._resolve_conversation(run)
            for side in (self._helpdesk_side, self._crm_side):
                try:
                    side(run)
                except PermanentFailureError as exc:
                    permanent = permanent or exc
                except RetryLaterError as exc:
                    retry = exc if retry is None or exc.delay_seconds > retry.delay_seconds else retry
        finally:
            progress.completed = progress.zendesk_done and progress.salesforce_done
            self._store.save_progress(event.dedupe_key, progress, now=self._clock(), release=True)
        if permanent:
            raise permanent
        if retry:
            raise retry
        run.outcome.ticket_id = progress.ticket_id
        return run.outcome

    # --- which conversation ---------------------------------------------------------------

    def _resolve_conversation(self, run: _Run) -> None:
        event = run.event
        key = self._conversation_key(event)
        run.outcome.conversation_key = key
        if key is None:
            return
        customer = customer_key(event.platform, event.author.id) if event.author and not event.from_brand else None
        if event.kind in MESSAGE_KINDS:
            run.conversation = self._store.record_activity(key, event, customer_key=customer)
            self._store.remember_message(event, key)
        else:
            run.conversation = self._store.conversation(key)

    def _conversation_key(self, event: SocialEvent) -> str | None:
        """The conversation an event belongs to, or None when it belongs to none we track.

        A message we already know (a redelivery, an edit, a deletion) or the message it
        replies to decides. Otherwise the payload's key, except on X: a reply to a post we
        never saw (a brand broadcast, say) starts its own thread instead of gathering every
        customer who replied to that post into one ticket.
        """
        for message_id in (event.message_id, event.in_reply_to):
            if message_id and (known := self._store.conversation_of_message(event, message_id)):
                return known
        if event.platform is Platform.X and event.kind in (EventKind.POST, EventKind.REPLY, EventKind.EDIT):
            return None if event.from_brand else f"x:{event.account_id}:thread:{event.message_id}"
        if event.from_brand and event.kind in MESSAGE_KINDS and self._store.conversation(event.conversation_key) is None:
            return None  # the brand started it: nothing to answer
        return event.conversation_key

    # --- Zendesk --------------------------------------------------------------------------

    def _helpdesk_side(self, run: _Run) -> None:
        if run.progress.zendesk_done:
            return
        try:
            if run.conversation is not None:
                if run.event.kind in MESSAGE_KINDS and not run.event.from_brand:
                    self._customer_message(run, run.conversation)
                elif run.conversation.ticket_id is not None:
                    self._note(run, run.conversation.ticket_id)
        except DeskError as exc:
            raise self._desk_failure(exc, run.attempt) from exc
        # Saved with the Salesforce side's next write, or when the event is released.
        run.progress.zendesk_done = True

    def _customer_message(self, run: _Run, conversation: Conversation) -> None:
        if conversation.ticket_id is None:
            self._open_ticket(run, expected=None, follow_up_of=None)
        elif conversation.opened_by == run.owner:
            run.progress.ticket_id = conversation.ticket_id  # this message opened it; a retry after a crash finds it done
        else:
            self._customer_comment(run, conversation.ticket_id, may_follow_up=True)

    def _open_ticket(self, run: _Run, *, expected: int | None, follow_up_of: int | None) -> None:
        event, key = run.event, run.outcome.conversation_key
        assert key is not None
        claim = self._store.claim_ticket(key, owner=run.owner, expected_ticket_id=expected, now=self._clock(), stale_after=CLAIM_STALE_SECONDS)
        if not claim.won:
            if claim.ticket_id is not None and claim.ticket_id != expected:
                self._customer_comment(run, claim.ticket_id, may_follow_up=False)  # another message opened it meanwhile
                return
            raise RetryLaterError(max(1, min(claim.retry_after, CLAIM_RETRY_SECONDS)), "another message of this conversation is opening its ticket")
        requester = self._desk_user_id(run)
        ticket_id = None
        if claim.previous_owner is not None:
            # An earlier attempt (this event's, or one that crashed) may have created the ticket already.
            ticket_id = self._recover_ticket(key, not_before=expected)
            if ticket_id is not None and claim.previous_owner != run.owner:
                self._store.set_ticket(key, ticket_id=ticket_id, opened_by=claim.previous_owner, replaces=expected)
                self._customer_comment(run, ticket_id, may_follow_up=False)
                return
        if ticket_id is None:
            ticket = ticket_content.new_ticket(
                event, requester_id=requester, conversation_key=key, rules=self._rules.zendesk, follow_up_of=follow_up_of
            )
            ticket_id = self._desk.create_ticket(ticket, idempotency_key=_idempotency_key(key, run.owner, expected))
            run.outcome.actions.append("ticket_created")
        if not self._rules.zendesk.context_fields.configured():
            self._desk.add_comment(ticket_id, Comment(body=ticket_content.context_note(event, key), public=False))
            run.outcome.actions.append("context_note")
        self._store.set_ticket(key, ticket_id=ticket_id, opened_by=run.owner, replaces=expected)
        run.progress.ticket_id = ticket_id

    def _recover_ticket(self, key: str, *, not_before: int | None) -> int | None:
        """The newest ticket carrying the conversation key that is not the one being replaced."""
        candidates = [ref.id for ref in self._desk.find_tickets(key) if ref.status != "deleted" and (not_before is None or ref.id > not_before)]
        return max(candidates, default=None)

    def _customer_comment(self, run: _Run, ticket_id: int, *, may_follow_up: bool) -> None:
        comment = Comment(body=ticket_content.customer_words(run.event), public=True, author_id=self._desk_user_id(run))
        try:
            self._desk.add_comment(ticket_id, comment, reopen=True)
        except (TicketClosedError, TicketNotFoundError) as exc:
            if not may_follow_up:
                raise
            # A closed ticket cannot be reopened: open a follow-up linked to it (a deleted one: a fresh ticket).
            self._open_ticket(run, expected=ticket_id, follow_up_of=ticket_id if isinstance(exc, TicketClosedError) else None)
            return
        run.outcome.actions.append("comment_added")
        run.progress.ticket_id = ticket_id

    def _note(self, run: _Run, ticket_id: int) -> None:
        """Brand replies, edits, deletions and failed deliveries: internal notes on the conversation's ticket."""
        event = run.event
        if event.kind is EventKind.DELIVERY_STATUS:
            if event.delivery is None or event.delivery.status != "failed":
                return
            body = ticket_content.delivery_failure_note(event)
        elif event.kind is EventKind.EDIT:
            body = ticket_content.edit_note(event)
        elif event.kind is EventKind.DELETE:
            body = ticket_content.deletion_note(event)
        else:
            body = ticket_content.brand_reply_note(event)
        try:
            self._desk.add_comment(ticket_id, Comment(body=body, public=False))
            if event.kind is EventKind.DELETE:
                self._desk.add_tags(ticket_id, [ticket_content.DELETED_TAG])
        except (TicketClosedError, TicketNotFoundError):
            return  # nothing left to annotate
        run.outcome.actions.append(f"note_{event.kind}")
        run.progress.ticket_id = ticket_id

    def _customer(self, run: _Run) -> Customer:
        if run.customer is None:
            key = ticket_content.desk_user(run.event).external_id
            run.customer = self._store.customer(key) or Customer(key=key)
        return run.customer

    def _desk_user_id(self, run: _Run) -> int:
        """The customer's helpdesk user: from the store when known (no call), else created or updated once."""
        customer = self._customer(run)
        if customer.desk_user_id is None:
            customer.desk_user_id = self._desk.upsert_user(ticket_content.desk_user(run.event))
            self._store.save_customer(customer)
        return customer.desk_user_id

    def _desk_failure(self, exc: DeskError, attempt: int) -> Exception:
        if isinstance(exc, DeskRateLimitedError):
            return RetryLaterError(exc.retry_after + int(self._jitter(max(exc.retry_after, 10))), "Zendesk rate limit")
        if isinstance(exc, DeskRejectedError | TicketClosedError | TicketNotFoundError):
            return PermanentFailureError(f"Zendesk refused the request: {exc}")
        return RetryLaterError(backoff(attempt, self._jitter), f"Zendesk unavailable: {exc}")

    # --- Salesforce -----------------------------------------------------------------------

    def _crm_side(self, run: _Run) -> None:
        progress, event = run.progress, run.event
        if progress.salesforce_done:
            return
        if self._crm is None or event.from_brand or event.kind not in MESSAGE_KINDS or event.author is None:
            progress.salesforce_done = True
            return
        remaining = self._crm_paused_until - self._monotonic()
        if remaining > 0:
            raise RetryLaterError(int(remaining) + 1, "Salesforce API allocation used up")
        ticket_id = progress.ticket_id or (run.conversation.ticket_id if run.conversation else None)
        activity = crm_activity(event, ticket_url=self._rules.zendesk.agent_url(ticket_id) if ticket_id else None)
        try:
            customer = self._customer(run)
            if progress.salesforce_attempted and (found := self._crm.find_activity(activity, contact_id=customer.crm_contact_id)):
                progress.salesforce_ref, progress.salesforce_done = found, True
                return
            progress.salesforce_attempted = True
            self._store.save_progress(run.event.dedupe_key, progress, now=self._clock(), release=False)
            recorded = self._crm.record_activity(
                activity, contact=crm_contact(event), contact_id=customer.crm_contact_id, persona_id=customer.crm_persona_id
            )
        except CrmError as exc:
            raise self._crm_failure(exc, run.attempt) from exc
        if (recorded.contact_id, recorded.persona_id) != (customer.crm_contact_id, customer.crm_persona_id):
            customer.crm_contact_id, customer.crm_persona_id = recorded.contact_id, recorded.persona_id
            self._store.save_customer(customer)
        progress.salesforce_ref, progress.salesforce_done = recorded.activity_id, True
        run.outcome.actions.append("crm_activity")

    def _crm_failure(self, exc: CrmError, attempt: int) -> Exception:
        if isinstance(exc, CrmRateLimitedError):
            # Pause every event in this container, not just this one: no hot loop against a spent allocation.
            assert self._rules.salesforce is not None
            wait = self._rules.salesforce.limit_backoff_seconds
            self._crm_paused_until = self._monotonic() + wait
            return RetryLaterError(wait + int(self._jitter(wait)), "Salesforce API allocation used up")
        if isinstance(exc, CrmRejectedError):
            return PermanentFailureError(f"Salesforce refused the request: {exc}")
        assert isinstance(exc, CrmUnavailableError)
        return RetryLaterError(backoff(attempt, self._jitter), f"Salesforce unavailable: {exc}")


def _idempotency_key(conversation_key: str, owner: str, replaces: int | None) -> str:
    """Stable for one event opening one ticket, so its retries replay instead of creating twice (≤ 255 chars)."""
    digest = hashlib.sha256(f"{conversation_key}|{owner}|{replaces}".encode()).hexdigest()
    return f"socialdesk-{digest}"
