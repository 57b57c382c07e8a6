"""What socialdesk remembers about conversations, customers and events (records only, no I/O)."""

from __future__ import annotations

from datetime import datetime

import msgspec

# A thread with more messages keeps its first few and latest ones: enough for first response and waiting time.
MAX_TIMES_KEPT = 500
EARLIEST_TIMES_KEPT = 20


class ConversationActivity(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """When the customer and the brand wrote, and the response-time facts that follow.

    Platforms neither order nor deduplicate deliveries, so the facts are derived from the
    set of message times: any delivery order, and any number of replays, gives the same
    answers. `waiting_since` is the first customer message the brand has not answered.
    """

    customer_times: tuple[datetime, ...] = ()
    brand_times: tuple[datetime, ...] = ()

    def with_message(self, at: datetime, *, from_brand: bool) -> ConversationActivity:
        if from_brand:
            return msgspec.structs.replace(self, brand_times=_with_time(self.brand_times, at))
        return msgspec.structs.replace(self, customer_times=_with_time(self.customer_times, at))

    @property
    def first_customer_at(self) -> datetime | None:
        return self.customer_times[0] if self.customer_times else None

    @property
    def last_customer_at(self) -> datetime | None:
        return self.customer_times[-1] if self.customer_times else None

    @property
    def last_brand_at(self) -> datetime | None:
        return self.brand_times[-1] if self.brand_times else None

    @property
    def first_response_at(self) -> datetime | None:
        """The brand's first message at or after the customer's first one (a broadcast before it is no response)."""
        first = self.first_customer_at
        return next((at for at in self.brand_times if first is not None and at >= first), None)

    @property
    def waiting_since(self) -> datetime | None:
        answered_until = self.last_brand_at
        return next((at for at in self.customer_times if answered_until is None or at > answered_until), None)


def _with_time(times: tuple[datetime, ...], at: datetime) -> tuple[datetime, ...]:
    if at in times:
        return times
    ordered = tuple(sorted((*times, at)))
    if len(ordered) > MAX_TIMES_KEPT:
        ordered = ordered[:EARLIEST_TIMES_KEPT] + ordered[len(ordered) - (MAX_TIMES_KEPT - EARLIEST_TIMES_KEPT) :]
    return ordered


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


def customer_key(platform: str, user_id: str) -> str:
    """`<platform>:<user id>`: the external id of the customer in Zendesk and Salesforce."""
    return f"{platform}:{user_id}"
