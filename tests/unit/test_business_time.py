"""Business-time deadlines: the target counted in open hours only, across lunch, midnight, weekends, holidays and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from socialdesk.calendars import ALWAYS_OPEN, Calendar
from socialdesk.sla.business_time import deadline, open_time_between

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAY = ("08:00-12:30", "13:00-18:00")
SUPPORT = Calendar.build(
    zone="Europe/Berlin",
    hours={"mon": WEEKDAY, "tue": WEEKDAY, "wed": WEEKDAY, "thu": WEEKDAY, "fri": ("08:00-12:30", "22:00-24:00"), "sat": ("00:00-02:00",)},
    country="DE",
    closed_dates=[date(2026, 12, 24)],
)
NIGHTLY = Calendar.build(zone="Europe/Berlin", hours=dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), ("00:00-04:00",)))


def berlin(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def test_a_deadline_skips_the_lunch_break() -> None:
    # Given a message at 12:20 on Wednesday with a 30-minute target
    # Then 10 minutes count before lunch and 20 after it: due at 13:20
    assert deadline(SUPPORT, berlin(12, 2, 12, 20), timedelta(minutes=30)) == berlin(12, 2, 13, 20)


def test_a_message_outside_hours_counts_from_the_next_opening() -> None:
    # Given a message at 19:00 on Wednesday (closed) with a 15-minute target
    # Then the clock starts at Thursday 08:00
    assert deadline(SUPPORT, berlin(12, 2, 19, 0), timedelta(minutes=15)) == berlin(12, 3, 8, 15)


def test_a_deadline_runs_across_midnight_from_friday_night_into_saturday() -> None:
    # Given Friday 22:00-24:00 and Saturday 00:00-02:00, and a message at 23:50 with a 30-minute target
    # Then the deadline is 00:20 on Saturday
    assert deadline(SUPPORT, berlin(12, 4, 23, 50), timedelta(minutes=30)) == berlin(12, 5, 0, 20)


def test_a_deadline_skips_the_weekend_and_a_holiday() -> None:
    # Given Saturday closes at 02:00, Sunday is closed, and a message at 01:50 on Saturday 19 December with a 1-hour target
    # Then 10 minutes count on Saturday and 50 on Monday 21 December
    assert deadline(SUPPORT, berlin(12, 19, 1, 50), timedelta(hours=1)) == berlin(12, 21, 8, 50)
    # And Christmas Eve (explicit), the 25th and 26th (public holidays) are skipped: from Wednesday 23rd 17:30, 1 hour ends on Monday 28th 08:30
    assert deadline(SUPPORT, berlin(12, 23, 17, 30), timedelta(hours=1)) == berlin(12, 28, 8, 30)


def test_the_night_the_clocks_go_forward_has_three_open_hours() -> None:
    # Given a calendar open 00:00-04:00 every night; on 29 March 2026 Berlin skips 02:00-03:00
    # When a message arrives at 00:00 with a 3h30 target
    # Then that night holds only 3 hours, so the deadline is the next night at 00:30
    assert open_time_between(NIGHTLY, berlin(3, 29, 0), berlin(3, 29, 4)) == timedelta(hours=3)
    assert deadline(NIGHTLY, berlin(3, 29, 0), timedelta(hours=3, minutes=30)) == berlin(3, 30, 0, 30)


def test_the_night_the_clocks_go_back_has_five_open_hours() -> None:
    # Given the same calendar; on 25 October 2026 Berlin repeats 02:00-03:00
    # Then that night holds 5 hours, and a 4h30 target ends that same night, at 03:30 local time
    assert open_time_between(NIGHTLY, berlin(10, 25, 0), berlin(10, 25, 4)) == timedelta(hours=5)
    assert deadline(NIGHTLY, berlin(10, 25, 0), timedelta(hours=4, minutes=30)) == berlin(10, 25, 3, 30)


def test_a_round_the_clock_policy_counts_wall_time() -> None:
    # Given 24/7 and a message on Christmas Day
    # Then the deadline is the start plus the target
    start = berlin(12, 25, 23, 55)
    assert deadline(ALWAYS_OPEN, start, timedelta(minutes=15)) == start + timedelta(minutes=15)


def test_a_calendar_never_open_has_no_deadline() -> None:
    # Given a calendar without hours
    # Then no deadline is ever reached
    assert deadline(Calendar.build(zone="UTC", hours={}), berlin(12, 2, 9), timedelta(minutes=1)) is None


@time_machine.travel(datetime(2026, 12, 4, 17, 55, tzinfo=BERLIN), tick=False)
def test_a_message_just_before_friday_closing_is_due_in_friday_nights_hours() -> None:
    # Given the clock stands at 17:55 on Friday (closed since 12:30, opening again at 22:00)
    # When a message arrives now with a 10-minute target
    # Then it is due at 22:10
    now = datetime.now(UTC)
    assert deadline(SUPPORT, now, timedelta(minutes=10)) == berlin(12, 4, 22, 10)


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
    minutes=st.integers(min_value=1, max_value=60 * 40),
)
def test_the_open_time_between_start_and_deadline_equals_the_target(start: datetime, minutes: int) -> None:
    # Given any start (both DST changes, holidays and weekends included) and any target
    # When the deadline is computed
    # Then exactly the target of open time lies between the start and the deadline, and the deadline is in open hours
    target = timedelta(minutes=minutes)
    due = deadline(SUPPORT, start, target)
    assert due is not None
    assert open_time_between(SUPPORT, start, due) == target
    assert open_time_between(SUPPORT, start, due - timedelta(seconds=1)) < target
