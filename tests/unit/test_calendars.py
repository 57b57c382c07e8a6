"""Business-hours calendars: open now, next opening, across lunch breaks, midnight, both DST changes and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from socialdesk.calendars import ALWAYS_OPEN, Calendar, Interval

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAY = ("08:00-12:30", "13:00-18:00")
SUPPORT = Calendar.build(
    zone="Europe/Berlin",
    hours={
        "mon": WEEKDAY,
        "tue": WEEKDAY,
        "wed": WEEKDAY,
        "thu": WEEKDAY,
        "fri": ("08:00-12:30", "22:00-24:00"),
        "sat": ("00:00-02:00", "10:00-14:00"),
    },
    country="DE",
    closed_dates=[date(2026, 12, 24)],
)


def berlin(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def test_a_day_with_a_lunch_break_is_closed_between_its_intervals_and_opens_after_it() -> None:
    # Given Wednesday 2 December 2026, open 08:00-12:30 and 13:00-18:00 in Berlin
    # When the customer writes at 12:45, at 13:00 and at 18:00
    # Then the lunch break is closed, its next opening is 13:00, and 18:00 is the end of the day
    assert not SUPPORT.is_open(berlin(2026, 12, 2, 12, 45))
    assert SUPPORT.next_opening(berlin(2026, 12, 2, 12, 45)) == berlin(2026, 12, 2, 13, 0)
    assert SUPPORT.is_open(berlin(2026, 12, 2, 13, 0))
    assert not SUPPORT.is_open(berlin(2026, 12, 2, 18, 0))
    assert SUPPORT.next_opening(berlin(2026, 12, 2, 18, 0)) == berlin(2026, 12, 3, 8, 0)


def test_friday_night_hours_run_across_midnight_into_saturday() -> None:
    # Given Friday 22:00-24:00 and Saturday 00:00-02:00
    # Then it is open at 23:59 Friday and at 01:30 Saturday, closed at 02:00, next open at 10:00
    assert SUPPORT.is_open(berlin(2026, 12, 4, 23, 59))
    assert SUPPORT.is_open(berlin(2026, 12, 5, 0, 0))
    assert SUPPORT.is_open(berlin(2026, 12, 5, 1, 30))
    assert not SUPPORT.is_open(berlin(2026, 12, 5, 2, 0))
    assert SUPPORT.next_opening(berlin(2026, 12, 5, 2, 0)) == berlin(2026, 12, 5, 10, 0)
    assert SUPPORT.next_opening(berlin(2026, 12, 4, 15, 0)) == berlin(2026, 12, 4, 22, 0)


def test_opening_hours_stay_on_the_wall_clock_across_the_spring_dst_change() -> None:
    # Given a calendar open 09:00-17:00 every day in Berlin, and one opening at 02:30 (an hour skipped on 29 March 2026)
    daily = Calendar.build(zone="Europe/Berlin", hours=dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), ("09:00-17:00",)))
    night = Calendar.build(zone="Europe/Berlin", hours={"sun": ["02:30-04:00"]})
    # When the clocks go forward that night
    # Then Sunday opens at 09:00 summer time (07:00 UTC), Saturday had opened at 09:00 winter time (08:00 UTC)
    assert daily.next_opening(datetime(2026, 3, 28, 20, 0, tzinfo=UTC)) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert daily.is_open(datetime(2026, 3, 28, 8, 0, tzinfo=UTC)) and not daily.is_open(datetime(2026, 3, 28, 7, 59, tzinfo=UTC))
    # And the skipped 02:30 opens at its later reading (03:30 summer time = 01:30 UTC)
    assert night.next_opening(datetime(2026, 3, 28, 23, 0, tzinfo=UTC)) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert not night.is_open(datetime(2026, 3, 29, 1, 0, tzinfo=UTC))


def test_an_interval_over_the_repeated_autumn_hour_is_open_for_all_of_it() -> None:
    # Given a calendar open 02:00-04:00 on Sunday 25 October 2026, when 02:00-03:00 happens twice in Berlin
    night = Calendar.build(zone="Europe/Berlin", hours={"sun": ["02:00-04:00"]})
    # Then it opens at the first 02:00 (00:00 UTC) and stays open through the repeated hour until 04:00 winter time (03:00 UTC)
    assert night.next_opening(datetime(2026, 10, 24, 22, 0, tzinfo=UTC)) == datetime(2026, 10, 25, 0, 0, tzinfo=UTC)
    assert all(night.is_open(datetime(2026, 10, 25, hour, 30, tzinfo=UTC)) for hour in (0, 1, 2))
    assert not night.is_open(datetime(2026, 10, 25, 3, 0, tzinfo=UTC))
    # And a daily 09:00 opening is 08:00 UTC after the change, 07:00 UTC before it
    daily = Calendar.build(zone="Europe/Berlin", hours={"sat": ["09:00-10:00"], "mon": ["09:00-10:00"]})
    assert daily.next_opening(datetime(2026, 10, 24, 0, 0, tzinfo=UTC)) == datetime(2026, 10, 24, 7, 0, tzinfo=UTC)
    assert daily.next_opening(datetime(2026, 10, 25, 0, 0, tzinfo=UTC)) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def test_an_interval_ending_in_the_repeated_autumn_hour_is_open_again_while_the_wall_clock_reads_it_a_second_time() -> None:
    """Given a calendar open 00:00-02:30 on Sunday 25 October 2026 in Berlin, when 02:00-03:00 happens twice
    Then it is open from 00:00 summer time to the first 02:30 (22:00-00:30 UTC), closed for the rest of that hour, and
    open again from the second 02:00 to the second 02:30 (01:00-01:30 UTC): the wall clock reads "open" then too."""
    night = Calendar.build(zone="Europe/Berlin", hours={"sun": ["00:00-02:30"]})
    assert night.open_spans(date(2026, 10, 25)) == [
        (datetime(2026, 10, 24, 22, 0, tzinfo=UTC), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
    ]


def test_an_interval_ending_in_the_skipped_spring_hour_closes_at_the_jump() -> None:
    """Given a calendar open 01:00-02:30 on Sunday 29 March 2026 in Berlin, whose 02:00-03:00 is skipped
    Then it closes at the jump (01:00 UTC), when the wall clock moves past 02:30, not an hour later."""
    night = Calendar.build(zone="Europe/Berlin", hours={"sun": ["01:00-02:30"]})
    assert night.open_spans(date(2026, 3, 29)) == [(datetime(2026, 3, 29, 0, 0, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC))]


def test_public_holidays_and_explicit_closed_dates_skip_to_the_next_working_day() -> None:
    # Given Christmas Eve closed explicitly, and 25 and 26 December German public holidays
    # When a customer writes on Wednesday 23 December after hours
    opens = SUPPORT.next_opening(berlin(2026, 12, 23, 19, 0))
    # Then the next opening is Monday 28 December 08:00 (Saturday the 26th is a holiday, Sunday has no hours)
    assert opens == berlin(2026, 12, 28, 8, 0)
    assert not SUPPORT.is_open(berlin(2026, 12, 24, 10, 0))
    assert not SUPPORT.is_open(berlin(2026, 12, 25, 10, 0))


def test_a_subdivision_adds_its_own_holidays() -> None:
    # Given Tuesday 6 January 2026 (Epiphany: a holiday in Bavaria, not in Berlin)
    hours = {"tue": ["09:00-17:00"]}
    bavaria = Calendar.build(zone="Europe/Berlin", hours=hours, country="DE", subdivision="BY")
    berlin_state = Calendar.build(zone="Europe/Berlin", hours=hours, country="DE", subdivision="BE")
    # Then Bavaria is closed that day and Berlin is open
    assert not bavaria.is_open(berlin(2026, 1, 6, 10, 0))
    assert berlin_state.is_open(berlin(2026, 1, 6, 10, 0))


def test_an_always_open_calendar_is_open_at_any_time_even_on_holidays() -> None:
    at = berlin(2026, 12, 25, 3, 0)
    assert ALWAYS_OPEN.is_open(at)
    assert ALWAYS_OPEN.next_opening(at) == at


def test_a_calendar_with_no_hours_never_opens() -> None:
    assert Calendar.build(zone="Asia/Seoul", hours={}).next_opening(datetime(2026, 1, 1, tzinfo=UTC)) is None


def test_open_now_reads_the_clock() -> None:
    # Given the clock at Wednesday 10:00 in Berlin, then at Sunday 10:00
    with time_machine.travel(berlin(2026, 12, 2, 10, 0), tick=False):
        # Then the calendar is open, asked without a time
        assert SUPPORT.is_open()
    with time_machine.travel(berlin(2026, 12, 6, 10, 0), tick=False):
        assert not SUPPORT.is_open()


@pytest.mark.parametrize("text", ["17:00-09:00", "09:00-09:00"])
def test_an_interval_that_ends_before_it_starts_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="ends after it starts"):
        Interval.parse(text)


@settings(max_examples=150, deadline=None)
@given(at=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)))
def test_the_next_opening_is_open_and_nothing_before_it_is(at: datetime) -> None:
    # Given any moment over two years (DST changes, holidays, midnight-crossing hours and lunch breaks included)
    opens = SUPPORT.next_opening(at)
    # Then the next opening exists, is no earlier than the moment, and is open
    assert opens is not None and opens >= at
    assert SUPPORT.is_open(opens)
    # And no moment between them is open (every interval here is at least 30 minutes long and minute-aligned)
    probe = at
    while probe < opens:
        assert not SUPPORT.is_open(probe)
        probe += timedelta(minutes=10)
    if opens > at:
        assert not SUPPORT.is_open(opens - timedelta(seconds=1))
