"""Queue messages and the queue port: what ingest sends, what process re-queues and releases.

SQS accepts no U+FFFE or U+FFFF (nor surrogates) in a message (botocore's SQS model,
SendMessage: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF); `sqs_safe` writes them as
JSON escapes, which decode to the same text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Protocol

import msgspec

from socialdesk.model import SocialEvent, encode_event

# SendMessage's DelaySeconds tops out at 15 minutes.
MAX_DELAY_SECONDS = 900
# Room a queued event leaves below the queue's MaximumMessageSize for what a wait or a dead-lettering adds to its copy
# (the retry state, or a failure reason of up to 1,000 characters): ingest stores larger events in the bucket instead.
RETRY_HEADROOM_BYTES = 2048

_SQS_REFUSED = re.compile("[\ufffe\uffff]")


class QueueUnavailableError(Exception):
    """At least one message could not be queued durably."""


class QueueMessage(msgspec.Struct, frozen=True, kw_only=True):
    body: str
    attributes: Mapping[str, str] = msgspec.field(default_factory=dict)
    delay_seconds: int = 0
    """SQS DelaySeconds: the message stays invisible this long after it is queued (at most MAX_DELAY_SECONDS)."""

    @property
    def size_bytes(self) -> int:
        """What SQS counts against a queue's MaximumMessageSize: the body and each attribute's name, type and value."""
        return len(self.body.encode("utf-8")) + sum(len(name) + len("String") + len(value.encode("utf-8")) for name, value in self.attributes.items())


class MessageQueue(Protocol):
    def send_all(self, messages: Sequence[QueueMessage]) -> None:
        """Queue every message durably or raise QueueUnavailableError."""
        ...


def sqs_safe(text: str) -> str:
    """JSON text with the characters SQS refuses written as `\\uXXXX` escapes (same JSON value)."""
    return _SQS_REFUSED.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def event_message(event: SocialEvent) -> QueueMessage:
    """One canonical event as the inbound queue carries it (from ingest, and again when parked events are released)."""
    return QueueMessage(
        body=sqs_safe(encode_event(event).decode("utf-8")),
        attributes={"platform": event.platform.value, "kind": event.kind.value, "schema_version": str(event.schema_version)},
    )
