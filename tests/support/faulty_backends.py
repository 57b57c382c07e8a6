"""Stateful Zendesk and Salesforce stand-ins that fail the way the real ones do, on the virtual clock.

Faults: outages (503), 429 with Retry-After, a spent Salesforce allocation, and lost
responses (the effect happened, the answer never arrived). The helpdesk also keeps the
Retry-After it gave, so the suite can count any call made before it expired.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime

from socialdesk.crm.port import CrmActivity, CrmContact, CrmRateLimitedError, CrmUnavailableError, RecordedActivity
from socialdesk.desk.port import Comment, DeskRateLimitedError, DeskUnavailableError, NewTicket
from tests.support.process_fakes import FakeCrm, FakeDesk
from tests.support.sqs_sim import VirtualClock


@dataclass(frozen=True)
class Window:
    start: float
    end: float

    def __contains__(self, moment: float) -> bool:
        return self.start <= moment < self.end


@dataclass
class Faults:
    """Probabilities of random faults per call, and windows of sustained ones."""

    unavailable: float = 0.0
    lost_response: float = 0.0
    rate_limited: float = 0.0
    outages: tuple[Window, ...] = ()
    rate_limit_windows: tuple[Window, ...] = ()
    retry_after: int = 30


class FaultyDesk(FakeDesk):
    def __init__(self, clock: VirtualClock, faults: Faults, rng: random.Random) -> None:
        super().__init__(clock=lambda: datetime.fromtimestamp(clock(), UTC))
        self._virtual, self._faults, self._rng = clock, faults, rng
        self.blocked_until = 0.0
        self.early_calls = 0
        self.lost = 0

    def _before(self, operation: str) -> None:
        super()._before(operation)
        now, faults = self._virtual(), self._faults
        if now < self.blocked_until:
            self.early_calls += 1
        if any(now in window for window in faults.outages) or self._rng.random() < faults.unavailable:
            raise DeskUnavailableError("503 Service Unavailable")
        if any(now in window for window in faults.rate_limit_windows) or self._rng.random() < faults.rate_limited:
            self.blocked_until = max(self.blocked_until, now + faults.retry_after)
            raise DeskRateLimitedError(faults.retry_after)

    def _maybe_lose(self) -> None:
        if self._rng.random() < self._faults.lost_response:
            self.lost += 1
            raise DeskUnavailableError("read timed out (the request was carried out)", uncertain=True)

    def create_ticket(self, ticket: NewTicket, *, idempotency_key: str) -> int:
        ticket_id = super().create_ticket(ticket, idempotency_key=idempotency_key)
        self._maybe_lose()
        return ticket_id

    def add_comment(self, ticket_id: int, comment: Comment, *, reopen: bool = False) -> None:
        super().add_comment(ticket_id, comment, reopen=reopen)
        self._maybe_lose()


class FaultyCrm(FakeCrm):
    def __init__(self, clock: VirtualClock, faults: Faults, rng: random.Random, *, limit_windows: tuple[Window, ...] = ()) -> None:
        super().__init__()
        self._clock, self._faults, self._rng, self._limit_windows = clock, faults, rng, limit_windows
        self.lost = 0

    def _before(self, operation: str) -> None:
        super()._before(operation)
        now = self._clock()
        if any(now in window for window in self._limit_windows):
            raise CrmRateLimitedError("REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.")
        if any(now in window for window in self._faults.outages) or self._rng.random() < self._faults.unavailable:
            raise CrmUnavailableError("503 Service Unavailable")

    def record_activity(self, activity: CrmActivity, *, contact: CrmContact, contact_id: str | None, persona_id: str | None) -> RecordedActivity:
        recorded = super().record_activity(activity, contact=contact, contact_id=contact_id, persona_id=persona_id)
        if self._rng.random() < self._faults.lost_response:
            self.lost += 1
            raise CrmUnavailableError("read timed out (the request was carried out)")
        return recorded
