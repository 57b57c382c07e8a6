"""How processing failures are handed back: retry later through SQS, or give up to the dead-letter queue."""

from __future__ import annotations

import random
from collections.abc import Callable

# Waits grow from 1 minute to the 1-hour cap; with the queue's maxReceiveCount of 10 an event
# survives a helpdesk outage of about 4 hours before it is dead-lettered.
FIRST_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 3600


class RetryLaterError(Exception):
    """Stop for now; the message returns after `delay_seconds` (the queue's visibility timeout)."""

    def __init__(self, delay_seconds: int, reason: str) -> None:
        super().__init__(f"{reason} (retry in {delay_seconds} s)")
        self.delay_seconds = delay_seconds
        self.reason = reason


class PermanentFailureError(Exception):
    """Retrying the same message cannot succeed: dead-letter it now, with the reason."""


Jitter = Callable[[float], float]


def spread(seconds: float) -> float:
    """Up to 10 % extra, so messages that failed together do not all return at the same moment."""
    return random.uniform(0, seconds * 0.1)


def backoff(attempt: int, jitter: Jitter = spread) -> int:
    """Delay before receive number `attempt + 1` of a message that failed `attempt` times."""
    base = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempt - 1))
    return int(base + jitter(base))
