"""Attacks on business-hours deadlines (issue 11): overlapping intervals, and DST changes of unusual zones.

The reference here is independent of calendars.py: a minute is open when its local wall-clock time (zoneinfo) falls
inside one of that weekday's intervals.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pydantic
from hypothesis import given, settings
from hypothesis import strategies as st

from socialdesk.acknowledge.policy import calendar_from
from socialdesk.calendars import Calendar
from socialdesk.rules import RulesConfig
from socialdesk.sla.business_time import deadline

BERLIN = ZoneInfo("Europe/Berlin")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _rules_calendar(hours: str) -> Calendar | None:
    """The calendar as the rules file gives it; None when the rules refuse it (a refusal is an acceptable answer)."""
    text = f"""
[zendesk]
subdomain = "acme"

[calendars.support]
zone = "Europe/Berlin"
hours = {{ {hours} }}
"""
    try:
        rules = RulesConfig.model_validate(tomllib.loads(text))
    except pydantic.ValidationError:
        return None
    return calendar_from(rules.calendars["support"])


def test_overlapping_intervals_in_one_day_do_not_make_a_deadline_come_early() -> None:
    """Given a rules file whose Monday lists overlapping intervals, 09:00-12:00 and 11:00-13:00 (open 09:00 to 13:00)
    When a message arrives on Monday 7 December 2026 at 11:00 Berlin with a 90-minute target
    Then either the rules file is refused, or the response is due at 12:30 (90 open minutes later), not earlier:
    an agent is never escalated before the target has really passed."""
    calendar = _rules_calendar('mon = ["09:00-12:00", "11:00-13:00"]')
    if calendar is None:
        return
    start = datetime(2026, 12, 7, 11, 0, tzinfo=BERLIN)
    assert deadline(calendar, start, timedelta(minutes=90)) == datetime(2026, 12, 7, 12, 30, tzinfo=BERLIN)


def test_an_interval_listed_twice_counts_its_open_time_once() -> None:
    """Given a rules file whose only open day, Monday, lists the same interval twice (a copy-paste: 09:00-17:00 twice)
    When a message arrives on Monday 7 December 2026 at 16:30 Berlin with a 60-minute target
    Then either the rules file is refused, or it is due the next Monday at 09:30 (30 open minutes that day, 30 the
    next open day), not at 17:00 the same day."""
    calendar = _rules_calendar('mon = ["09:00-17:00", "09:00-17:00"]')
    if calendar is None:
        return
    start = datetime(2026, 12, 7, 16, 30, tzinfo=BERLIN)
    assert deadline(calendar, start, timedelta(minutes=60)) == datetime(2026, 12, 14, 9, 30, tzinfo=BERLIN)


# Zones with unusual DST changes: Lord Howe moves 30 minutes at 02:00; Santiago changes at midnight (24:00 → 01:00 in
# September, 24:00 → 23:00 in April); Chatham is UTC+12:45/+13:45.
ODD_ZONES = ("Australia/Lord_Howe", "America/Santiago", "Pacific/Chatham")
ODD_HOURS = {"mon": ("09:00-17:00",), "sat": ("22:00-24:00",), "sun": ("00:00-03:00", "23:00-24:00"), "thu": ("01:00-03:00",)}


def _open_by_wall_clock(zone: ZoneInfo, at: datetime) -> bool:
    local = at.astimezone(zone)
    moment = local.time().replace(tzinfo=None)
    for text in ODD_HOURS.get(DAYS[local.weekday()], ()):
        start_text, _, end_text = text.partition("-")
        end = time.max if end_text == "24:00" else time.fromisoformat(end_text)
        if time.fromisoformat(start_text) <= moment < end:
            return True
    return False


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ODD_ZONES),
    start=st.datetimes(min_value=datetime(2026, 3, 25), max_value=datetime(2026, 4, 12), timezones=st.just(UTC))
    | st.datetimes(min_value=datetime(2026, 9, 1), max_value=datetime(2026, 10, 10), timezones=st.just(UTC)),
    minutes=st.integers(min_value=1, max_value=8 * 60),
)
def test_deadlines_in_zones_with_odd_dst_changes_count_exactly_the_open_wall_clock_minutes(zone: str, start: datetime, minutes: int) -> None:
    """Given a calendar in a zone whose DST change is at midnight, by 30 minutes, or at a quarter-hour offset
    (open Monday 09-17, Saturday night 22-24 into Sunday 00-03, Sunday 23-24, Thursday 01-03)
    When a message arrives at any minute around both changes with any target up to 8 hours
    Then the deadline is the instant when exactly that many minutes of local opening hours have passed, counted
    minute by minute on the wall clock."""
    start = start.replace(second=0, microsecond=0)
    calendar = Calendar.build(zone=zone, hours=ODD_HOURS)
    tz = ZoneInfo(zone)
    due = deadline(calendar, start, timedelta(minutes=minutes))
    assert due is not None
    counted, at = 0, start
    while counted < minutes:
        if _open_by_wall_clock(tz, at):
            counted += 1
        at += timedelta(minutes=1)
    assert due == at
