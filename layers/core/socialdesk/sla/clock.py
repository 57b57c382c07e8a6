"""The response clock of each conversation: started by a customer waiting, stopped by a person's answer or a solve.

Every change is read → compute → conditional write (`ClockStore.write_clock`), retried a few times when someone else
wrote first, so messages, answers, solves and checks may interleave in any order. The clock itself is derived, never
counted: its start is the first unanswered customer message not covered by the latest solve, or the latest reopening
after it (policy.running_start), kept as the latest of each so any delivery order gives the same clock, its due
times follow from the policy (policy.Plan). Our own automatic messages never reach here (process recognises their
echoes), so they never stop it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from socialdesk.model.desk_event import DeskEvent, DeskEventKind
from socialdesk.sla.policy import ClockState, Plan, Policies, higher_priority

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from socialdesk.sla.ports import ClockMetrics, ClockStore

WRITE_ATTEMPTS = 5
SOLVED = frozenset({"solved", "closed"})


class ClockBusyError(Exception):
    """The conversation kept changing under every attempt: the caller retries later (process: the event is redelivered)."""


class ResponseClock:
    """Keeps each conversation's clock and due-index entry in step with its messages, answers and ticket status."""

    def __init__(self, store: ClockStore, policies: Policies, metrics: ClockMetrics) -> None:
        self._store, self._policies, self._metrics = store, policies, metrics

    def customer_wrote(self, key: str, *, at: datetime, platform: str, kind: str, priority: str | None) -> None:
        """After process recorded a customer message: the clock starts (or restarts after a solve), its priority only rises."""

        def change(state: ClockState) -> None:
            # The conversation's first message by time (process recorded this one before: it is in `activity`) picks the policy.
            first = state.activity.first_customer_at
            if state.kind is None or (first is not None and at <= first):
                state.platform, state.kind = platform, kind
            state.priority = higher_priority(state.priority, priority)
            if state.stopped_at is not None and at > state.stopped_at:
                state.restart_at = min(state.restart_at, at) if state.restart_at is not None and state.restart_at > state.stopped_at else at

        self._update(key, change)

    def brand_wrote(self, key: str, *, at: datetime) -> None:
        """After process recorded the brand's own reply typed in a platform's app (not our send): it may stop the clock."""
        self._update(key, lambda state: None, answered_at=at)

    def record_answer(self, conversation_key: str, *, at: datetime, reference: str, source: str) -> None:
        """`AnswerLog`: a person's answer accepted by the platform (outbound) stops the clock; idempotent on `reference`."""
        self._store.record_answer(conversation_key, at=at, reference=reference, source=source)
        self._update(conversation_key, lambda state: None, answered_at=at)

    def refresh(self, key: str) -> None:
        """After the conversation's facts changed outside the clock (an accepted reply that failed later was withdrawn):
        the clock follows them again, e.g. runs once more for a customer the reply never reached."""
        self._update(key, lambda state: None)

    def solved(self, key: str, *, at: datetime, ticket_id: int) -> None:
        """A solved ticket: everything the customer wrote up to now needs no answer (an earlier ticket of the
        conversation, solved late, says nothing about the current one)."""

        def change(state: ClockState) -> None:
            if state.ticket_id in (None, ticket_id) and (state.stopped_at is None or at > state.stopped_at):
                last = state.activity.last_customer_at
                # The customer may have written after it already (the webhook came late): the next clock starts there.
                state.stopped_at, state.restart_at = at, self._store.first_customer_after(key, at) if last is not None and last > at else None

        self._update(key, change)

    def reopened(self, key: str, *, at: datetime, ticket_id: int) -> None:
        """An agent reopened a solved ticket: a customer still unanswered waits again, from now (a next-response clock).
        Kept as the latest reopening, so a reopening delivered before its solve still restarts the clock."""

        def change(state: ClockState) -> None:
            if state.ticket_id in (None, ticket_id) and (state.reopened_at is None or at > state.reopened_at):
                state.reopened_at = at

        self._update(key, change)

    def settled(self, state: ClockState) -> tuple[ClockState, Plan | None]:
        """`state` with its start, level and due time as its inputs say (a new start is a new clock, from level 0)."""
        plan = self._policies.plan(state)
        start = plan.start if plan is not None else None
        after = msgspec.structs.replace(state)
        if start != state.start:
            after.start, after.level, after.pending, after.lease_until, after.claimed_at, after.alerted = start, 0, None, None, None, None
        after.due = self._policies.next_due(after, plan)
        return after, plan

    def _update(self, key: str, change: Callable[[ClockState], None], *, answered_at: datetime | None = None) -> None:
        for _ in range(WRITE_ATTEMPTS):
            before = self._store.clock_state(key)
            if before is None:
                return
            changed = msgspec.structs.replace(before)
            change(changed)
            after, _ = self.settled(changed)
            if after == before:
                return
            if self._store.write_clock(before, after):
                if answered_at is not None and before.start is not None and after.start != before.start:
                    self._answered(before, answered_at)
                return
        raise ClockBusyError(f"the response clock of {key} kept changing under {WRITE_ATTEMPTS} attempts")

    def _answered(self, before: ClockState, at: datetime) -> None:
        plan = self._policies.plan_from(before, before.start)
        if plan is None or before.platform is None:
            return
        seconds = (at - plan.start).total_seconds()
        self._metrics.answered(platform=before.platform, priority=before.priority, first=plan.first, seconds=seconds, within_sla=at <= plan.breach)


class ClockDeskEvents:
    """`DeskEventSink` for the response clock: a solved ticket stops it, a reopened one restarts it (idempotent: a
    redelivered event finds the clock already as it leaves it)."""

    def __init__(self, clock: ResponseClock) -> None:
        self._clock = clock

    def on_desk_event(self, event: DeskEvent) -> None:
        if event.kind != DeskEventKind.STATUS_CHANGED or event.ticket_external_id is None or event.status is None:
            return
        if event.status in SOLVED:
            self._clock.solved(event.ticket_external_id, at=event.occurred_at, ticket_id=event.ticket_id)
        elif event.previous_status in SOLVED:
            self._clock.reopened(event.ticket_external_id, at=event.occurred_at, ticket_id=event.ticket_id)
