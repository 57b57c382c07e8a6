"""What the desk_events receiver remembers: each Zendesk event handled once (the DynamoDB store implements it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from datetime import datetime

EventClaim = Literal["claimed", "busy", "done"]


class DeskEventLedger(Protocol):
    def claim_desk_event(self, event_id: str, *, now: datetime, lease_seconds: int) -> EventClaim:
        """Take the event (a conditional write): `claimed` to hand it to the sinks; `busy` while another delivery of it
        holds an unexpired lease; `done` when a delivery of it reached every sink."""
        ...

    def finish_desk_event(self, event_id: str, *, now: datetime) -> None:
        """Every sink took the event: later deliveries of it are duplicates (kept 30 days, as Zendesk retries for less)."""
        ...

    def release_desk_event(self, event_id: str) -> None:
        """A sink failed: give the event back, so Zendesk's retry of this delivery hands it to the sinks again."""
        ...
