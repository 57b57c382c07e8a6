"""The SLA ladder's SNS alert is published at most once per level (README, "The response clock and the SLA check"):
marked on the level's claim before it is published, unmarked only when SNS refused it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from socialdesk.sla.check import CheckReport
from socialdesk.sla.ports import AlertUnavailableError
from tests.support.process_fakes import CrashError
from tests.support.sla_world import START, SlaWorld, sla_world

KEY = "x:1000:thread:7"


@pytest.fixture
def world() -> Iterator[SlaWorld]:
    with sla_world() as built:
        built.customer_writes(KEY, at=START)
        built.advance(minutes=30)
        assert built.check().run().escalated == [(KEY, 1)]
        built.advance(minutes=30)  # level 2 (an alert) is due
        yield built


def level_two_notes(world: SlaWorld) -> int:
    comments = world.desk.tickets[world.tickets[KEY]].comments
    return len([comment for comment in comments if not comment.public and "level 2" in comment.body])


def test_an_alert_sns_refused_is_published_by_the_next_run_once(world: SlaWorld) -> None:
    """Given level 2 due with an alert, and SNS refusing the first publish (throttled)
    When the check runs at 11:00 and then every minute until 11:05
    Then the level is deferred, then escalated by a later run: one alert, one note."""
    real_alert = world.alerts.alert
    refused: list[bool] = []

    def refuses_once(**values: str) -> None:
        if not refused:
            refused.append(True)
            raise AlertUnavailableError("Throttling")
        real_alert(**values)

    world.alerts.alert = refuses_once  # type: ignore[method-assign]
    reports: list[CheckReport] = []
    for _ in range(6):
        reports.append(world.check().run())
        world.advance(minutes=1)
    assert reports[0].deferred == 1
    assert [level for report in reports for _, level in report.escalated] == [2]
    assert (len(world.alerts.sent), level_two_notes(world)) == (1, 1)


def test_a_run_dying_between_marking_and_publishing_the_alert_never_publishes_it_twice(world: SlaWorld) -> None:
    """Given level 2 due with an alert, and the 11:00 run dying right as it asks SNS (after marking the alert sent)
    When later runs take the level over after its lease
    Then the level is recorded with its one note and no alert at all: at most once, never twice."""
    real_alert = world.alerts.alert

    def dies(**values: str) -> None:
        world.alerts.alert = real_alert  # type: ignore[method-assign]
        raise CrashError("the run died while publishing")

    world.alerts.alert = dies  # type: ignore[method-assign]
    with pytest.raises(CrashError):
        world.check().run()
    escalated: list[tuple[str, int]] = []
    for _ in range(5):
        world.advance(minutes=1)
        escalated += world.check().run().escalated
    assert escalated == [(KEY, 2)]
    assert (world.alerts.sent, level_two_notes(world)) == ([], 1)
    state = world.store.clock_state(KEY)
    assert state is not None and (state.level, state.alerted) == (2, 2)
