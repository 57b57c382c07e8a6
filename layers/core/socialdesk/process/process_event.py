"""Turn one canonical event into helpdesk and CRM work, exactly once.

The event arrives at least once (platform redeliveries, SQS retries, crashes). Each
side effect is guarded by what the store remembers:

- a processing lease per event, so two deliveries of one event never work at once;
- progress per side, so a retry redoes only what is missing: a Salesforce outage
  never blocks the ticket and a Zendesk outage never loses the Salesforce activity;
- a claim per conversation, so two first messages of one thread open one ticket, and a
  record of which claimant may have created it, so a ticket found after a takeover is
  credited to the message whose words it already holds;
- Zendesk's Idempotency-Key plus a lookup by `external_id` after a crash, so a ticket
  created just before a crash is found again rather than created twice;
- parking: a brand reply, edit, deletion or failed delivery that arrives before the
  message or ticket it belongs to waits in the store and is queued again the moment that
  appears, so any delivery order gives the same tickets and notes;
- aliases: a WhatsApp chat or customer keyed by phone number continues when Meta names the
  customer by a business-scoped user id (process/aliases.py).

A customer's message is classified (classify/) before its ticket is written: the new ticket carries the
priority and tags; a follow-up's tags (and a higher priority, never a lower one) are added after its comment, only those
the ticket lacks as Zendesk's answer to the comment shows it; a retry after the comment (recorded as made) adds them all
again (tags are a set, a priority only rises: repeating either is harmless).

Once the customer's message is on its ticket, it may be answered on the platform (acknowledge/policy.py): an
acknowledgement or a self-service answer, queued for the outbound function as one job. At most one per conversation per
window: a conditional write in the store claims the window before the job is queued, and the claimant's retry (after a
crash or a failure between the claim and the queue) queues the same job id again, which outbound sends once. Our own
sends coming back from the platform (echoes, found by `SentMessages`) are neither a brand reply nor an answer: no note,
no response-time fact, nothing queued.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import msgspec

from socialdesk.acknowledge import policy
from socialdesk.classify import Classification, Classifier
from socialdesk.crm.port import Crm, CrmError, CrmRateLimitedError, CrmRejectedError, CrmUnavailableError, RecordedActivity
from socialdesk.desk.port import (
    Comment,
    Desk,
    DeskError,
    DeskRateLimitedError,
    DeskRejectedError,
    DeskUnavailableError,
    FieldValue,
    TicketClosedError,
    TicketNotFoundError,
    TicketView,
)
from socialdesk.model import EventKind, Platform, SocialEvent
from socialdesk.model.conversation import Conversation, Customer, EventProgress, customer_key
from socialdesk.model.priority import priority_rank
from socialdesk.observability import TOKEN_REJECTED_METRIC, logger
from socialdesk.platforms.messaging_state import messaging_state
from socialdesk.ports.mentions import MentionTokenRejectedError, MentionUnavailableError
from socialdesk.ports.queues import event_message
from socialdesk.privacy import log_text
from socialdesk.process import aliases, ticket_content
from socialdesk.process.activity_content import crm_activity, crm_contact
from socialdesk.process.failures import Jitter, PermanentFailureError, RetryLaterError, WaitError, backoff, later, spread
from socialdesk.process.sides import SideFailures, Together, side_by_side
from socialdesk.process.sqs_batch import Outcome, count_metric
from socialdesk.sla.clock import ClockBusyError
from socialdesk.store.port import ConversationStore, EventBusyError, conversation_anchor, message_anchor

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from socialdesk.calendars import Calendar
    from socialdesk.ports.mentions import MentionLookup
    from socialdesk.ports.outbound import OutboundJobs, SentMessages
    from socialdesk.ports.queues import MessageQueue
    from socialdesk.rules import RulesConfig
    from socialdesk.sla.clock import ResponseClock

# What customers write that becomes ticket comments and CRM activity; the rest are notes or facts.
MESSAGE_KINDS = frozenset({EventKind.POST, EventKind.REPLY, EventKind.COMMENT, EventKind.DIRECT_MESSAGE})
# Longer than the process function's 60 s timeout: a live worker's lease or claim is never taken over.
LEASE_SECONDS = 90
CLAIM_STALE_SECONDS = 90
# Between the Lambda clock that dates a claim and Zendesk's that dates a ticket.
CLOCK_SKEW = timedelta(minutes=1)
CLAIM_RETRY_SECONDS = 15
# An X reply whose parent we have not seen waits PARENT_WAIT (from its first try, so a backlog does not use it up) for the
# parent to arrive before it starts a thread of its own. The parent may come late twice over: X retries a delivery our
# webhook did not take for 5 minutes (developer.x.com/en/docs/x-api/enterprise/account-activity-api/guides/activity-retries),
# and a parent whose first try died with its Lambda is received again only when the inbound queue's visibility timeout is
# over (infra/template.yaml InboundQueue, 360 s; tests/unit/test_x_broadcasts.py keeps the two equal). A minute more lets
# that redelivered try reach its conversation (its first store calls) and the reply's next retry see it.
X_REDELIVERY_WINDOW = timedelta(minutes=5)
INBOUND_VISIBILITY_TIMEOUT = timedelta(seconds=360)
PARENT_WAIT = X_REDELIVERY_WINDOW + INBOUND_VISIBILITY_TIMEOUT + timedelta(minutes=1)
PARENT_RETRY_SECONDS = 30
ZENDESK, SALESFORCE = "zendesk", "salesforce"
_EVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class _Park:
    """Where an event waits: the anchor (a message or a conversation) it needs."""

    anchor: str
    replacing: int | None = None
    """For a conversation anchor: wait for a ticket other than this (closed) one."""


class _EditAsMessage:
    """The event is a customer's X edit of a post that never arrived: it is their message."""


_EDIT_AS_MESSAGE = _EditAsMessage()


class _Broadcast:
    """The event is the brand's broadcast on X (or its edit or deletion): no conversation, nothing for agents."""


_BROADCAST = _Broadcast()


@dataclass
class _Run:
    event: SocialEvent
    attempt: int
    progress: EventProgress
    outcome: Outcome
    conversation: Conversation | None = None
    customer: Customer | None = None
    """The author's record, read once per event and shared by both sides."""
    customer_key: str | None = None
    """The key the author goes by here (a WhatsApp customer's may be an alias), once resolved."""
    parked: bool = False
    classification: Classification | None = None
    own_echo: bool = False
    helpdesk_retrying: bool = False
    """The helpdesk side failed for now and will be tried again: a Task that cannot name its ticket yet waits for it."""
    """The brand's message is one of our own automatic or agent sends, come back from the platform."""
    automatic_pending: bool = False
    """An automatic message was decided but not yet queued and tagged: the event is not complete."""
    clock_pending: bool = False
    """The response clock could not follow this message yet: the event is not complete."""
    words_on: int | None = None
    """The ticket holding the customer's words, once Zendesk has put them there: the one the Task links."""
    words_placed: threading.Event = field(default_factory=threading.Event)
    """Set once `words_on` is known, or the Zendesk side is over: the Salesforce side waits for it (`_sides`)."""
    crm_actions: list[str] = field(default_factory=list)
    """What the Salesforce side did, told after what the Zendesk side did: the same order however the threads ran."""
    helpdesk_broke: bool = False
    """The Zendesk side raised what is neither a failure nor a wait (a bug, the store down): nothing more is done."""

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
        events: MessageQueue,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        jitter: Jitter = spread,
        classifier: Classifier | None = None,
        outbound: OutboundJobs | None = None,
        sent: SentMessages | None = None,
        mentions: MentionLookup | None = None,
        response_clock: ResponseClock | None = None,
        together: Together = side_by_side,
    ) -> None:
        self._together = together
        if classifier is None and rules.classification is not None:
            classifier = Classifier(rules.classification, influencer=rules.zendesk.influencer)
        self._classifier = classifier
        self._outbound = outbound
        self._sent = sent
        self._mentions = mentions
        self._response_clock = response_clock
        self._calendar: Calendar | None = policy.calendar_of(rules) if outbound is not None and rules.acknowledgement is not None else None
        self._store = store
        self._desk = desk
        self._crm = crm
        self._rules = rules
        self._events = events
        self._clock = clock
        self._jitter = jitter
        self._paused_until: dict[str, datetime] = {}
        """Until when each backend is paused, as this container knows: shared by the events it runs side by side."""
        self._pauses_lock = threading.Lock()

    def begin_batch(self) -> None:
        """Nothing to prepare: the shared pauses are read before each event (`_learn_pauses`)."""

    def _learn_pauses(self) -> None:
        """Learn the pauses other containers recorded, so none of us calls a backend too early.

        Read before every event that gets this far (one small GetItem), not once per batch: a container that began its
        batch a moment before another container's 429 would otherwise call Zendesk during that Retry-After.
        """
        try:
            shared = self._store.pauses()
        except Exception:  # the store's own failure surfaces on the first event; pauses known here still hold
            logger.warning("backend pauses could not be read; using this container's own")
            return
        for backend, until in shared.items():
            self._extend_pause(backend, until)

    def handle(self, event: SocialEvent, *, delivery_id: str, attempt: int = 1) -> Outcome:
        """Do what is still missing for `event`; raise RetryLaterError or PermanentFailureError otherwise.

        `delivery_id` identifies this delivery (the SQS message id, the same on each SQS retry of it), so a
        retry resumes its own lease while a duplicate delivery of the same event waits for it.
        """
        event = self._as_brand_if_ours(event)
        try:
            progress = self._store.begin_event(event.dedupe_key, owner=delivery_id, now=self._clock(), lease_seconds=LEASE_SECONDS)
        except EventBusyError as exc:
            raise WaitError(exc.retry_after, "a duplicate of this event is being processed") from exc
        run = _Run(event=event, attempt=attempt, progress=progress, outcome=Outcome(event_key=event.dedupe_key))
        if progress.completed:
            run.outcome.duplicate = True
            return run.outcome
        self._learn_pauses()
        run.own_echo = self._is_own_echo(event)
        failures = SideFailures()
        try:
            self._complete_mention(run)
            self._resolve_conversation(run)
            self._sides(run, failures)
            run.clock_pending = True  # until the clock has followed: a failure of any kind leaves the event to be retried
            try:
                self._follow_clock(run)
                run.clock_pending = False
            except RetryLaterError as exc:
                failures.retry = later(failures.retry, exc)
        finally:
            progress.completed = progress.zendesk_done and progress.salesforce_done and not run.automatic_pending and not run.clock_pending
            self._store.save_progress(event.dedupe_key, progress, now=self._clock(), release=True)
        if failures.permanent:
            raise failures.permanent
        if failures.retry:
            raise failures.retry
        run.outcome.ticket_id = progress.ticket_id
        return run.outcome

    def _sides(self, run: _Run, failures: SideFailures) -> None:
        """Zendesk (then the automatic message, which needs its ticket) and Salesforce, each run even when the other failed.

        Side by side for a customer's message: the Task links the ticket that holds the message's words, so Salesforce
        waits until Zendesk has put them on one (a comment on the conversation's ticket, or a new or follow-up ticket:
        `_words_placed`), then writes the Task while Zendesk goes on with the tags, the context note and the automatic
        message. A Zendesk side that fails first lets it go on as it would after it (`_crm_side` decides). What both sides
        read (the customer's record, the classification) is read before they part, once.
        """
        if run.parked:
            return

        def zendesk() -> None:
            try:
                failed = failures.run(lambda: self._helpdesk_side(run))
                run.helpdesk_retrying = isinstance(failed, RetryLaterError)
                run.helpdesk_broke = failed is not None and not isinstance(failed, PermanentFailureError | RetryLaterError)
            finally:
                run.words_placed.set()
            if not run.helpdesk_broke and not run.parked:
                failures.run(lambda: self._automatic_message(run))

        def salesforce() -> None:
            run.words_placed.wait()
            if not run.helpdesk_broke and not run.parked:
                failures.run(lambda: self._crm_side(run))

        if self._crm_alongside(run):
            self._customer(run)
            self._classification(run)
            self._together(zendesk, salesforce)
        else:
            zendesk()
            salesforce()
        run.outcome.actions.extend(run.crm_actions)
        failures.raise_unexpected()

    def _crm_alongside(self, run: _Run) -> bool:
        """Whether both sides have work for this event: a customer's message neither side has finished."""
        event, progress = run.event, run.progress
        if self._crm is None or progress.salesforce_done or progress.zendesk_done or run.own_echo:
            return False
        return not event.from_brand and event.kind in MESSAGE_KINDS and event.author is not None

    @staticmethod
    def _words_placed(run: _Run, ticket_id: int) -> None:
        """The message's words are on `ticket_id` now: its Task may link it (`_sides`)."""
        run.words_on = ticket_id
        run.words_placed.set()

    def _complete_mention(self, run: _Run) -> None:
        """An Instagram mention's words and author, fetched before anything is written: the ticket shows what the
        customer wrote. Not now: the event waits (throttling) or retries (an outage); a refused or missing token raises
        the connection-health metric, and the mention goes on with ids only, never lost."""
        event = run.event
        if self._mentions is None or event.content_type != "mention" or event.author is not None:
            return
        try:
            run.event = self._mentions.complete(event)
        except MentionUnavailableError as exc:
            if exc.throttled:
                raise WaitError(exc.retry_after or backoff(run.attempt, self._jitter), f"instagram mention: {exc.reason}") from exc
            raise RetryLaterError(backoff(run.attempt, self._jitter), f"instagram mention not fetched: {exc.reason}") from exc
        except MentionTokenRejectedError as exc:
            count_metric(TOKEN_REJECTED_METRIC)
            logger.error(
                "instagram token rejected or missing: the mention's words cannot be fetched; an admin must renew it in PlatformSecret",
                extra={"platform": event.platform, "code": exc.code},
            )

    def _follow_clock(self, run: _Run) -> None:
        """The response clock follows the message just recorded: a customer waiting starts it (at the priority the message
        was classified at, or the ticket's default), the brand's own reply typed in a platform's app may stop it. Our own
        sends come back as echoes and are skipped: they never stop it. Repeating it (a retry) changes nothing."""
        event, key = run.event, run.outcome.conversation_key
        if self._response_clock is None or run.parked or run.own_echo or key is None or event.kind not in MESSAGE_KINDS:
            return
        try:
            if event.from_brand:
                self._response_clock.brand_wrote(key, at=event.created_at)
                return
            classified = run.classification.priority if run.classification is not None else None
            default = self._rules.zendesk.ticket_defaults(event.platform).priority
            priority = classified if priority_rank(classified) > priority_rank(default) else default
            self._response_clock.customer_wrote(key, at=event.created_at, platform=event.platform, kind=event.kind, priority=priority)
        except ClockBusyError as exc:
            raise WaitError(CLAIM_RETRY_SECONDS, "the conversation's response clock is being updated") from exc

    # --- which conversation ---------------------------------------------------------------

    def _resolve_conversation(self, run: _Run) -> None:
        first_tried = run.progress.first_tried_at or self._clock()
        if run.progress.edit_as_message:
            run.event = _as_message(run.event)
        target = self._conversation_key(run.event, first_tried=first_tried)
        if isinstance(target, _EditAsMessage):
            # Kept before anything it leads to, so a retry after a crash takes the same path (the post is "known" by then).
            run.progress.edit_as_message = True
            self._store.save_progress(run.event.dedupe_key, run.progress, now=self._clock(), release=False)
            run.event = _as_message(run.event)
            target = self._conversation_key(run.event, first_tried=first_tried)
        event = run.event
        if isinstance(target, _Park):
            self._park(run, target)
            return
        if isinstance(target, _Broadcast):
            self._remember_broadcast(run)
            return
        assert isinstance(target, str)  # an edit taken for the customer's message is an edit no more
        run.outcome.conversation_key = target
        if event.kind in MESSAGE_KINDS and run.own_echo:
            # Our own send: its id leads a customer's reply to it here, but it answers nobody (no response-time fact).
            run.conversation = self._store.conversation(target)
            self._remember(event, target)
        elif event.kind in MESSAGE_KINDS:
            customer = self._customer_key(run) if event.author and not event.from_brand else None
            run.conversation = self._store.record_activity(target, event, customer_key=customer)
            self._remember(event, target)
        else:
            run.conversation = self._store.conversation(target)
        if (version := _x_version(event)) and self._store.remember_message(event, target, message_id=version):
            self._release(message_anchor(event.platform, event.account_id, version))
        if run.conversation is not None and run.conversation.ticket_id is not None and run.conversation.parked:
            self._release(conversation_anchor(target))  # an earlier release did not finish

    def _remember(self, event: SocialEvent, target: str) -> None:
        """Remember which conversation a public post or comment belongs to: a reply, edit or deletion names it, maybe
        months later, and may be waiting for it. A direct message needs no such record (one write per message saved): its
        chat's participants name its conversation, and nothing waits for it (`_conversation_key`)."""
        if event.kind is not EventKind.DIRECT_MESSAGE and self._store.remember_message(event, target):
            self._release(message_anchor(event.platform, event.account_id, event.message_id))

    def _conversation_key(self, event: SocialEvent, *, first_tried: datetime) -> str | _Park | _Broadcast | _EditAsMessage:
        """The conversation an event belongs to, or where it must wait for it.

        A post or comment we already know (a redelivery, an edit, a deletion) or the one it replies to decides; otherwise
        the payload's key (a direct message's always: its chat), except on X (`_x_conversation`).
        """
        if event.kind is EventKind.DIRECT_MESSAGE:
            ids: tuple[str | None, ...] = ()  # a chat's message or the one it quotes: the chat is the participants' (`_remember`)
        elif event.platform is Platform.X and event.kind is EventKind.EDIT:
            ids = (event.message_id,)  # found by the post it edits alone: the post it replies to is no sign that post reached us
        else:
            ids = (event.message_id, event.in_reply_to)
        found = (self._store.conversation_of_message(event, message_id) for message_id in ids if message_id)
        known = next((key for key in found if key), None)
        if event.platform is Platform.WHATSAPP:
            # Resolved even when the message is known (a redelivery, a quote), so the chat's keys are bound whichever event comes first.
            resolved = aliases.resolve(self._store, event.conversation_key, event.conversation_alias, exists=self._conversation_exists, known=known)
            return known or resolved
        if event.platform is Platform.X and event.kind is not EventKind.DIRECT_MESSAGE:
            return self._x_conversation(event, known, first_tried=first_tried)
        return known or event.conversation_key

    def _x_conversation(self, event: SocialEvent, known: str | None, *, first_tried: datetime) -> str | _Park | _Broadcast | _EditAsMessage:
        """On X a payload names no reliable thread: the post an event replies to, edits or deletes decides, once known.

        The brand's broadcasts (its posts that reply to nothing, and its thread under one) are remembered as posts with
        no conversation: a customer replying to one starts a thread of their own at once, so customers replying to one
        post do not share a ticket, and an edit or deletion of a broadcast shows nowhere. A brand reply, a brand's edit or
        a deletion of a post not seen yet waits (parked) for it. A customer's reply to a post not seen waits PARENT_WAIT
        for it, then starts its own thread: the parent is one socialdesk never receives (someone else's post). A
        customer's edit of a post not seen waits as long, then is their message (`_as_message`).
        """
        if known == _broadcasts(event):
            if event.from_brand or event.kind in (EventKind.POST, EventKind.EDIT, EventKind.DELETE):
                return _BROADCAST
            return f"x:{event.account_id}:thread:{event.message_id}"
        if known:
            return known
        if event.from_brand and event.kind is EventKind.POST:
            return _BROADCAST
        if event.kind is EventKind.EDIT and not event.from_brand:
            # Usually the post is a few deliveries behind; if it never comes, the customer edited a post that did not
            # concern the brand (adding the @mention, say), and the edit is all socialdesk will ever get of it.
            if self._clock() - first_tried < PARENT_WAIT:
                raise WaitError(PARENT_RETRY_SECONDS, "the post this edits has not arrived yet")
            return _EDIT_AS_MESSAGE
        if event.kind in (EventKind.EDIT, EventKind.DELETE):
            return _Park(message_anchor(event.platform, event.account_id, event.message_id))
        if event.from_brand and event.in_reply_to:
            return _Park(message_anchor(event.platform, event.account_id, event.in_reply_to))
        if event.in_reply_to and self._clock() - first_tried < PARENT_WAIT:
            raise WaitError(PARENT_RETRY_SECONDS, "the post this replies to has not arrived yet")
        return f"x:{event.account_id}:thread:{event.message_id}"

    def _remember_broadcast(self, run: _Run) -> None:
        """Record the broadcast's ids (an edit's new one too) as the brand's, with no conversation; what waited on them comes back."""
        event = run.event
        ids = () if event.kind is EventKind.DELETE else (event.message_id, _x_version(event))
        for message_id in dict.fromkeys(message_id for message_id in ids if message_id):
            if self._store.remember_message(event, _broadcasts(event), message_id=message_id):
                self._release(message_anchor(event.platform, event.account_id, message_id))
        run.progress.zendesk_done = True
        run.outcome.actions.append("broadcast")

    def _park(self, run: _Run, park: _Park) -> None:
        """Keep the event in the store until its anchor is ready; it then comes back through the queue."""
        if not self._store.park(park.anchor, run.event, now=self._clock(), replacing=park.replacing):
            raise WaitError(1, "what this event waits for appeared meanwhile")
        run.parked = True
        run.outcome.actions.append("parked")

    def _release(self, anchor: str) -> None:
        """Queue again every event parked on `anchor`: now it is ready, they find their place."""
        parked = self._store.parked(anchor)
        self._events.send_all([event_message(event) for event in parked])
        self._store.unpark(anchor, parked)
        if parked:
            logger.info("parked events released", extra={"count": len(parked)})

    # --- Zendesk --------------------------------------------------------------------------

    def _helpdesk_side(self, run: _Run) -> None:
        if run.progress.zendesk_done:
            return
        event, conversation, key = run.event, run.conversation, run.outcome.conversation_key
        assert key is not None
        customer_message = event.kind in MESSAGE_KINDS and not event.from_brand
        if run.own_echo:
            run.progress.zendesk_done = True  # no "brand replied" note: the ticket notes our sends itself (outbound)
            run.outcome.actions.append("own_message")
            return
        if not customer_message and not _needs_note(event):
            run.progress.zendesk_done = True
            return
        if not customer_message and (conversation is None or conversation.ticket_id is None):
            self._park(run, _Park(conversation_anchor(key)))
            return
        self._wait_for(ZENDESK, "Zendesk rate limit")
        try:
            if customer_message:
                assert conversation is not None
                self._customer_message(run, conversation)
            else:
                assert conversation is not None and conversation.ticket_id is not None
                self._note(run, conversation.ticket_id)
        except DeskError as exc:
            raise self._desk_failure(exc, run.attempt) from exc
        if run.parked:  # its ticket was closed: it waits for the follow-up
            return
        # Saved with the Salesforce side's next write, or when the event is released.
        run.progress.zendesk_done = True

    def _customer_message(self, run: _Run, conversation: Conversation) -> None:
        if conversation.ticket_id is None:
            self._open_ticket(run, expected=None, follow_up_of=None)
        elif conversation.opened_by == run.owner:
            # This message opened it: a retry after a crash, or after another message credited this one's ticket to it
            # (a takeover), so its context note may be missing.
            assert run.outcome.conversation_key is not None
            self._words_placed(run, conversation.ticket_id)
            self._context_note(run, conversation.ticket_id, run.outcome.conversation_key)
            run.progress.ticket_id = conversation.ticket_id
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
            raise WaitError(max(1, min(claim.retry_after, CLAIM_RETRY_SECONDS)), "another message of this conversation is opening its ticket")
        requester = self._desk_user_id(run)
        ticket_id = None
        if claim.creator is not None:
            # An earlier attempt (this event's, or one whose claim went stale) may have created the ticket already:
            # a ticket found now is the creator's, carrying the creator's words.
            ticket_id = self._recover_ticket(key, not_before=expected, made_since=claim.creator_since)
            if ticket_id is None and claim.creator != run.owner:
                self._store.mark_creator(key, owner=run.owner, now=self._clock())
            elif ticket_id is not None and claim.creator != run.owner:
                self._ticket_ready(key, ticket_id=ticket_id, opened_by=claim.creator, replaces=expected)
                self._customer_comment(run, ticket_id, may_follow_up=False)
                return
        if ticket_id is None:
            ticket = ticket_content.new_ticket(
                event,
                requester_id=requester,
                conversation_key=key,
                rules=self._rules.zendesk,
                follow_up_of=follow_up_of,
                classification=self._classification(run),
            )
            ticket = msgspec.structs.replace(ticket, custom_fields=(*ticket.custom_fields, *self._state_field(run)))
            ticket_id = self._zendesk.create_ticket(ticket, idempotency_key=_idempotency_key(key, run.owner, expected))
            run.outcome.actions.append("ticket_created")
        self._words_placed(run, ticket_id)
        self._context_note(run, ticket_id, key)
        self._ticket_ready(key, ticket_id=ticket_id, opened_by=run.owner, replaces=expected)
        run.progress.ticket_id = ticket_id

    def _ticket_ready(self, key: str, *, ticket_id: int, opened_by: str, replaces: int | None) -> None:
        if self._store.set_ticket(key, ticket_id=ticket_id, opened_by=opened_by, replaces=replaces):
            self._release(conversation_anchor(key))

    def _recover_ticket(self, key: str, *, not_before: int | None, made_since: datetime | None) -> int | None:
        """The newest ticket carrying the conversation key, not the one being replaced, made since the creator claimed.

        A ticket older than the claim is not the creator's: it is the conversation's ticket of long ago, whose records
        the table has since let expire (400 days); taken for the creator's, it would swallow the customer's words.
        """
        earliest = made_since - CLOCK_SKEW if made_since is not None else None
        candidates = [
            ref.id
            for ref in self._zendesk.find_tickets(key)
            if ref.status != "deleted"
            and (not_before is None or ref.id > not_before)
            and (earliest is None or ref.created_at is None or ref.created_at >= earliest)
        ]
        return max(candidates, default=None)

    def _customer_comment(self, run: _Run, ticket_id: int, *, may_follow_up: bool) -> None:
        view: TicketView | None = None
        if run.progress.ticket_id != ticket_id:  # else this event's comment is there already: a retry for its classification
            comment = Comment(body=ticket_content.customer_words(run.event), public=True, author_id=self._desk_user_id(run))
            try:
                view = self._add_once(run, ticket_id, comment, reopen=True, custom_fields=self._state_field(run))
            except (TicketClosedError, TicketNotFoundError) as exc:
                if not may_follow_up:
                    raise
                # A closed ticket cannot be reopened: open a follow-up linked to it (a deleted one: a fresh ticket).
                self._open_ticket(run, expected=ticket_id, follow_up_of=ticket_id if isinstance(exc, TicketClosedError) else None)
                return
            run.outcome.actions.append("comment_added")
            run.progress.ticket_id = ticket_id  # recorded with the release: a retry adds the classification only
        self._words_placed(run, ticket_id)
        if (classification := self._classification(run)) is not None:
            self._classify_ticket(ticket_id, classification, view)

    def _classify_ticket(self, ticket_id: int, classification: Classification, view: TicketView | None) -> None:
        """A follow-up's tags, and a higher priority if it has one, after its comment: Zendesk answers the comment with the
        ticket, so what it has already (the same language, the same intent, again) costs no call; `view` None (a retry):
        all of them, as adding a tag again or raising to the same priority changes nothing.

        Best effort where Zendesk refuses them: a refused tag must not cost the customer's message. Outages still retry."""
        missing = [tag for tag in classification.tags if view is None or tag not in view.tags]
        higher = classification.priority is not None and (view is None or priority_rank(view.priority) < priority_rank(classification.priority))
        try:
            if missing:
                self._zendesk.add_tags(ticket_id, missing)
            if higher:  # an angrier follow-up raises the ticket, never lowers it
                assert classification.priority is not None
                self._zendesk.raise_priority(ticket_id, classification.priority)
        except (TicketClosedError, TicketNotFoundError, DeskRejectedError) as exc:
            # Closed or deleted since the comment (a retry's tags): the words are there, nothing else is owed.
            logger.info("classification not added to the ticket", extra={"ticket": ticket_id, "reason": log_text(str(exc))})

    def _note(self, run: _Run, ticket_id: int) -> None:
        """Brand replies, edits, deletions and failed deliveries: internal notes on the conversation's ticket."""
        event = run.event
        if event.kind is EventKind.DELIVERY_STATUS:
            sent_by = self._sent.find_sent(event.platform, event.message_id) if self._sent is not None else None
            body = ticket_content.delivery_failure_note(event, sent_by=sent_by)
            if sent_by is not None:
                # Ours, accepted and then failed (WhatsApp 131047, 131026): an agent's reply it was no longer answers the customer.
                assert run.outcome.conversation_key is not None
                self._store.withdraw_answer(run.outcome.conversation_key, reference=event.message_id)
                if self._response_clock is not None:
                    try:
                        self._response_clock.refresh(run.outcome.conversation_key)
                    except ClockBusyError as exc:
                        raise WaitError(CLAIM_RETRY_SECONDS, "the conversation's response clock is being updated") from exc
        elif event.kind is EventKind.EDIT:
            body = ticket_content.edit_note(event)
        elif event.kind is EventKind.DELETE:
            body = ticket_content.deletion_note(event)
        else:
            body = ticket_content.brand_reply_note(event)
        try:
            if event.kind is EventKind.DELETE and self._deletion_noted(run, ticket_id, body):
                run.progress.ticket_id = ticket_id
                return
            self._add_once(run, ticket_id, Comment(body=body, public=False))
            if event.kind is EventKind.DELETE:
                run.progress.ticket_id = ticket_id  # noted there by this event: if the tag fails now, its retry still tags
                self._zendesk.add_tags(ticket_id, [ticket_content.DELETED_TAG])
        except TicketClosedError:
            # A closed ticket takes no note: it waits for the follow-up ticket the customer's next message opens (whichever
            # of the two is processed first, the note lands there).
            assert run.outcome.conversation_key is not None
            self._park(run, _Park(conversation_anchor(run.outcome.conversation_key), replacing=ticket_id))
            return
        except TicketNotFoundError:
            return  # a deleted ticket: nothing left to annotate
        run.outcome.actions.append(f"note_{event.kind}")
        run.progress.ticket_id = ticket_id

    def _deletion_noted(self, run: _Run, ticket_id: int, body: str) -> bool:
        """Whether the ticket already says this message was deleted: a message is deleted once, so that note is this deletion's.

        The event record cannot tell after its 30 days, and an X Activity `post.delete` carries no time for ingest to
        refuse a replay by (its payload is the post's id and author: xdevplatform/docs x-api/activity/event-payloads.mdx),
        so a captured deletion replayed later is checked against the ticket itself. A note found on a first try is
        someone else's (a replay, or a deletion X named twice): nothing is added, not even the tag an agent may have
        removed since. A retry after a lost answer or a crash may have noted it itself and died before tagging, and one
        whose tag was refused (a 503, a 429) after its note was made knows it did: each tags.
        """
        if not self._zendesk.has_comment(ticket_id, Comment(body=body, public=False), since=_EVER):
            return False
        if run.progress.comments_uncertain or run.progress.ticket_id == ticket_id:
            self._zendesk.add_tags(ticket_id, [ticket_content.DELETED_TAG])
        run.outcome.actions.append("comment_found")
        return True

    def _context_note(self, run: _Run, ticket_id: int, key: str) -> None:
        """The social context as an internal note, by the message that opened the ticket (unless ticket fields hold it)."""
        if self._rules.zendesk.context_fields.configured():
            return
        body = ticket_content.context_note(run.event, key)
        if self._rules.replies.state_field is None:
            body = f"{body}\nReplies: {self._messaging_state(run.event, None)}"
        if self._add_once(run, ticket_id, Comment(body=body, public=False)) is not None:
            run.outcome.actions.append("context_note")

    def _messaging_state(self, event: SocialEvent, last_customer_at: datetime | None) -> str:
        return messaging_state(
            event.platform, event.kind, last_customer_at, account_id=event.account_id, rules=self._rules.replies, from_ad=event.from_ad
        )

    def _state_field(self, run: _Run) -> tuple[FieldValue, ...]:
        """The messaging state (replies.state_field) refreshed by each customer message, in the update carrying its words,
        counted from the latest customer message the conversation knows: one delivered late does not move it back."""
        field = self._rules.replies.state_field
        if field is None:
            return ()
        event = run.event
        known = run.conversation.activity.last_customer_at if run.conversation is not None else None
        return ((field, self._messaging_state(event, max(event.created_at, known or event.created_at))),)

    def _add_once(
        self, run: _Run, ticket_id: int, comment: Comment, *, reopen: bool = False, custom_fields: Sequence[FieldValue] = ()
    ) -> TicketView | None:
        """Zendesk has no idempotency for comments: after a lost answer, a retry first looks whether the comment got through.
        The ticket as the comment left it; None when the comment was found there already."""
        progress = run.progress
        if progress.comments_uncertain and progress.first_tried_at and self._zendesk.has_comment(ticket_id, comment, since=progress.first_tried_at):
            run.outcome.actions.append("comment_found")
            return None
        try:
            return self._zendesk.add_comment(ticket_id, comment, reopen=reopen, custom_fields=custom_fields)
        except DeskUnavailableError as exc:
            progress.comments_uncertain = progress.comments_uncertain or exc.uncertain
            raise

    def _classification(self, run: _Run) -> Classification | None:
        """The customer's message classified once per try, shared by both sides; None for anything else or without rules for it."""
        event = run.event
        if self._classifier is None or event.from_brand or event.kind not in MESSAGE_KINDS:
            return None
        if run.classification is None and run.progress.classification is not None:
            run.classification = msgspec.json.decode(run.progress.classification, type=Classification)
        if run.classification is None:
            run.classification = self._classifier.classify(event)
            if self._classifier.remote:  # kept before anything is written with it, so every retry writes the same
                run.progress.classification = msgspec.json.encode(run.classification).decode()
                self._store.save_progress(event.dedupe_key, run.progress, now=self._clock(), release=False)
        return run.classification

    def _conversation_exists(self, key: str) -> bool:
        return self._store.conversation(key) is not None

    def _customer_key(self, run: _Run) -> str:
        """`<platform>:<user id>`; a WhatsApp customer known by phone keeps that key when their BSUID appears (process/aliases.py)."""
        if run.customer_key is None:
            event, key = run.event, ticket_content.desk_user(run.event).external_id
            author = event.author
            if event.platform is Platform.WHATSAPP and author is not None:
                phone_key = customer_key(event.platform, author.phone) if author.phone else None
                key = aliases.resolve(self._store, key, phone_key, exists=lambda held: self._store.customer(held) is not None)
            run.customer_key = key
        return run.customer_key

    def _customer(self, run: _Run) -> Customer:
        if run.customer is None:
            key = self._customer_key(run)
            run.customer = self._store.customer(key) or Customer(key=key)
        return run.customer

    def _desk_user_id(self, run: _Run) -> int:
        """The customer's helpdesk user: from the store when known (no call), else created or updated once."""
        customer = self._customer(run)
        if customer.desk_user_id is None:
            user = msgspec.structs.replace(ticket_content.desk_user(run.event), external_id=customer.key)
            customer.desk_user_id = self._zendesk.upsert_user(user)
            self._store.save_customer(customer)
        return customer.desk_user_id

    def _desk_failure(self, exc: DeskError, attempt: int) -> Exception:
        if isinstance(exc, DeskRateLimitedError):
            self._pause(ZENDESK, exc.retry_after)
            return WaitError(exc.retry_after + int(self._jitter(max(exc.retry_after, 10))), "Zendesk rate limit")
        if isinstance(exc, DeskRejectedError | TicketClosedError | TicketNotFoundError):
            return PermanentFailureError(f"Zendesk refused the request: {exc}")
        return RetryLaterError(backoff(attempt, self._jitter), f"Zendesk unavailable: {exc}")

    # --- automatic messages on the platform ------------------------------------------------------

    def _as_brand_if_ours(self, event: SocialEvent) -> SocialEvent:
        """An X post by another of the brand's handles (`x_handles`, e.g. @Acme beside the served @AcmeHelp) is the brand's
        own words, as the served account's are: never a customer's message, ticket or acknowledgement."""
        ack = self._rules.acknowledgement
        if event.from_brand or ack is None or not policy.by_brand_handle(event, ack):
            return event
        return msgspec.structs.replace(event, from_brand=True)

    def _is_own_echo(self, event: SocialEvent) -> bool:
        """A brand message we sent ourselves (an acknowledgement, an answer, an agent's reply), come back as a webhook.

        Known by its recorded message id, by the metadata our Messenger sends carry, or (Messenger, Instagram) by our Meta
        app's id on the echo (a send whose answer was lost has no recorded id), or, while outbound is sending that text
        into the conversation, by the send under way (an echo may arrive before outbound records its id:
        `SendLedger.mark_sending`).
        """
        if not event.from_brand or event.kind not in MESSAGE_KINDS:
            return False
        if event.sent_by_us:
            return True
        ack = self._rules.acknowledgement
        if event.source_app_id is not None and ack is not None and event.source_app_id == ack.meta_app_id:
            return True
        if self._sent is None:
            return False
        if self._sent.find_sent(event.platform, event.message_id) is not None:
            return True
        # A send under way into this conversation with this text: its echo outran the platform's answer.
        return self._sent.sending(event.conversation_key, event.text or "", self._clock())

    def _automatic_message(self, run: _Run) -> None:
        """Queue the acknowledgement or answer the rules choose, once per conversation (per customer in a public comment
        thread) per window, then tag the ticket."""
        rules, event, progress = self._rules.acknowledgement, run.event, run.progress
        if self._outbound is None or self._calendar is None or rules is None or run.parked or run.own_echo or progress.automatic_done:
            return
        if event.from_brand or event.kind not in MESSAGE_KINDS or not progress.zendesk_done or progress.ticket_id is None:
            return
        key, now, ticket_id = run.outcome.conversation_key, self._clock(), progress.ticket_id
        assert key is not None
        decision = policy.decide(event, self._classification(run), rules, calendar=self._calendar, ticket_id=ticket_id, now=now)
        if decision.kind is None or decision.tag is None:
            logger.info("no automatic message", extra={"reason": decision.reason})
            progress.automatic_done = True
            return
        run.automatic_pending = True
        claim = policy.claim_key(key, event)
        if not self._store.claim_automatic(claim, owner=run.owner, now=now, window=timedelta(hours=rules.window_hours)):
            run.automatic_pending = False
            progress.automatic_done = True
            run.outcome.actions.append("automatic_message_already_sent")
            return
        job = policy.job(event, decision, conversation_key=key, ticket_id=ticket_id, now=now)
        try:
            self._outbound.enqueue(job)
        except Exception as exc:  # the claim is this event's: its retry queues the same job id
            raise RetryLaterError(backoff(run.attempt, self._jitter), f"outbound queue unavailable: {exc}") from exc
        run.outcome.actions.append("acknowledgement_queued")
        try:
            self._zendesk.add_tags(ticket_id, [decision.tag])
        except DeskError as exc:
            raise self._desk_failure(exc, run.attempt) from exc
        run.automatic_pending = False
        progress.automatic_done = True  # saved with the event's progress: a retry for Salesforce queues and tags nothing again

    # --- Salesforce -----------------------------------------------------------------------

    def _crm_side(self, run: _Run) -> None:
        progress, event = run.progress, run.event
        if progress.salesforce_done:
            return
        if self._crm is None or event.from_brand or event.kind not in MESSAGE_KINDS or event.author is None:
            progress.salesforce_done = True
            return
        self._wait_for(SALESFORCE, "Salesforce API allocation used up")
        placed = run.words_on or progress.ticket_id
        if placed is None and run.helpdesk_retrying:
            # Where the words will be is not known yet: the conversation's ticket may be closed or deleted (the retry then
            # opens another), or a ticket created before a 503 or another conversation's 429 not recorded yet. A Task
            # written now would link the wrong ticket or none for good, as Tasks are not revisited: the retry writes it,
            # linked. A helpdesk that refuses the event for good does not wait: the Task links what the conversation has.
            return
        ticket_id = placed or (run.conversation.ticket_id if run.conversation else None)
        ticket_url = self._rules.zendesk.agent_url(ticket_id) if ticket_id else None
        activity = crm_activity(event, ticket_url=ticket_url, classification=self._classification(run))
        try:
            customer = self._customer(run)
            if progress.salesforce_attempted and (found := self._salesforce.find_activity(activity, contact_id=customer.crm_contact_id)):
                self._keep_crm_ids(customer, found)
                progress.salesforce_ref, progress.salesforce_done = found.activity_id, True
                return
            # Recorded by the release that follows (a clean try's failure); a try that dies before its release leaves its
            # lease held, which the next try's begin_event reads as attempted (store: a lease never released).
            progress.salesforce_attempted = True
            contact = msgspec.structs.replace(crm_contact(event), external_id=customer.key)
            recorded = self._salesforce.record_activity(
                activity, contact=contact, contact_id=customer.crm_contact_id, persona_id=customer.crm_persona_id
            )
        except CrmError as exc:
            raise self._crm_failure(exc, run.attempt) from exc
        self._keep_crm_ids(customer, recorded)
        progress.salesforce_ref, progress.salesforce_done = recorded.activity_id, True
        run.crm_actions.append("crm_activity")  # after Zendesk's, whichever finished first (`_sides`)

    def _keep_crm_ids(self, customer: Customer, recorded: RecordedActivity) -> None:
        """The contact and persona an activity was recorded on, kept on the customer's record when new: the next message
        links them instead of creating them again (a SocialPersona has no key Salesforce could upsert it by)."""
        known = (recorded.contact_id or customer.crm_contact_id, recorded.persona_id or customer.crm_persona_id)
        if known != (customer.crm_contact_id, customer.crm_persona_id):
            customer.crm_contact_id, customer.crm_persona_id = known
            self._store.save_customer(customer)

    def _crm_failure(self, exc: CrmError, attempt: int) -> Exception:
        if isinstance(exc, CrmRateLimitedError):
            # Pause every event, not just this one: no hot loop against a spent allocation.
            assert self._rules.salesforce is not None
            wait = self._rules.salesforce.limit_backoff_seconds
            self._pause(SALESFORCE, wait)
            return WaitError(wait + int(self._jitter(wait)), "Salesforce API allocation used up")
        if isinstance(exc, CrmRejectedError):
            return PermanentFailureError(f"Salesforce refused the request: {exc}")
        assert isinstance(exc, CrmUnavailableError)
        return RetryLaterError(backoff(attempt, self._jitter), f"Salesforce unavailable: {exc}")

    # --- pauses shared by every event and container -------------------------------------------

    def _extend_pause(self, backend: str, until: datetime) -> None:
        with self._pauses_lock:  # a read, then a write: two events learning two pauses at once keep the longer
            self._paused_until[backend] = max(until, self._paused_until.get(backend, until))

    def _pause(self, backend: str, seconds: int) -> None:
        until = self._clock() + timedelta(seconds=seconds)
        self._extend_pause(backend, until)
        try:
            self._store.pause(backend, until=until)
        except Exception:  # this container still pauses; others find out on their own first call
            logger.warning("backend pause could not be shared", extra={"backend": backend})

    @property
    def _zendesk(self) -> Desk:
        """The helpdesk, asked for each call: an event already under way when another event of this container is answered
        429 (the batch runs conversations side by side) makes no further call, so none goes out during the Retry-After."""
        self._wait_for(ZENDESK, "Zendesk rate limit")
        return self._desk

    @property
    def _salesforce(self) -> Crm:
        """The CRM, asked for each call, for the same reason: no call while its allocation is paused."""
        assert self._crm is not None
        self._wait_for(SALESFORCE, "Salesforce API allocation used up")
        return self._crm

    def _wait_for(self, backend: str, reason: str) -> None:
        """Raise WaitError while `backend` is paused: no call before its Retry-After (or allocation pause) is over."""
        until = self._paused_until.get(backend)
        if until is not None and (remaining := (until - self._clock()).total_seconds()) > 0:
            seconds = int(remaining) + 1
            raise WaitError(seconds + int(self._jitter(seconds)), reason)


def _as_message(edit: SocialEvent) -> SocialEvent:
    """A customer's X edit of a post that never arrived, as the post itself: a ticket or comment in their words, once.

    It keeps its event id (the same event record, Zendesk idempotency key and Salesforce event key on every try) and the
    first post's id as its message, so its thread is decided as that post's would be (the post it replies to, else a
    thread of its own keyed by the first id), and the first post, should it still come, is a comment in the same thread.
    """
    return msgspec.structs.replace(edit, kind=EventKind.REPLY if edit.in_reply_to else EventKind.POST)


def _broadcasts(event: SocialEvent) -> str:
    """What the store maps the brand's X broadcasts to: no conversation has this key (theirs have four parts)."""
    return f"x:{event.account_id}:broadcasts"


def _x_version(event: SocialEvent) -> str | None:
    """The id of this version of an edited X post, when it is not the first: replies and deletions name it.

    Each edit of an X post is a new post with its own id; `edit_history_tweet_ids` chains them from the first
    (docs.x.com/x-api/fundamentals/edit-posts), and `message_id` keeps the first, so the version's id is the event's.
    """
    if event.platform is Platform.X and event.kind in (EventKind.EDIT, EventKind.POST, EventKind.REPLY) and event.event_id != event.message_id:
        return event.event_id
    return None


def _needs_note(event: SocialEvent) -> bool:
    """Whether a brand message, edit, deletion or delivery status shows on the ticket (only failed deliveries do)."""
    return event.kind is not EventKind.DELIVERY_STATUS or (event.delivery is not None and event.delivery.status == "failed")


def _idempotency_key(conversation_key: str, owner: str, replaces: int | None) -> str:
    """Stable for one event opening one ticket, so its retries replay instead of creating twice (≤ 255 chars)."""
    digest = hashlib.sha256(f"{conversation_key}|{owner}|{replaces}".encode()).hexdigest()
    return f"socialdesk-{digest}"
