"""How processing failures are handed back: wait, retry after a failure, or give up to the dead-letter queue.

Waiting is not failing (architecture principle 7): a rate limit, another message's claim
or a spent API allocation delays an event without bringing it closer to the dead-letter
queue. Only real failures (an outage, a timeout, a bug) are counted.
"""

from __future__ import annotations

import random
from collections.abc import Callable

# Waits after real failures grow from 1 minute to the 1-hour cap; after MAX_FAILURES of them
# (about 4 hours of a helpdesk outage) the event is dead-lettered.
FIRST_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 3600
MAX_FAILURES = 10


class RetryLaterError(Exception):
    """A real failure (outage, timeout): try again after `delay_seconds`; it counts towards dead-lettering."""

    counts_as_failure = True

    def __init__(self, delay_seconds: int, reason: str) -> None:
        super().__init__(f"{reason} (retry in {delay_seconds} s)")
        self.delay_seconds = delay_seconds
        self.reason = reason


class WaitError(RetryLaterError):
    """Not a failure: something this event depends on is busy or rationed; try again after `delay_seconds`."""

    counts_as_failure = False


class PermanentFailureError(Exception):
    """Retrying the same message cannot succeed: dead-letter it now, with the reason."""


Jitter = Callable[[float], float]


def spread(seconds: float) -> float:
    """Up to 10 % extra, so messages that failed together do not all return at the same moment."""
    return random.uniform(0, seconds * 0.1)


def backoff(failures: int, jitter: Jitter = spread) -> int:
    """Delay before the next try of an event that has failed `failures` times."""
    base = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, failures - 1))
    return int(base + jitter(base))


def later(first: RetryLaterError | None, second: RetryLaterError) -> RetryLaterError:
    """Combine the two sides' retries: a real failure outranks a wait, then the longer delay wins."""
    if first is None:
        return second
    return max(first, second, key=lambda exc: (exc.counts_as_failure, exc.delay_seconds))
