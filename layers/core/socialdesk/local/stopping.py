"""Stopping a local stack on SIGINT or SIGTERM, whoever sends it and whatever the parent left behind.

A shell starts a background job (`socialdesk local &`, a CI step, a script) with SIGINT ignored, and
Python then never raises KeyboardInterrupt: Ctrl+C and `kill -INT` would do nothing, and only
SIGKILL (no clean-up) would stop the stack. So both signals get a handler of their own while a
command runs, from the first line of `socialdesk.cli.main` (before the runner's imports, which take
seconds, so a signal sent while the stack starts is not lost), and the previous ones come back afterwards.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(BaseException):
    """SIGINT or SIGTERM arrived. A BaseException, like KeyboardInterrupt, so no `except Exception` on the way swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signal = signal.Signals(signum)

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports a process ended by it (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + int(self.signal)


# The stop signal received while stop_on_signals() is in effect (it runs in the main thread only, one at a time).
_received: list[signal.Signals] = []


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Raise Stopped in the main thread at the first SIGINT or SIGTERM; later ones are ignored while it shuts down."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}

    def stop(signum: int, frame: FrameType | None) -> None:
        if not _received:  # a second Ctrl+C while the stack shuts down must not interrupt its clean-up
            _received.append(signal.Signals(signum))
            raise Stopped(signum)

    _received.clear()
    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)  # None: set outside Python
        _received.clear()


def raise_if_stopped() -> None:
    """Raise Stopped if a stop signal has arrived, in case the Stopped its handler raised was lost on the way.

    A handler's exception is raised wherever the main thread happens to be, and CPython loses one now and then inside
    C code: compiling a module while it is imported from source (as `socialdesk local` does at start-up) can drop it.
    The command would then run on, deaf to further signals; calling this where a command settles (the stack up, before
    it waits) stops it all the same.
    """
    if _received:
        raise Stopped(_received[0])
