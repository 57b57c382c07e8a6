"""Which policy a conversation's clock runs under, when it started, and when each level of the ladder falls due (pure).

Every answer here is a function of the clock's stored inputs, so any number of writers and checkers compute the same
due times: the breach is the start plus the target in the policy's open hours, and level n + 1 falls `after_minutes`
(wall time: an escalation is for people on call) after level n.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import msgspec

from socialdesk.acknowledge.policy import calendar_from
from socialdesk.calendars import ALWAYS_OPEN
from socialdesk.model.conversation import ConversationActivity
from socialdesk.model.priority import priority_rank
from socialdesk.platforms.messaging_windows import MESSAGING_WINDOW
from socialdesk.sla.business_time import deadline

if TYPE_CHECKING:
    from socialdesk.rules import CalendarRules, EscalationStep, RulesConfig, SlaPolicy, SlaRules

BREACHED_TAG = "sla_breached"


class ClockState(msgspec.Struct, kw_only=True):
    """A conversation's response clock as stored with it: the inputs, the level reached, and the escalation under way."""

    key: str
    ticket_id: int | None = None
    activity: ConversationActivity = ConversationActivity()
    platform: str | None = None
    kind: str | None = None
    priority: str | None = None
    start: datetime | None = None
    """The start the stored due time was computed from; None while no clock runs."""
    due: datetime | None = None
    """When the next level (or the window flag) falls due, as indexed; None: nothing left to do."""
    level: int = 0
    """The levels escalated so far (0: not breached)."""
    pending: int | None = None
    """A level claimed by a check whose Zendesk writes are not all done yet."""
    lease_until: datetime | None = None
    claimed_at: datetime | None = None
    stopped_at: datetime | None = None
    """The latest solve of the ticket (whatever order the webhooks came in): customer messages up to then need no answer."""
    restart_at: datetime | None = None
    """The first customer message after `stopped_at` (derived from the message times, so any order agrees)."""
    reopened_at: datetime | None = None
    """The latest reopening of the ticket: after the latest solve, a customer still unanswered waits again from it."""
    alerted: int | None = None
    """The level whose alert was published (marked before publishing: at most once per level)."""
    window_flagged: datetime | None = None
    """The customer message whose 24-hour messaging window was flagged as closing."""
    shown_due: datetime | None = None
    """What the ticket's "due at" field shows (`sla.due_at_field`); None: empty."""
    rev: int = 0


def running_start(state: ClockState) -> datetime | None:
    """When the clock that should run now started: the first unanswered customer message not covered by the latest
    solve, or the latest reopening after it if earlier. A function of the latest solve, the latest reopening and the
    message times only, so any delivery order of messages and webhooks gives the same start."""
    waiting, solved = state.activity.waiting_since, state.stopped_at
    if waiting is None:
        return None
    if solved is None or waiting > solved:
        return waiting
    after = state.restart_at if state.restart_at is not None and state.restart_at > solved else None
    reopened = state.reopened_at if state.reopened_at is not None and state.reopened_at > solved else None
    return min((moment for moment in (after, reopened) if moment is not None), default=None)


def higher_priority(known: str | None, new: str | None) -> str | None:
    return new if priority_rank(new) > priority_rank(known) else known


@dataclass(frozen=True)
class Plan:
    """The clock of one start under one policy."""

    policy: SlaPolicy
    start: datetime
    first: bool
    """A first response (the brand never answered this conversation) rather than a next one."""
    breach: datetime

    @property
    def target(self) -> timedelta:
        return timedelta(minutes=self.policy.first_response_minutes if self.first else self.policy.next_response_minutes)

    def level_due(self, level: int) -> datetime | None:
        """When `level` (1 = the breach) falls due; None past the ladder's top."""
        if level > len(self.policy.ladder):
            return None
        return self.breach + sum((timedelta(minutes=step.after_minutes) for step in self.policy.ladder[1:level]), timedelta(0))

    def step(self, level: int) -> EscalationStep:
        return self.policy.ladder[level - 1]


class Policies:
    """The rules' `[sla]` with its calendars built once (a country's holidays load lazily, per year, once)."""

    def __init__(self, sla: SlaRules, calendars: dict[str, CalendarRules]) -> None:
        self.rules = sla
        self._calendars = {name: calendar_from(rules) for name, rules in calendars.items()}

    @classmethod
    def of(cls, rules: RulesConfig) -> Policies | None:
        return cls(rules.sla, dict(rules.calendars)) if rules.sla is not None else None

    def plan(self, state: ClockState) -> Plan | None:
        """The running clock's plan; None when no clock runs, no policy matches, or its calendar never opens."""
        return self.plan_from(state, running_start(state))

    def plan_from(self, state: ClockState, start: datetime | None) -> Plan | None:
        """The plan of a clock started at `start` (the one just stopped, for its response-time metric)."""
        if start is None or state.platform is None:
            return None
        policy = self.rules.policy_for(state.platform, state.kind or "", state.priority)
        if policy is None:
            return None
        # A first response unless the brand had answered, or the ticket was solved, before this clock started.
        answered = state.activity.first_response_at is not None and state.activity.first_response_at < start
        first = not answered and (state.stopped_at is None or state.stopped_at >= start)
        minutes = policy.first_response_minutes if first else policy.next_response_minutes
        calendar = self._calendars[policy.calendar] if policy.calendar is not None else ALWAYS_OPEN
        breach = deadline(calendar, start, timedelta(minutes=minutes))
        return Plan(policy=policy, start=start, first=first, breach=breach) if breach is not None else None

    def window_due(self, state: ClockState) -> datetime | None:
        """When a WhatsApp or Messenger conversation's unanswered 24-hour window is to be flagged as closing; None: not."""
        last = state.activity.last_customer_at
        warning = self.rules.window_warning_minutes
        if warning is None or last is None or state.platform not in WINDOWED or running_start(state) is None or state.window_flagged == last:
            return None
        return last + MESSAGING_WINDOW - timedelta(minutes=warning)

    def next_due(self, state: ClockState, plan: Plan | None) -> datetime | None:
        """The earliest thing left to do: the next level, the window flag, or the "due at" field to bring up to date."""
        level = plan.level_due(state.level + 1) if plan is not None else None
        return min((moment for moment in (level, self.window_due(state), self.field_due(state, plan)) if moment is not None), default=None)

    def field_wanted(self, state: ClockState, plan: Plan | None) -> bool:
        """Whether the ticket's "due at" field must change: it shows another time than the running clock's breach."""
        return self.rules.due_at_field is not None and state.shown_due != (plan.breach if plan is not None else None)

    def field_due(self, state: ClockState, plan: Plan | None) -> datetime | None:
        """When to update the field: as soon as the clock starts (its start), or stops (the answer or the solve); a
        time from the clock's own state, so every reader computes the same due time for the index."""
        if not self.field_wanted(state, plan):
            return None
        if plan is not None:
            return plan.start
        return max((moment for moment in (state.activity.last_brand_at, state.stopped_at) if moment is not None), default=state.shown_due)


WINDOWED = frozenset({"whatsapp", "messenger"})


def level_tags(level: int, step: EscalationStep) -> tuple[str, ...]:
    """`sla_breached` at every level (Zendesk views select on it), `sla_level_<n>` from level 2, and the step's own tags."""
    return (BREACHED_TAG, *((f"sla_level_{level}",) if level > 1 else ()), *step.tags)
