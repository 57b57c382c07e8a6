"""What a Zendesk webhook tells socialdesk about a ticket, once verified and parsed (records only, no I/O).

`desk_events` (the Zendesk webhook receiver) turns each verified delivery into at most one `DeskEvent` and hands it
to every `DeskEventSink` it was built with: the agent-reply sink (queues a reply job for the outbound function) and
the response-clock sink (solved and reopened tickets). Sinks must be idempotent on `event_id`: Zendesk retries a
webhook whose answer was not a 2xx, so the same event may arrive more than once.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Protocol

import msgspec

UtcTime = Annotated[datetime, msgspec.Meta(tz=True)]


class DeskEventKind(enum.StrEnum):
    COMMENT_ADDED = "comment_added"
    """`zen:event-type:ticket.comment_added`: a comment was added (public or internal, by anyone)."""
    STATUS_CHANGED = "status_changed"
    """`zen:event-type:ticket.status_changed`: e.g. solved (stops the response clock) or reopened."""


class DeskComment(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    id: int
    body: str
    is_public: bool
    author_id: int
    author_is_staff: bool
    attachment_urls: tuple[str, ...] = ()


class DeskEvent(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    event_id: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    """The webhook envelope's `id` (a UUID): the key every sink deduplicates on."""
    kind: DeskEventKind
    ticket_id: int
    occurred_at: UtcTime
    ticket_tags: tuple[str, ...] = ()
    ticket_external_id: str | None = None
    comment: DeskComment | None = None
    """Set for COMMENT_ADDED."""
    status: str | None = None
    """The ticket's new status for STATUS_CHANGED (`solved`, `open`, ...); its current status otherwise."""
    previous_status: str | None = None


class DeskEventSink(Protocol):
    """One consumer of verified desk events; raising makes the webhook answer non-2xx, so Zendesk retries."""

    def on_desk_event(self, event: DeskEvent) -> None: ...


class AnswerLog(Protocol):
    """Where a person's answer to a conversation is recorded: it stops the response clock.

    Called by process for the brand's replies typed in the platforms' own apps (echoes not sent by socialdesk), and by
    outbound once the platform has accepted an agent's reply. Never for socialdesk's automatic messages.
    Idempotent on `reference` (the platform message id, or the desk event id).
    """

    def record_answer(self, conversation_key: str, *, at: datetime, reference: str, source: str) -> None: ...
