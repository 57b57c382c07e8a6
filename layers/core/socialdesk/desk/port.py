"""What socialdesk needs from a helpdesk. The Zendesk adapter implements it; tests use an in-memory one."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import msgspec

if TYPE_CHECKING:
    from collections.abc import Sequence


class Identity(msgspec.Struct, frozen=True):
    type: str
    value: str


class DeskUser(msgspec.Struct, frozen=True, kw_only=True):
    external_id: str
    name: str
    identities: tuple[Identity, ...] = ()


FieldValue = tuple[int, str | int | float | bool]
"""A custom ticket field's id and value."""


class NewTicket(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    requester_id: int
    body: str
    """The customer's own words: the first, public comment, authored by the requester."""
    external_id: str
    tags: tuple[str, ...] = ()
    priority: str | None = None
    type: str | None = None
    group_id: int | None = None
    brand_id: int | None = None
    custom_fields: tuple[FieldValue, ...] = ()
    follow_up_of: int | None = None
    """A closed ticket this one follows up (closed tickets cannot be reopened)."""


class Comment(msgspec.Struct, frozen=True, kw_only=True):
    body: str
    public: bool
    author_id: int | None = None


class TicketRef(msgspec.Struct, frozen=True):
    id: int
    status: str
    created_at: datetime | None = None
    """When the helpdesk created it: tells a ticket a crashed try just made from the conversation's ticket of long ago."""


class TicketView(msgspec.Struct, frozen=True):
    """The ticket as an update left it (Zendesk answers every update with the ticket): what else it needs is known without asking."""

    tags: frozenset[str] = frozenset()
    priority: str | None = None


def same_words(stored: str, sent: str) -> bool:
    """Equal but for white space, which a helpdesk may trim or fold when it stores a comment."""
    return stored.split() == sent.split()


class DeskError(Exception):
    """Base for failures of the helpdesk port."""


class DeskRateLimitedError(DeskError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited; retry after {retry_after} s")
        self.retry_after = retry_after


class DeskUnavailableError(DeskError):
    """Server error, timeout or connection failure: worth retrying later.

    `uncertain`: no answer says the request was not carried out (a timeout, a dropped connection, a gateway's 502/504),
    so a retry must look before it repeats the effect.
    """

    def __init__(self, message: str, *, uncertain: bool = False) -> None:
        super().__init__(message)
        self.uncertain = uncertain


class DeskRejectedError(DeskError):
    """The helpdesk refused the request as invalid (400/422): retrying the same request cannot help."""


class TicketClosedError(DeskError):
    """The ticket is closed and cannot take comments; a follow-up ticket is needed."""


class TicketNotFoundError(DeskError):
    """The ticket no longer exists (deleted by an agent)."""


class Desk(Protocol):
    def upsert_user(self, user: DeskUser) -> int:
        """Create or update the end user keyed by `external_id`; returns its id."""
        ...

    def create_ticket(self, ticket: NewTicket, *, idempotency_key: str) -> int:
        """Create a ticket; replaying the same key and ticket returns the first ticket's id."""
        ...

    def find_tickets(self, external_id: str) -> list[TicketRef]:
        """Tickets carrying `external_id`, read from the ticket list (not the lagging search index)."""
        ...

    def add_comment(self, ticket_id: int, comment: Comment, *, reopen: bool = False, custom_fields: Sequence[FieldValue] = ()) -> TicketView:
        """Add a comment; `reopen` also sets the ticket open (a customer wrote again); `custom_fields` are set in the same
        update (no call of their own), the ticket's other fields left as they are. Returns the ticket as it then is."""
        ...

    def has_comment(self, ticket_id: int, comment: Comment, *, since: datetime) -> bool:
        """Whether the ticket holds this comment (same visibility, author and words) made at or after `since`.

        A retry asks after a lost answer, with `since` the event's first try: an identical earlier comment (a customer
        who wrote "?" twice) is another message's, not this one's.
        """
        ...

    def add_tags(self, ticket_id: int, tags: Sequence[str]) -> None:
        """Add tags without touching the ones already on the ticket."""
        ...

    def raise_priority(self, ticket_id: int, priority: str) -> None:
        """Set `priority` unless the ticket's is already as high (an agent's or an earlier message's is never lowered)."""
        ...

    def assign_group(self, ticket_id: int, group_id: int) -> None:
        """Reassign the ticket to a group (an escalation): setting the group it already has changes nothing."""
        ...

    def set_field(self, ticket_id: int, field_id: int, value: str | None) -> None:
        """Set one custom ticket field (None empties it); setting the value it has changes nothing."""
        ...
