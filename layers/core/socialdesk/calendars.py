"""Business-hours calendars: "open now?" and "when do we open next?", for acknowledgements now and the SLA engine next.

Pure: a calendar is a time zone (IANA, through zoneinfo), opening intervals per weekday (several a day), closed dates (a
country's public holidays from the maintained `holidays` package, plus explicit dates), or round the clock. Intervals are
local wall-clock times: 09:00-17:00 stays 09:00-17:00 across both DST changes. An interval may end at 24:00, and a day
ending at 24:00 followed by one opening at 00:00 is one stretch across midnight. A local time that does not exist (the
hour skipped in spring) falls at its later reading; one that happens twice (autumn) opens at the first.

The `holidays` import (~0.2 s) and each country-year's table are taken lazily, once per container, only by a calendar
that names a country.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Far enough to pass any run of holidays and closed weekdays; a calendar never open has no next opening.
_SEARCH_DAYS = 400


@dataclass(frozen=True)
class Interval:
    """Open from `start` to `end` (local wall clock); `end` None means midnight at the end of the day (24:00)."""

    start: time
    end: time | None

    @classmethod
    def parse(cls, text: str) -> Interval:
        """`09:00-17:30`; `00:00-24:00` is the whole day."""
        start_text, _, end_text = text.partition("-")
        start = time.fromisoformat(start_text.strip())
        end = None if end_text.strip() == "24:00" else time.fromisoformat(end_text.strip())
        if end is not None and end <= start:
            raise ValueError(f"{text!r}: an interval ends after it starts (use 24:00 for midnight, and the next day for the rest)")
        return cls(start, end)


@dataclass(frozen=True)
class Calendar:
    """One business calendar. `always_open`: 24/7 (no hours, no holidays)."""

    zone: str = "UTC"
    hours: Mapping[int, tuple[Interval, ...]] = field(default_factory=dict)
    """Weekday (0 = Monday) → its opening intervals, in any order."""
    country: str | None = None
    subdivision: str | None = None
    closed_dates: frozenset[date] = frozenset()
    always_open: bool = False

    @classmethod
    def build(
        cls,
        *,
        zone: str,
        hours: Mapping[Any, Iterable[str]],
        country: str | None = None,
        subdivision: str | None = None,
        closed_dates: Iterable[date] = (),
        always_open: bool = False,
    ) -> Calendar:
        """From the rules file's words: `{"mon": ["09:00-12:00", "13:00-18:00"], ...}`."""
        ZoneInfo(zone)  # an unknown zone fails here, not at the first message
        by_day = {
            WEEKDAYS.index(day): tuple(sorted((Interval.parse(text) for text in texts), key=lambda interval: interval.start))
            for day, texts in hours.items()
        }
        return cls(zone=zone, hours=by_day, country=country, subdivision=subdivision, closed_dates=frozenset(closed_dates), always_open=always_open)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def is_holiday(self, day: date) -> bool:
        return day in self.closed_dates or (self.country is not None and day in _holidays(self.country, self.subdivision, day.year))

    def is_open(self, at: datetime | None = None) -> bool:
        """Open at `at` (now when not given)."""
        at = at or datetime.now(UTC)
        if self.always_open:
            return True
        return any(start <= at < end for start, end in self._day_spans(at.astimezone(self.tz).date()))

    def next_opening(self, at: datetime) -> datetime | None:
        """`at` itself when open, else the first instant after it that is open (UTC); None for a calendar never open."""
        if self.always_open or self.is_open(at):
            return at
        day = at.astimezone(self.tz).date() - timedelta(days=1)
        for _ in range(_SEARCH_DAYS):
            for start, end in self._day_spans(day):
                if end > at and start > at:
                    return start
            day += timedelta(days=1)
        return None

    def open_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The local day's open spans as UTC instants, in order (empty on a holiday): what business-time arithmetic walks."""
        return self._day_spans(day)

    def _day_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's open spans as UTC instants (empty on a holiday)."""
        if self.is_holiday(day):
            return []
        tz = self.tz
        spans = [span for interval in self.hours.get(day.weekday(), ()) for span in _wall_spans(day, interval, tz)]
        return _merged(spans)


ALWAYS_OPEN = Calendar(always_open=True)


def _merged(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Overlapping or repeated intervals (09:00-12:00 and 11:00-13:00, a line pasted twice) as one span each: open time
    is counted once, so a deadline never comes early."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _start(interval: Interval) -> time:
    return interval.start


def _wall_spans(day: date, interval: Interval, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The interval's UTC spans on `day`: from its start (a skipped time: after the jump) to its end's first reading (a
    skipped end: the jump) and,
    when the clocks go back over its end, again while the wall clock reads the interval the second time (00:00-03:00 on
    a night that repeats 02:45-03:45 is also open for the second 02:45-03:00: the minutes the wall clock says open)."""
    begin = datetime.combine(day, interval.start)
    end = datetime.combine(day + timedelta(days=1), time()) if interval.end is None else datetime.combine(day, interval.end)
    start, stop = _instant(begin, tz), _end_instant(end, tz)
    spans = [(start, stop)] if stop > start else []
    again = end.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if again > stop:  # the end's wall time comes twice: open from the change back until its second reading
        spans.append((max(_offset_change(tz, stop, again), begin.replace(tzinfo=tz, fold=1).astimezone(UTC)), again))
    return spans


def _offset_change(tz: ZoneInfo, low: datetime, high: datetime) -> datetime:
    """The first whole second in (low, high] with the zone's offset at `high` (one change within them)."""
    offset, first, last = high.astimezone(tz).utcoffset(), int(low.timestamp()), int(high.timestamp())
    while last - first > 1:
        middle = (first + last) // 2
        first, last = (first, middle) if datetime.fromtimestamp(middle, UTC).astimezone(tz).utcoffset() == offset else (middle, last)
    return datetime.fromtimestamp(last, UTC)


def _end_instant(local: datetime, tz: ZoneInfo) -> datetime:
    """When an interval ending at wall time `local` closes: its first reading, or for a skipped end the jump itself (the
    wall clock reads past the end from then on)."""
    first, second = (local.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1))
    if first.astimezone(tz).replace(tzinfo=None) != local:
        return _offset_change(tz, min(first, second), max(first, second))
    return first


def _instant(local: datetime, tz: ZoneInfo) -> datetime:
    """A local wall-clock time as a UTC instant: a skipped time reads as after the jump, a repeated one as its first time."""
    aware = local.replace(tzinfo=tz, fold=0)
    utc = aware.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != local:  # in the gap: fold=1 gives the reading after the jump
        utc = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
        utc = max(utc, aware.astimezone(UTC))
    return utc


@functools.cache
def _holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year).keys())
