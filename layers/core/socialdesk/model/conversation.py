"""What socialdesk remembers about conversations, customers and events (records only, no I/O)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import msgspec

from socialdesk.model.event import EventKind

if TYPE_CHECKING:
    from collections.abc import Iterable

    from socialdesk.model.event import SocialEvent

REPLY_TARGET_KINDS = frozenset({EventKind.POST, EventKind.REPLY, EventKind.COMMENT, EventKind.DIRECT_MESSAGE})


class MessageTimes(Protocol):
    """The times of a conversation's messages (the one being recorded included), for the facts one message cannot update alone."""

    def first_brand_from(self, at: datetime) -> datetime | None:
        """The earliest brand message at or after `at`."""
        ...

    def first_customer_after(self, at: datetime) -> datetime | None:
        """The earliest customer message strictly after `at`."""
        ...


class ConversationActivity(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """When the customer and the brand wrote, and the response-time facts that follow.

    Platforms neither order nor deduplicate deliveries, so every fact is a function of the
    set of message times (`of` is the definition): any delivery order, and any number of
    replays, gives the same answers. `with_message` updates them one message at a time in
    constant work, asking `MessageTimes` only when a message arrives out of order; so a
    conversation's record stays the same size whatever its length.
    `waiting_since` is the first customer message the brand has not answered.
    """

    first_customer_at: datetime | None = None
    last_customer_at: datetime | None = None
    last_brand_at: datetime | None = None
    first_response_at: datetime | None = None
    """The brand's first message at or after the customer's first one (a broadcast before it is no response)."""
    waiting_since: datetime | None = None

    @classmethod
    def of(cls, customer_times: Iterable[datetime], brand_times: Iterable[datetime]) -> ConversationActivity:
        """The facts of a whole set of message times: what `with_message` must agree with, in any order."""
        customers, brands = sorted(set(customer_times)), sorted(set(brand_times))
        first = customers[0] if customers else None
        last_brand = brands[-1] if brands else None
        return cls(
            first_customer_at=first,
            last_customer_at=customers[-1] if customers else None,
            last_brand_at=last_brand,
            first_response_at=next((at for at in brands if first is not None and at >= first), None),
            waiting_since=next((at for at in customers if last_brand is None or at > last_brand), None),
        )

    def without_brand_message(self, at: datetime, *, customer_times: Iterable[datetime], brand_times: Iterable[datetime]) -> ConversationActivity:
        """These facts once the brand's message at `at` is taken back (an agent's reply the platform accepted, then failed).

        `customer_times` and `brand_times` are the times still known, `at` not among them: a message's time is kept 45
        days, so in an older conversation they are only the latest part. Only what `at` decided is worked out again, and
        from the facts themselves where the times are gone: the customer's first and last message stay; the first
        response stays unless it was `at`; the brand's latest word before it is the latest time known, else the first
        response (a brand time that is certain, if maybe not the latest); and the customer waits from the first of their
        known messages after that."""
        if at not in (self.last_brand_at, self.first_response_at):
            return self
        customers, brands = sorted(set(customer_times)), sorted(set(brand_times) - {at})
        first_response = self.first_response_at
        if first_response == at:
            first_response = next((time for time in brands if self.first_customer_at is not None and time >= self.first_customer_at), None)
        last_brand = self.last_brand_at
        if last_brand == at:
            last_brand = brands[-1] if brands else first_response
        known = [*customers, *(time for time in (self.first_customer_at, self.last_customer_at) if time is not None)]
        waiting = min((time for time in known if last_brand is None or time > last_brand), default=None)
        return msgspec.structs.replace(self, last_brand_at=last_brand, first_response_at=first_response, waiting_since=waiting)

    def with_message(self, at: datetime, *, from_brand: bool, times: MessageTimes) -> ConversationActivity:
        first_customer, last_customer, last_brand = self.first_customer_at, self.last_customer_at, self.last_brand_at
        first_response, waiting = self.first_response_at, self.waiting_since
        if from_brand:
            if first_customer is not None and at >= first_customer:
                first_response = _earlier(first_response, at)
            latest = _later(last_brand, at)
            if latest != last_brand:  # the brand's latest word answers every customer message up to it
                if last_customer is None or last_customer <= latest:
                    waiting = None
                elif waiting is None or waiting <= latest:
                    waiting = times.first_customer_after(latest)
            last_brand = latest
        else:
            earliest = _earlier(first_customer, at)
            if earliest != first_customer:  # an earlier first message: the first response is counted from it
                first_response = times.first_brand_from(earliest) if last_brand is not None and last_brand >= earliest else None
            if last_brand is None or at > last_brand:
                waiting = _earlier(waiting, at)
            first_customer, last_customer = earliest, _later(last_customer, at)
        return ConversationActivity(
            first_customer_at=first_customer,
            last_customer_at=last_customer,
            last_brand_at=last_brand,
            first_response_at=first_response,
            waiting_since=waiting,
        )


class SortedTimes:
    """`MessageTimes` over two in-memory sets (the in-memory store, tests)."""

    def __init__(self, customer_times: Iterable[datetime] = (), brand_times: Iterable[datetime] = ()) -> None:
        self.customer_times, self.brand_times = set(customer_times), set(brand_times)

    def add(self, at: datetime, *, from_brand: bool) -> None:
        (self.brand_times if from_brand else self.customer_times).add(at)

    def first_brand_from(self, at: datetime) -> datetime | None:
        return min((time for time in self.brand_times if time >= at), default=None)

    def first_customer_after(self, at: datetime) -> datetime | None:
        return min((time for time in self.customer_times if time > at), default=None)


def _earlier(known: datetime | None, at: datetime) -> datetime:
    return at if known is None or at < known else known


def _later(known: datetime | None, at: datetime) -> datetime:
    return at if known is None or at > known else known


class ReplyTarget(msgspec.Struct, frozen=True, kw_only=True):
    """The customer's latest message in the conversation: what an agent's reply from Zendesk answers, and where.

    Kept with the conversation's activity (no write of its own) by the store whenever a customer message becomes the
    latest; the agent-reply sink reads it to address the reply job.
    """

    platform: str
    account_id: str
    kind: str
    """The message's `EventKind`: a direct message is answered in the DM thread, a post or comment publicly."""
    message_id: str
    author_id: str
    at: datetime
    from_ad: bool = False
    """The customer came from a Click-to-Messenger/Direct ad: Meta's messaging window is 7 days, not 24 hours."""

    @classmethod
    def of(cls, event: SocialEvent) -> ReplyTarget | None:
        """The target a customer's message makes (their words, not their edits, deletions or delivery statuses)."""
        if event.from_brand or event.author is None or event.kind not in REPLY_TARGET_KINDS:
            return None
        return cls(
            platform=str(event.platform),
            account_id=event.account_id,
            kind=str(event.kind),
            message_id=event.message_id,
            author_id=event.author.id,
            at=event.created_at,
            from_ad=event.from_ad,
        )


class Conversation(msgspec.Struct, kw_only=True):
    """One thread on one platform: at most one open ticket, and who is opening one right now."""

    key: str
    ticket_id: int | None = None
    opened_by: str | None = None
    """The event whose message opened the current ticket (its text is the ticket's first comment)."""
    previous_ticket_ids: list[int] = msgspec.field(default_factory=list)
    claim_owner: str | None = None
    claim_at: datetime | None = None
    customer_key: str | None = None
    parked: bool = False
    """Events (brand replies, edits, ...) wait for this conversation's ticket: whoever sees it with a ticket releases them."""
    activity: ConversationActivity = ConversationActivity()
    version: int = 0
    reply_target: ReplyTarget | None = None
    """The customer's latest message (what an agent's reply answers), once the customer has written."""


class Customer(msgspec.Struct, kw_only=True):
    """A platform user and their records in Zendesk and Salesforce, so a known customer costs no lookup."""

    key: str
    desk_user_id: int | None = None
    crm_contact_id: str | None = None
    crm_persona_id: str | None = None


class EventProgress(msgspec.Struct, kw_only=True):
    """What has been done for one event, so a retry redoes only what is missing."""

    zendesk_done: bool = False
    salesforce_done: bool = False
    salesforce_attempted: bool = False
    ticket_id: int | None = None
    salesforce_ref: str | None = None
    completed: bool = False
    comments_uncertain: bool = False
    """An earlier try lost the answer to a comment it sent, or died mid-way: a retry looks for its comments before adding them."""
    first_tried_at: datetime | None = None
    """When processing of this event first began: what a retry finds made since then may be its own."""
    edit_as_message: bool = False
    """An X edit of a post that never arrived, handled as the customer's message: decided once, so every retry agrees."""
    classification: str | None = None
    """The message's classification as JSON, kept when it came from a remote service (Comprehend), whose answer a retry
    might not get again: every try writes the same ticket (one Zendesk Idempotency-Key, one request body) and Task."""
    automatic_done: bool = False
    """The automatic message was decided, and if one, queued and its ticket tagged: a retry for the other side skips it."""

    def resumed(self, *, now: datetime, crashed: bool) -> EventProgress:
        """This progress as a new try begins. A try that died mid-way (its lease never released: a crash, a timeout) may
        have sent any comment or Task it was making: the retry looks for them before making them again. A try that
        failed cleanly recorded its own uncertainty at its release, so nothing is written before a call to know it."""
        return msgspec.structs.replace(
            self,
            first_tried_at=self.first_tried_at or now,
            comments_uncertain=self.comments_uncertain or crashed,
            salesforce_attempted=self.salesforce_attempted or (crashed and not self.salesforce_done),
        )


def customer_key(platform: str, user_id: str) -> str:
    """`<platform>:<user id>`: the external id of the customer in Zendesk and Salesforce."""
    return f"{platform}:{user_id}"
