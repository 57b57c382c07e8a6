"""Business-time arithmetic on a calendar: a deadline is the start plus the target counted in open hours only.

Spans are UTC instants (calendars.py turns each local day's wall-clock intervals into them), so a day that loses or
gains an hour at a DST change counts the hours it really has open, and midnight, weekends and holidays are just gaps.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

    from socialdesk.calendars import Calendar

# Past any run of closed days a real calendar has (calendars.py searches as far for the next opening).
_SEARCH_DAYS = 400


def deadline(calendar: Calendar, start: datetime, target: timedelta) -> datetime | None:
    """The instant `target` of open time after `start` (a start outside hours counts from the next opening); None if never open."""
    if calendar.always_open:
        return start + target
    remaining = target
    for span_start, span_end in _spans_after(calendar, start):
        begin = max(span_start, start)
        available = span_end - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    return None


def open_time_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """The open time within [start, end): how much of a target has been used up."""
    if end <= start:
        return timedelta(0)
    if calendar.always_open:
        return end - start
    total = timedelta(0)
    for span_start, span_end in _spans_after(calendar, start):
        if span_start >= end:
            break
        total += min(span_end, end) - max(span_start, start)
    return total


def _spans_after(calendar: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Every open span ending after `start`, in order (from the local day before, for a span crossing midnight)."""
    day = start.astimezone(calendar.tz).date() - timedelta(days=1)
    for _ in range(_SEARCH_DAYS):
        for span in calendar.open_spans(day):
            if span[1] > start:
                yield span
        day += timedelta(days=1)
