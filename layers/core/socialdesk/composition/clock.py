"""The response clock as every function that moves it builds it: process (messages), outbound (accepted agent replies),
desk_events (solved and reopened tickets) and sla_check (escalations). Light imports: desk_events loads no Zendesk SDK."""

from __future__ import annotations

from typing import TYPE_CHECKING

from socialdesk.sla.clock import ResponseClock
from socialdesk.sla.metrics import EmfClockMetrics
from socialdesk.sla.policy import Policies

if TYPE_CHECKING:
    from socialdesk.rules import RulesConfig
    from socialdesk.store.clock import DynamoDbClockStore


def response_clock(rules: RulesConfig, store: DynamoDbClockStore) -> ResponseClock | None:
    """The response clock, when the rules have an `[sla]` section; None turns it off everywhere alike."""
    policies = Policies.of(rules)
    return ResponseClock(store, policies, EmfClockMetrics()) if policies is not None else None
