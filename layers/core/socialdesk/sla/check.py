"""The scheduled SLA check (`sla_check`, every minute): escalate each due clock one level, exactly once.

Per due entry: read the conversation's clock (strongly consistent), claim the level with a conditional write that
also requires nobody answered, solved or escalated since the read (`ClockStore.write_clock`), write the level's
effects to Zendesk, then record the level and move the entry to the next level's due time. So two overlapping runs
escalate once (one claim wins), an answer landing between the index read and the claim prevents the escalation, and
a Zendesk refusal or rate limit releases the claim for the next run: the level is recorded only after its effects,
whose repetition changes nothing (tags are a set, the priority only rises, the group is set, the note is looked for
before it is added again). A run that dies mid-way leaves a lease that expires; the next run resumes that level.
The alert and the record are written while the claim holds, whatever else changed on the clock (`_hold`); the alert is
marked on the claim before it is published, so it goes out at most once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import TYPE_CHECKING

import msgspec

from socialdesk.desk.port import (
    Comment,
    DeskError,
    DeskRateLimitedError,
    DeskRejectedError,
    DeskUnavailableError,
    TicketClosedError,
    TicketNotFoundError,
)
from socialdesk.observability import logger
from socialdesk.platforms.messaging_windows import MESSAGING_WINDOW
from socialdesk.sla.clock import WRITE_ATTEMPTS
from socialdesk.sla.policy import level_tags
from socialdesk.sla.ports import AlertUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from socialdesk.desk.port import Desk
    from socialdesk.sla.clock import ResponseClock
    from socialdesk.sla.policy import ClockState, Plan, Policies
    from socialdesk.sla.ports import Alerts, ClockMetrics, ClockStore

# Longer than the function's timeout (infra/template.yaml: 60 s): a live run's claim is never taken over.
LEASE = timedelta(seconds=120)
WINDOW_TAG = "messaging_window_closing"
# One conversation's escalation is a handful of Zendesk calls of at most 10 s each (rules: zendesk.timeout_seconds).
STOP_WITH_SECONDS_LEFT = 15.0


@dataclass
class CheckReport:
    due: int = 0
    escalated: list[tuple[str, int]] = field(default_factory=list)
    """(conversation key, level) escalated by this run."""
    windows_flagged: int = 0
    deferred: int = 0
    """Claimed but Zendesk refused for now: the next run tries again."""
    skipped: int = 0
    """Claimed by another run, answered, solved or moved since the index was read."""
    stale: int = 0
    unfinished: int = 0
    """Due, but left for the next run: this one was running out of time."""


@dataclass(frozen=True)
class _Work:
    level: int | None
    window: bool
    field: bool
    """The ticket's "due at" field is to show the running clock's breach (or be emptied)."""
    resumed: bool
    """A claim an earlier run took and never finished: its note may be there already."""


class SlaCheck:
    def __init__(
        self,
        *,
        store: ClockStore,
        policies: Policies,
        clock: ResponseClock,
        desk: Desk,
        alerts: Alerts,
        metrics: ClockMetrics,
        now: Callable[[], datetime],
    ) -> None:
        self._store, self._policies, self._clock, self._desk = store, policies, clock, desk
        self._alerts, self._metrics, self._now = alerts, metrics, now

    def run(self, *, scheduled_at: datetime | None = None, time_left: Callable[[], float] | None = None) -> CheckReport:
        """One pass over what is due. `scheduled_at` is the schedule's own time (the event's `time`): never earlier than
        the clock in AWS, and the local runner's moved clock when a demo moves time forward. `time_left` (seconds, the
        Lambda context's) stops the pass while there is time to finish the conversation at hand: the rest stays due
        for the next minute's run, after a backlog (an outage of Zendesk) as much as ever."""
        now, report = max(self._now(), scheduled_at or self._now()), CheckReport()
        for key, due in list(self._store.due_entries(now)):
            if time_left is not None and time_left() < STOP_WITH_SECONDS_LEFT:
                report.unfinished += 1
                continue
            report.due += 1
            try:
                self._check(key, due, now, report)
            except (DeskRateLimitedError, DeskUnavailableError, AlertUnavailableError) as exc:
                report.deferred += 1
                logger.warning("Zendesk refused an escalation for now; the next run tries again", extra={"reason": type(exc).__name__})
            except DeskError as exc:  # one ticket Zendesk will not take must not hold up every other conversation
                report.deferred += 1
                logger.error("Zendesk refused to escalate a ticket; the next run tries again", extra={"reason": type(exc).__name__})
        counts = {"due": report.due, "escalated": len(report.escalated), "deferred": report.deferred, "stale": report.stale}
        logger.info("sla check", extra=counts | {"unfinished": report.unfinished})
        return report

    def _check(self, key: str, due: datetime, now: datetime, report: CheckReport) -> None:
        state = self._store.clock_state(key)
        if state is None or state.due != due:
            self._store.forget_due(key, due)  # the clock moved or stopped since this entry was written
            report.stale += 1
            return
        settled, plan = self._clock.settled(state)
        if settled != state:  # the rules changed under it: move the clock, escalate by the new due time
            self._store.write_clock(state, settled)
            report.skipped += 1
            return
        work = self._work(state, plan, now)
        if state.ticket_id is None or (state.lease_until is not None and state.lease_until > now) or work is None:
            report.skipped += 1
            return
        claimed = msgspec.structs.replace(
            state, pending=work.level or 0, lease_until=now + LEASE, claimed_at=state.claimed_at if state.pending is not None else now
        )
        if not self._store.write_clock(state, claimed):
            report.skipped += 1
            return
        try:
            self._apply(claimed, plan, work)
        except DeskError:
            self._hold(claimed, lambda current: msgspec.structs.replace(current, lease_until=None))
            raise
        held = self._alert(claimed, plan, work)
        if held is None:  # the claim was lost meanwhile (its lease ran out): the run holding it now finishes the level
            report.skipped += 1
            return
        if work.level is not None:
            self._metrics.breached(platform=state.platform or "unknown", priority=state.priority, level=work.level)
        if self._hold(held, lambda current: _done(current, state, plan, work)) is None:
            report.skipped += 1
            return
        if work.level is not None:
            report.escalated.append((key, work.level))
        if work.window:
            report.windows_flagged += 1

    def _hold(self, claimed: ClockState, change: Callable[[ClockState], ClockState]) -> ClockState | None:
        """Write `change` of the claimed clock while the claim holds: a customer writing again, a priority rising or the
        rules moving the due time change the clock but not the claim, so the level is still recorded once (re-read, then
        written again). None: the claim is gone (the clock restarted, or another run took the level over)."""
        current: ClockState | None = claimed
        for _ in range(WRITE_ATTEMPTS):
            if current is None or not _holds(current, claimed):
                return None
            after, _ = self._clock.settled(change(current))
            if self._store.write_clock(current, after):
                return after
            current = self._store.clock_state(claimed.key)
        return None

    def _alert(self, claimed: ClockState, plan: Plan | None, work: _Work) -> ClockState | None:
        """The level's SNS alert, at most once: marked on the claim (a conditional write) before it is published, and never
        published again once marked, so a run dying after the publish does not page anyone twice (an e-mail subscriber
        cannot filter a repeat). A run dying between the mark and the publish loses that alert; the note and the
        `SlaBreached` metric still say the level was reached."""
        level = work.level
        if level is None or plan is None or not plan.step(level).alert or claimed.alerted == level:
            return claimed
        marked = self._hold(claimed, lambda current: msgspec.structs.replace(current, alerted=level))
        if marked is None:
            return None
        try:
            self._alerts.alert(
                subject=f"SLA level {level}: ticket {claimed.ticket_id}",
                message=f"Ticket {claimed.ticket_id} ({claimed.platform}, priority {claimed.priority or 'none'}) reached SLA level {level}: "
                f"its response was due at {utc_minute(plan.breach)}.",
                deduplication_id=f"{claimed.ticket_id}:{plan.start.isoformat()}:{level}",
            )
        except AlertUnavailableError:  # not published: unmarked, and the claim released for the next run
            self._hold(marked, lambda current: msgspec.structs.replace(current, alerted=claimed.alerted, lease_until=None))
            raise
        return marked

    def _work(self, state: ClockState, plan: Plan | None, now: datetime) -> _Work | None:
        """What is due: the claimed level being resumed, else the next level if its time has come; and the window flag."""
        level = state.pending or None
        if level is None and plan is not None and (level_due := plan.level_due(state.level + 1)) is not None and level_due <= now:
            level = state.level + 1
        window_due = self._policies.window_due(state)
        window = window_due is not None and window_due <= now
        field = self._policies.field_wanted(state, plan)
        return _Work(level=level, window=window, field=field, resumed=state.pending is not None) if level is not None or window or field else None

    def _apply(self, state: ClockState, plan: Plan | None, work: _Work) -> None:
        assert state.ticket_id is not None and state.claimed_at is not None
        ticket = state.ticket_id
        if work.field and (field := self._policies.rules.due_at_field) is not None:
            shown = f"{plan.breach.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}" if plan is not None else None
            self._refusable("set_field", lambda: self._desk.set_field(ticket, field, shown))
        if work.window:
            self._refusable("add_tags", lambda: self._desk.add_tags(ticket, [WINDOW_TAG]))
            closes = state.activity.last_customer_at
            assert closes is not None
            words = (
                f"The customer's 24-hour messaging window closes at {utc_minute(closes + MESSAGING_WINDOW)} and nobody has answered"
                " yet: after it closes, only an approved template reaches them."
            )
            self._note(ticket, words, since=state.claimed_at, look=work.resumed)
        if work.level is None or plan is None:
            return
        step = plan.step(work.level)
        self._refusable("add_tags", lambda: self._desk.add_tags(ticket, level_tags(work.level or 0, step)))
        if (priority := step.priority) is not None:
            self._refusable("raise_priority", lambda: self._desk.raise_priority(ticket, priority))
        if (group := step.group_id) is not None:
            self._refusable("assign_group", lambda: self._desk.assign_group(ticket, group))
        words = (step.note or "Response SLA breached (level {level}): the {target} target was due at {due}.").format(
            level=work.level, due=utc_minute(plan.breach), target=_minutes(plan.target)
        )
        self._note(ticket, words, since=state.claimed_at, look=work.resumed)

    def _note(self, ticket: int, words: str, *, since: datetime, look: bool) -> None:
        """An internal note, unless a resumed claim's earlier try already added it (looked for only then: one read less)."""
        comment = Comment(body=words, public=False)
        if not look or not self._desk.has_comment(ticket, comment, since=since):
            self._refusable("add_comment", lambda: self._desk.add_comment(ticket, comment))

    @staticmethod
    def _refusable(effect: str, call: Callable[[], object]) -> None:
        """One Zendesk write of an escalation. A refusal for good (an unknown group, a closed or deleted ticket) is logged
        and the rest of the level still happens: asking again every minute could not help. Rate limits and outages
        propagate: the claim is released and the next run does the level again."""
        try:
            call()
        except (DeskRejectedError, TicketClosedError, TicketNotFoundError) as exc:
            logger.error("Zendesk refused part of an escalation", extra={"effect": effect, "reason": type(exc).__name__})


def _minutes(target: timedelta) -> str:
    return f"{int(target.total_seconds() // 60)}-minute"


def utc_minute(moment: datetime) -> str:
    """A time as notes and alerts print it: the instant in UTC, whatever offset it was parsed with."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _holds(current: ClockState, claimed: ClockState) -> bool:
    """The claim `claimed` took is still this clock's: same start, level, claim time and lease."""
    return (current.start, current.pending, current.claimed_at, current.lease_until) == (
        claimed.start,
        claimed.pending,
        claimed.claimed_at,
        claimed.lease_until,
    )


def _done(current: ClockState, claimed: ClockState, plan: Plan | None, work: _Work) -> ClockState:
    """The clock with the claimed work recorded: the level reached, the window flagged, the field shown."""
    done = msgspec.structs.replace(current, pending=None, lease_until=None, claimed_at=None)
    if work.level is not None:
        done.level = max(done.level, work.level)
    if work.window:
        done.window_flagged = claimed.activity.last_customer_at
    if work.field:
        done.shown_due = plan.breach if plan is not None else None
    return done
