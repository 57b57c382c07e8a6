"""Each side of an event (Zendesk, Salesforce) runs even when the other failed, and both at once where they can: the
function is billed for the time it waits on both. What each side waits for from the other is the use case's to say
(process_event.ProcessEvent._sides: the Task waits for the Zendesk call that puts the words on a ticket)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from socialdesk.process.failures import PermanentFailureError, RetryLaterError, later

ALONGSIDE_THREAD = "socialdesk-alongside"
"""The name of the thread a side runs in beside the other (benchmarks tell the calls made in it by it)."""
Together = Callable[[Callable[[], None], Callable[[], None]], None]
"""How two sides are run when neither waits for the other: `side_by_side` in the function; tests may pass an order."""


class SideFailures:
    """What the sides raised: a permanent failure outranks a retry, the longest retry wins (process/failures.py: later).
    Anything else (a bug, the store down) is kept to be raised as it is, as if the side had run alone."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.permanent: PermanentFailureError | None = None
        self.retry: RetryLaterError | None = None
        self.unexpected: BaseException | None = None

    def run(self, side: Callable[[], None]) -> BaseException | None:
        """Run `side`, keeping what it raised (and returning it)."""
        try:
            side()
        except PermanentFailureError as exc:
            with self._lock:
                self.permanent = self.permanent or exc
            return exc
        except RetryLaterError as exc:
            with self._lock:
                self.retry = later(self.retry, exc)
            return exc
        except BaseException as exc:  # raised again by raise_unexpected, in the caller's thread
            with self._lock:
                self.unexpected = self.unexpected or exc
            return exc
        return None

    def raise_unexpected(self) -> None:
        if self.unexpected is not None:
            raise self.unexpected


def side_by_side(here: Callable[[], None], alongside: Callable[[], None]) -> None:
    """`alongside` in a thread of its own while `here` runs in this one; back when both are. Each catches its own
    failures (SideFailures.run), so neither ends the other."""
    thread = threading.Thread(target=alongside, name=ALONGSIDE_THREAD, daemon=True)
    thread.start()
    try:
        here()
    finally:
        thread.join()
