"""Live output of a local run: one line per thing that happened, with the time and how long it took.

Lines carry customer text (sandbox tickets, names) straight from webhooks, so every character
that could act on the terminal is shown as an escape instead: ESC sequences (clear screen,
window title, colours), CR and LF (which would forge extra output lines), other C0 and C1
controls, Unicode line separators and bidirectional overrides, and lone surrogates (which
cannot be encoded for the terminal at all).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

_lock = threading.Lock()
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` with every terminal-active or unencodable character written as a visible escape (`\\x1b`, `\\n`, `\\u202e`)."""
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def say(component: str, text: str, *, ms: float | None = None) -> None:
    stamp = datetime.now().strftime("%H:%M:%S.%f")[:-3]
    timing = f"  ({ms:.0f} ms)" if ms is not None else ""
    with _lock:
        print(f"{stamp}  {printable(component):<9} {printable(text)}{timing}", file=sys.stdout, flush=True)


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


def function_label(function: str) -> str:
    """The live output's label for a function's lines: `outbound` for the outbound function, `process` for the rest."""
    return "outbound" if function.lower().startswith("outbound") else "process"


# The function being invoked (the local runner invokes one at a time): its batch's worker threads log under its label.
_running = {"label": "process"}


def running(function: str) -> None:
    """Label the log lines that follow with `function`'s name, until another function is invoked."""
    _running["label"] = function_label(function)


class _FunctionLines(logging.Handler):
    """The functions' own log records as one readable line each: what each event did, and anything that went wrong."""

    def emit(self, record: logging.LogRecord) -> None:
        fields = record.__dict__
        message = record.getMessage()
        who = _running["label"]
        if message == "event processed":
            did = "already handled (duplicate delivery)" if fields.get("duplicate") else ", ".join(fields.get("actions") or []) or "nothing to do"
            ticket = f" → ticket #{fields['ticket']}" if fields.get("ticket") else ""
            say(who, f"{fields.get('conversation') or fields.get('event')}{ticket}: {did}")
        elif message == "event deferred":
            say(who, f"{fields.get('event')} deferred {fields.get('retry_in')} s (failure {fields.get('failures')}): {fields.get('reason')}")
        elif message == "event waiting":
            say(who, f"{fields.get('event')} waits {fields.get('retry_in')} s: {fields.get('reason')}")
        elif message.startswith("event dead-lettered"):
            say(who, f"{fields.get('event') or fields.get('message_id')} dead-lettered: {fields.get('reason')}")
        elif record.levelno >= logging.WARNING and not message.startswith("webhook refused"):  # the gateway line shows refusals
            say(record.levelname.lower(), message)
            for line in (record.exc_text or "").splitlines():  # a stack trace stays readable: one output line per line
                say(record.levelname.lower(), line)


def show_function_lines(function_logger: Any) -> Callable[[], None]:
    """Replace the functions' JSON log output (Powertools) with one line per event; the returned function puts it back."""
    json_handler, level, handler = function_logger.registered_handler, function_logger.log_level, _FunctionLines()
    function_logger.removeHandler(json_handler)
    function_logger.addHandler(handler)
    function_logger.setLevel("INFO")

    def stop() -> None:
        function_logger.removeHandler(handler)
        function_logger.addHandler(json_handler)
        function_logger.setLevel(level)

    return stop
