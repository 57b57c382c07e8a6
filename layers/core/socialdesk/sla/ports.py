"""What the response clock needs from the outside: its store, an alert channel and metrics (adapters in store/, aws/, sla/)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from socialdesk.sla.policy import ClockState


class ClockStore(Protocol):
    def clock_state(self, key: str) -> ClockState | None:
        """The conversation's clock and response-time facts, read strongly consistent; None for an unknown conversation."""
        ...

    def write_clock(self, before: ClockState, after: ClockState) -> bool:
        """Store `after` only if nobody changed the clock or answered since `before` was read; False otherwise."""
        ...

    def due_entries(self, now: datetime) -> Iterable[tuple[str, datetime]]:
        """(conversation key, due time) of every clock due at `now`, reading nothing that is not due."""
        ...

    def forget_due(self, key: str, due: datetime) -> None:
        """Drop one index entry (a stale one: its clock moved or stopped)."""
        ...

    def first_customer_after(self, key: str, at: datetime) -> datetime | None:
        """The conversation's earliest customer message strictly after `at` (what a late solve webhook leaves waiting)."""
        ...

    def record_answer(self, conversation_key: str, *, at: datetime, reference: str, source: str) -> None:
        """A person's answer as a brand message time (idempotent on `reference`)."""
        ...


class AlertUnavailableError(Exception):
    """The alert channel could not take the alert: the check defers the level to its next run."""


class Alerts(Protocol):
    def alert(self, *, subject: str, message: str, deduplication_id: str) -> None:
        """Tell the people on call (an SNS topic); the message names the ticket, never the customer's words."""
        ...


class ClockMetrics(Protocol):
    def answered(self, *, platform: str, priority: str | None, first: bool, seconds: float, within_sla: bool) -> None: ...

    def breached(self, *, platform: str, priority: str | None, level: int) -> None: ...
