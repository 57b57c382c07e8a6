"""Live output of a local run: one line per thing that happened, with the time and how long it took."""

from __future__ import annotations

import logging
import sys
import threading
from datetime import datetime

_lock = threading.Lock()


def say(component: str, text: str, *, ms: float | None = None) -> None:
    stamp = datetime.now().strftime("%H:%M:%S.%f")[:-3]
    timing = f"  ({ms:.0f} ms)" if ms is not None else ""
    with _lock:
        print(f"{stamp}  {component:<9} {text}{timing}", file=sys.stdout, flush=True)


class _SandboxLines(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        say("sandbox", record.getMessage())


def show_sandbox_lines() -> None:
    """Print what the sandbox helpdesk and CRM do (their lines name them as sandboxes)."""
    sandbox = logging.getLogger("socialdesk.sandbox")
    sandbox.setLevel(logging.INFO)
    sandbox.propagate = False
    if not any(isinstance(handler, _SandboxLines) for handler in sandbox.handlers):
        sandbox.addHandler(_SandboxLines())
