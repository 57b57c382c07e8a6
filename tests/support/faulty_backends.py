"""Stateful Zendesk and Salesforce stand-ins that fail the way the real ones do, on the virtual clock.

Faults: outages (503), 429 with Retry-After, a spent Salesforce allocation, and lost
responses (the effect happened, the answer never arrived). The helpdesk also keeps the
Retry-After it gave, so the suite can count any call made before it expired, and tells apart
the calls of events that began after the process knew of it (`PausesKnown`): those must be none.
The batch driver runs a batch's conversations side by side, so an event already under way when
another one is answered 429 may be making its call at that very moment; none may start later.
"""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from socialdesk.crm.port import CrmActivity, CrmContact, CrmRateLimitedError, CrmUnavailableError, RecordedActivity
from socialdesk.desk.port import Comment, DeskRateLimitedError, DeskUnavailableError, FieldValue, NewTicket, TicketView
from tests.support.process_fakes import FakeCrm, FakeDesk
from tests.support.sqs_sim import VirtualClock

if TYPE_CHECKING:
    from collections.abc import Sequence


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


class PausesKnown:
    """In what order the process recorded backend pauses in the store and each thread began its current event.

    A pause recorded before an event began is known to that event before any call it makes: the process keeps it in
    memory before writing it to the store, and reads the store's pauses after beginning each event.
    """

    def __init__(self) -> None:
        self._lock, self._order = threading.Lock(), itertools.count()
        self._began: dict[int, int] = {}
        self._pauses: list[tuple[int, str, datetime]] = []

    def watch(self, store: Any) -> Any:
        """`store`, telling this what the process records and when its events begin."""
        return _Watched(store, self)

    def began(self) -> None:
        with self._lock:
            self._began[threading.get_ident()] = next(self._order)

    def paused(self, backend: str, until: datetime) -> None:
        with self._lock:
            self._pauses.append((next(self._order), backend, until))

    def recorded(self, backend: str) -> int:
        """How many pauses of `backend` the process recorded."""
        with self._lock:
            return sum(1 for _, name, _ in self._pauses if name == backend)

    def known(self, backend: str, now: float) -> bool:
        """Whether the calling thread's event began after the process had recorded a pause of `backend` running at `now`
        (compared as the process compares them, to the microsecond)."""
        moment = datetime.fromtimestamp(now, UTC)
        with self._lock:
            began = self._began.get(threading.get_ident(), -1)
            return any(at < began and name == backend and moment < until for at, name, until in self._pauses)


class _Watched:
    def __init__(self, store: Any, known: PausesKnown) -> None:
        self._store, self._known = store, known

    def begin_event(self, *args: Any, **kwargs: Any) -> Any:
        progress = self._store.begin_event(*args, **kwargs)
        self._known.began()
        return progress

    def pause(self, backend: str, *, until: datetime) -> None:
        self._store.pause(backend, until=until)
        self._known.paused(backend, until)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class FaultyDesk(FakeDesk):
    def __init__(self, clock: VirtualClock, faults: Faults, rng: random.Random, *, known: PausesKnown | None = None) -> None:
        super().__init__(clock=lambda: datetime.fromtimestamp(clock(), UTC))
        self._virtual, self._faults, self._rng = clock, faults, rng
        self._known = known or PausesKnown()
        self.blocked_until = 0.0
        self.early_calls = 0
        """Calls during a Retry-After by events that began after the process knew of it."""
        self.calls_under_way = 0
        """Calls during a Retry-After by events already under way when it came (another conversation of the batch)."""
        self.rate_limited = 0
        self.lost = 0

    def _before(self, operation: str) -> None:
        with self._lock:  # the batch driver calls from several threads
            super()._before(operation)
            now, faults = self._virtual(), self._faults
            if self._known.known("zendesk", now):
                self.early_calls += 1
            elif now < self.blocked_until:
                self.calls_under_way += 1
            if any(now in window for window in faults.outages) or self._rng.random() < faults.unavailable:
                raise DeskUnavailableError("503 Service Unavailable")
            if any(now in window for window in faults.rate_limit_windows) or self._rng.random() < faults.rate_limited:
                self.blocked_until = max(self.blocked_until, now + faults.retry_after)
                self.rate_limited += 1
                raise DeskRateLimitedError(faults.retry_after)

    def _maybe_lose(self) -> None:
        with self._lock:
            if self._rng.random() < self._faults.lost_response:
                self.lost += 1
                raise DeskUnavailableError("read timed out (the request was carried out)", uncertain=True)

    def create_ticket(self, ticket: NewTicket, *, idempotency_key: str) -> int:
        ticket_id = super().create_ticket(ticket, idempotency_key=idempotency_key)
        self._maybe_lose()
        return ticket_id

    def add_comment(self, ticket_id: int, comment: Comment, *, reopen: bool = False, custom_fields: Sequence[FieldValue] = ()) -> TicketView:
        view = super().add_comment(ticket_id, comment, reopen=reopen, custom_fields=custom_fields)
        self._maybe_lose()
        return view


class FaultyCrm(FakeCrm):
    def __init__(self, clock: VirtualClock, faults: Faults, rng: random.Random, *, limit_windows: tuple[Window, ...] = ()) -> None:
        super().__init__()
        self._clock, self._faults, self._rng, self._limit_windows = clock, faults, rng, limit_windows
        self.lost = 0

    def _before(self, operation: str) -> None:
        with self._lock:
            super()._before(operation)
            now = self._clock()
            if any(now in window for window in self._limit_windows):
                raise CrmRateLimitedError("REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.")
            if any(now in window for window in self._faults.outages) or self._rng.random() < self._faults.unavailable:
                raise CrmUnavailableError("503 Service Unavailable")

    def record_activity(self, activity: CrmActivity, *, contact: CrmContact, contact_id: str | None, persona_id: str | None) -> RecordedActivity:
        recorded = super().record_activity(activity, contact=contact, contact_id=contact_id, persona_id=persona_id)
        with self._lock:
            if self._rng.random() < self._faults.lost_response:
                self.lost += 1
                raise CrmUnavailableError("read timed out (the request was carried out)")
        return recorded
