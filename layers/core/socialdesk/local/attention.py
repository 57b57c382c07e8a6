"""What needs an operator's eye on the local stack: quarantined, deferred and dead-lettered events, each with its reason.

Quarantined and dead-lettered events are read from their queues (nothing consumes those locally)
and left there. Deferred events are copies waiting on the inbound queue with a delay SQS does not
let anyone read, so their reasons are recorded as the process function logs them (`event waiting`,
`event deferred`), until the same event is processed or dead-lettered; events parked in the store
until their message or ticket exists count as deferred too.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

import msgspec

from socialdesk.local.console import shown
from socialdesk.process.sqs_batch import FAILURE_REASON_ATTRIBUTE

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


class Reason(msgspec.Struct, kw_only=True):
    reason: str
    """What the events have in common: a reason's leading words, before its details."""
    count: int
    detail: str
    """The latest full reason of this kind."""


class Held(msgspec.Struct, kw_only=True):
    count: int
    reasons: list[Reason]


NO_FAILURE_REASON = "moved by SQS after the queue's maxReceiveCount receives: the function failed or timed out on it every time"


def quarantined(messages: Iterable[dict[str, Any]]) -> Held:
    """Quarantine-queue messages (ingest's documents, or pointers to items kept in the bucket) by reason."""
    reasons = []
    for message in messages:
        try:
            document = json.loads(message.get("Body", ""))
        except ValueError:
            document = None
        if not isinstance(document, dict):
            reasons.append(("unreadable quarantine message", "not the JSON document ingest writes"))
            continue
        reason = str(document.get("reason") or "no reason given")
        detail = reason
        if "key" in document:
            inner = f" ({document['item_reason']})" if document.get("item_reason") else ""
            detail = f"{reason}{inner}: {document.get('message_bytes')} bytes, kept in {document.get('bucket')}/{document['key']}"
        reasons.append((_leading(reason), f"{document.get('webhook', '?')}: {detail}"))
    return held(reasons)


def dead_lettered(messages: Iterable[dict[str, Any]]) -> Held:
    """Dead-letter-queue messages by the reason process gave them (none when SQS moved them itself)."""
    reasons = [
        str(message.get("MessageAttributes", {}).get(FAILURE_REASON_ATTRIBUTE, {}).get("StringValue") or NO_FAILURE_REASON) for message in messages
    ]
    return held((_leading(reason), reason) for reason in reasons)


def parked(items: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """Why each event parked in the store waits: for the message it belongs with, or for its conversation's ticket."""
    reasons = []
    for item in items:
        kind, _, name = str(item["pk"]).removeprefix("PARK#").partition("#")
        if kind == "MSG":
            reasons.append(("parked until the message it answers or changes arrives", f"waits for message {name}"))
        else:
            reasons.append(("parked until its conversation has a ticket", f"waits for a ticket on {name}"))
    return reasons


def held(reasons: Iterable[tuple[str, str]]) -> Held:
    """(label, detail) pairs grouped by label, the most frequent first, each with its latest detail."""
    counts: Counter[str] = Counter()
    latest: dict[str, str] = {}
    for label, detail in reasons:
        counts[label] += 1
        latest[label] = detail
    return Held(
        count=sum(counts.values()),
        reasons=[Reason(reason=shown(label), count=count, detail=shown(latest[label])) for label, count in counts.most_common()],
    )


def _leading(reason: str) -> str:
    """A reason's leading words, before its details (`Zendesk unavailable: HTTP 503` -> `Zendesk unavailable`)."""
    return reason.split(": ", 1)[0]


class DeferredEvents(logging.Handler):
    """The process function's log records of events retried later, kept until each is processed or dead-lettered."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self._reasons: dict[str, tuple[str, str]] = {}
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        event = record.__dict__.get("event")
        if not event:
            return
        message = record.getMessage()
        with self._guard:
            if message in ("event waiting", "event deferred"):
                reason, retry_in = str(record.__dict__.get("reason")), record.__dict__.get("retry_in")
                if message == "event waiting":
                    self._reasons[str(event)] = (f"waiting: {_leading(reason)}", f"{reason}; next try in {retry_in} s")
                else:
                    failures = record.__dict__.get("failures")
                    self._reasons[str(event)] = (
                        f"failed, tried again later: {_leading(reason)}",
                        f"{reason}; failure {failures}, next try in {retry_in} s",
                    )
            elif message in ("event processed", "event dead-lettered"):
                self._reasons.pop(str(event), None)

    def reasons(self) -> list[tuple[str, str]]:
        with self._guard:
            return list(self._reasons.values())

    def watch(self, function_logger: Any) -> Callable[[], None]:
        """Start recording from the functions' logger; the returned function stops it."""
        function_logger.addHandler(self)
        return lambda: function_logger.removeHandler(self)
