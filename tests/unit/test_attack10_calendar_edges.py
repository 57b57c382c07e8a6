"""Attack on issue 10's business-hours calendars: DST changes, openings inside a skipped hour, holidays and closed dates."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from socialdesk.acknowledge import policy
from socialdesk.calendars import Calendar
from socialdesk.rules import load_rules

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = policy.calendar_of(load_rules(ROOT / "config" / "socialdesk.toml"))
NIGHT = Calendar.build(
    zone="Europe/Berlin",
    hours={"sun": ["02:00-04:00"], "fri": ["22:00-24:00"], "sat": ["00:00-02:00"]},
    country=None,
    subdivision=None,
    closed_dates=[],
    always_open=False,
)


@pytest.mark.parametrize(
    ("now", "opens"),
    [
        # Saturday after closing, before the spring change: Monday 08:00 CEST is 06:00 UTC
        (datetime(2026, 3, 28, 13, 30, tzinfo=UTC), datetime(2026, 3, 30, 6, 0, tzinfo=UTC)),
        # Saturday after closing, before the autumn change: Monday 08:00 CET is 07:00 UTC
        (datetime(2026, 10, 24, 13, 30, tzinfo=UTC), datetime(2026, 10, 26, 7, 0, tzinfo=UTC)),
        # Christmas Eve (an explicit closed date) and the two German holidays, a Sunday: Monday 28 December
        (datetime(2026, 12, 24, 9, 0, tzinfo=UTC), datetime(2026, 12, 28, 7, 0, tzinfo=UTC)),
        (datetime(2026, 12, 26, 9, 30, tzinfo=UTC), datetime(2026, 12, 28, 7, 0, tzinfo=UTC)),
    ],
)
def test_the_out_of_hours_acknowledgement_names_the_real_next_opening_across_dst_and_holidays(now: datetime, opens: datetime) -> None:
    """Given the shipped Berlin calendar (DE holidays, 24 and 31 December closed)
    When a customer writes while it is closed, around a DST change or the Christmas holidays
    Then it is closed and the next opening is the wall-clock 08:00 of the next working day, at its own UTC offset."""
    assert not SHIPPED.is_open(now)
    assert SHIPPED.next_opening(now) == opens


def test_hours_starting_in_the_skipped_spring_hour_open_at_the_first_real_instant() -> None:
    """Given Sunday hours 02:00-04:00 in Berlin, and the spring change skipping 02:00-03:00 on 29 March 2026
    When a customer writes at 00:30 local
    Then the calendar opens at 03:00 CEST (01:00 UTC), and is open then."""
    now = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    assert NIGHT.next_opening(now) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert NIGHT.is_open(datetime(2026, 3, 29, 1, 30, tzinfo=UTC))


def test_hours_in_the_repeated_autumn_hour_are_open_both_times_and_close_at_the_wall_clock_end() -> None:
    """Given Sunday hours 02:00-04:00 in Berlin, and 02:00-03:00 happening twice on 25 October 2026
    Then both 02:30s (00:30 and 01:30 UTC) are open, 03:30 CET is open and 04:30 CET is closed."""
    for utc_hour, is_open in ((0, True), (1, True), (2, True), (3, False)):
        assert NIGHT.is_open(datetime(2026, 10, 25, utc_hour, 30, tzinfo=UTC)) is is_open, utc_hour


def test_hours_running_across_midnight_stay_open_through_it() -> None:
    """Given Friday 22:00-24:00 and Saturday 00:00-02:00 in Berlin
    Then Friday 23:30 and Saturday 01:30 local are both open."""
    assert NIGHT.is_open(datetime(2026, 3, 27, 22, 30, tzinfo=UTC))
    assert NIGHT.is_open(datetime(2026, 3, 28, 0, 30, tzinfo=UTC))
