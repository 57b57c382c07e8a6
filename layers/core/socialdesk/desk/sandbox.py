"""A sandbox helpdesk: the `Desk` port kept in memory and in a JSON file, for local runs without Zendesk.

It behaves as the Zendesk adapter's contract says Zendesk does (idempotent ticket creation,
comments refused on closed tickets, tags added without replacing) and reports every change
on the `socialdesk.sandbox` logger, each line naming it a sandbox. Never used in a deployed stack.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec

from socialdesk.desk.port import (
    Comment,
    DeskUser,
    FieldValue,
    NewTicket,
    TicketClosedError,
    TicketNotFoundError,
    TicketRef,
    TicketView,
    same_words,
)
from socialdesk.model.priority import priority_rank as rank
from socialdesk.sandbox_state import JsonSandbox, first_line, load_state, report

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

FIRST_TICKET_ID = 4014
SANDBOX_AGENT_ID = 9001
"""The sandbox helpdesk's one agent (staff): the author of every reply made locally (`socialdesk reply`, the console's form)."""


class SandboxUser(msgspec.Struct, kw_only=True):
    id: int
    name: str
    identities: list[dict[str, str]] = msgspec.field(default_factory=list)


class SandboxComment(Comment, frozen=True, kw_only=True):
    """A comment as the sandbox keeps it: with the time it was made, as Zendesk's `created_at`."""

    created_at: datetime | None = None


class SandboxTicket(msgspec.Struct, kw_only=True):
    id: int
    external_id: str
    subject: str
    requester_id: int
    status: str = "new"
    tags: list[str] = msgspec.field(default_factory=list)
    comments: list[SandboxComment] = msgspec.field(default_factory=list)
    follow_up_of: int | None = None
    priority: str | None = None
    group_id: int | None = None
    brand_id: int | None = None
    custom_fields: list[tuple[int, str | int | float | bool]] = msgspec.field(default_factory=list)


class AgentReplyAdded(msgspec.Struct, frozen=True, kw_only=True):
    comment_id: int
    """Unique per comment, as Zendesk's ids are."""
    tags: tuple[str, ...]
    external_id: str


class SandboxDeskState(msgspec.Struct, kw_only=True):
    users: dict[str, SandboxUser] = msgspec.field(default_factory=dict)
    tickets: dict[int, SandboxTicket] = msgspec.field(default_factory=dict)
    idempotency: dict[str, int] = msgspec.field(default_factory=dict)
    next_ticket_id: int = FIRST_TICKET_ID
    """Ids are never reused, even after a ticket is deleted (as in Zendesk)."""


class SandboxDesk(JsonSandbox[SandboxDeskState]):
    """Implements `Desk`; `path` (optional) is the JSON file the state is written to after every change."""

    def __init__(self, path: Path | None = None, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__(SandboxDeskState, path)
        self._clock = clock

    def upsert_user(self, user: DeskUser) -> int:
        self._before("upsert_user")
        with self._lock:
            existing = self.state.users.get(user.external_id)
            identities = [{"type": identity.type, "value": identity.value} for identity in user.identities]
            stored = SandboxUser(id=existing.id if existing else 90000 + len(self.state.users), name=user.name, identities=identities)
            self.state.users[user.external_id] = stored
            self._save()
        if existing is None:
            report.info("[sandbox zendesk] end user %s created: %s (%s)", stored.id, user.name, user.external_id)
        return stored.id

    def create_ticket(self, ticket: NewTicket, *, idempotency_key: str) -> int:
        self._before("create_ticket")
        with self._lock:
            if idempotency_key in self.state.idempotency:
                ticket_id = self.state.idempotency[idempotency_key]
                report.info("[sandbox zendesk] ticket #%s replayed for its Idempotency-Key", ticket_id)
                return ticket_id
            ticket_id = self.state.next_ticket_id
            self.state.next_ticket_id += 1
            self.state.tickets[ticket_id] = SandboxTicket(
                id=ticket_id,
                external_id=ticket.external_id,
                subject=ticket.subject,
                requester_id=ticket.requester_id,
                tags=list(ticket.tags),
                comments=[SandboxComment(body=ticket.body, public=True, author_id=ticket.requester_id, created_at=self._clock())],
                follow_up_of=ticket.follow_up_of,
                priority=ticket.priority,
                group_id=ticket.group_id,
                brand_id=ticket.brand_id,
                custom_fields=list(ticket.custom_fields),
            )
            self.state.idempotency[idempotency_key] = ticket_id
            self._save()
        follow = f", following up #{ticket.follow_up_of}" if ticket.follow_up_of else ""
        report.info("[sandbox zendesk] ticket #%s created%s: %s", ticket_id, follow, ticket.subject)
        return ticket_id

    def find_tickets(self, external_id: str) -> list[TicketRef]:
        self._before("find_tickets")
        with self._lock:
            return [
                TicketRef(ticket.id, ticket.status, ticket.comments[0].created_at if ticket.comments else None)
                for ticket in self.state.tickets.values()
                if ticket.external_id == external_id
            ]

    def add_comment(self, ticket_id: int, comment: Comment, *, reopen: bool = False, custom_fields: Sequence[FieldValue] = ()) -> TicketView:
        self._before("add_comment")
        with self._lock:
            ticket = self.state.tickets.get(ticket_id)
            if ticket is None:
                raise TicketNotFoundError(f"ticket {ticket_id} not found")
            if ticket.status == "closed":
                raise TicketClosedError(f"ticket {ticket_id} is closed")
            ticket.comments.append(SandboxComment(**msgspec.structs.asdict(comment), created_at=self._clock()))
            if reopen:
                ticket.status = "open"
            updated = dict(custom_fields)
            ticket.custom_fields = [(number, held) for number, held in ticket.custom_fields if number not in updated] + list(custom_fields)
            view = TicketView(tags=frozenset(ticket.tags), priority=ticket.priority)
            self._save()
        kind = "public comment" if comment.public else "internal note"
        report.info("[sandbox zendesk] ticket #%s: %s added: %s", ticket_id, kind, first_line(comment.body))
        return view

    def has_comment(self, ticket_id: int, comment: Comment, *, since: datetime) -> bool:
        self._before("has_comment")
        with self._lock:
            ticket = self.state.tickets.get(ticket_id)
            found = ticket.comments if ticket else []
        return any(
            c.public == comment.public
            and (comment.author_id is None or c.author_id == comment.author_id)
            and (c.created_at is None or c.created_at >= since)
            and same_words(c.body, comment.body)
            for c in found
        )

    def add_tags(self, ticket_id: int, tags: Sequence[str]) -> None:
        self._before("add_tags")
        with self._lock:
            ticket = self._existing(ticket_id)
            ticket.tags.extend(tag for tag in tags if tag not in ticket.tags)
            self._save()

    def add_agent_reply(self, ticket_id: int, body: str, *, tags_set: Sequence[str], tags_removed: Sequence[str]) -> AgentReplyAdded:
        """An agent's public comment and the tags it leaves, made at once: two replies at the same moment get two comment
        ids (Zendesk's are unique), and each sees the tags as its own reply set them. Not part of `Desk` (sandbox only)."""
        self._before("add_agent_reply")
        with self._lock:
            ticket = self.state.tickets.get(ticket_id)
            if ticket is None:
                raise TicketNotFoundError(f"ticket {ticket_id} not found")
            ticket.tags = [tag for tag in ticket.tags if tag not in tags_removed]
            ticket.tags.extend(tag for tag in tags_set if tag not in ticket.tags)
            ticket.comments.append(SandboxComment(body=body, public=True, author_id=SANDBOX_AGENT_ID, created_at=self._clock()))
            added = AgentReplyAdded(comment_id=ticket_id * 1000 + len(ticket.comments), tags=tuple(ticket.tags), external_id=ticket.external_id)
            self._save()
        report.info("[sandbox zendesk] ticket #%s: public comment added: %s", ticket_id, first_line(body))
        return added

    def raise_priority(self, ticket_id: int, priority: str) -> None:
        self._before("raise_priority")
        with self._lock:
            ticket = self._existing(ticket_id)
            if rank(ticket.priority) < rank(priority):
                ticket.priority = priority
                self._save()

    def assign_group(self, ticket_id: int, group_id: int) -> None:
        self._before("assign_group")
        with self._lock:
            self._existing(ticket_id).group_id = group_id
            self._save()

    def set_field(self, ticket_id: int, field_id: int, value: str | None) -> None:
        self._before("set_field")
        with self._lock:
            ticket = self._existing(ticket_id)
            ticket.custom_fields = [(number, held) for number, held in ticket.custom_fields if number != field_id]
            if value is not None:
                ticket.custom_fields.append((field_id, value))
            self._save()

    def _existing(self, ticket_id: int) -> SandboxTicket:
        """The ticket, or Zendesk's 404 as the port says it (a deleted ticket)."""
        ticket = self.state.tickets.get(ticket_id)
        if ticket is None:
            raise TicketNotFoundError(f"ticket {ticket_id} not found")
        return ticket


def load_desk_state(path: Path) -> SandboxDeskState:
    return load_state(path, SandboxDeskState)
