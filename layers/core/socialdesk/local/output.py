"""Live output of a local run: one line per thing that happened, with the time and how long it took."""

from __future__ import annotations

import logging
import sys
import threading
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

_lock = threading.Lock()


def say(component: str, text: str, *, ms: float | None = None) -> None:
    stamp = datetime.now().strftime("%H:%M:%S.%f")[:-3]
    timing = f"  ({ms:.0f} ms)" if ms is not None else ""
    with _lock:
        print(f"{stamp}  {component:<9} {text}{timing}", file=sys.stdout, flush=True)


class _SandboxLines(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        say("sandbox", record.getMessage())


def show_sandbox_lines() -> Callable[[], None]:
    """Print what the sandbox helpdesk and CRM do (their lines name them as sandboxes); the returned function stops it."""
    sandbox = logging.getLogger("socialdesk.sandbox")
    level, propagate, handler = sandbox.level, sandbox.propagate, _SandboxLines()
    sandbox.setLevel(logging.INFO)
    sandbox.propagate = False
    sandbox.addHandler(handler)

    def stop() -> None:
        sandbox.removeHandler(handler)
        sandbox.setLevel(level)
        sandbox.propagate = propagate

    return stop
