"""What ingest needs from the outside world, as interfaces the adapters implement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import msgspec

from socialdesk.ingest import json_body
from socialdesk.model import SocialEvent, encode_event


class SecretsUnavailableError(Exception):
    """The secret store could not be read; requests needing it fail closed."""


class SecretMissingError(SecretsUnavailableError):
    """The secret store answered but holds no value for a key we need."""

    def __init__(self, key: str) -> None:
        super().__init__(f"webhook secret has no value for {key!r}")
        self.key = key


# SendMessage's DelaySeconds tops out at 15 minutes.
MAX_DELAY_SECONDS = 900


class QueueUnavailableError(Exception):
    """At least one message could not be queued durably."""


class WebhookSecrets(Protocol):
    def values(self, key: str, *, refresh: bool = False) -> tuple[str, ...]:
        """Current then previous value of `key`; empty when the current value is unset or blank.

        `refresh=True` re-reads the store first (rate limited by the adapter), for a
        signature that matched no cached value because the secret just rotated.
        """
        ...


class BlobStoreUnavailableError(Exception):
    """An object could not be stored durably."""


class QueueMessage(msgspec.Struct, frozen=True, kw_only=True):
    body: str
    attributes: Mapping[str, str] = msgspec.field(default_factory=dict)

    @property
    def size_bytes(self) -> int:
        """What SQS counts against a queue's MaximumMessageSize: the body and each attribute's name, type and value."""
        return len(self.body.encode("utf-8")) + sum(len(name) + len("String") + len(value.encode("utf-8")) for name, value in self.attributes.items())


class MessageQueue(Protocol):
    def send_all(self, messages: Sequence[QueueMessage]) -> None:
        """Queue every message durably or raise QueueUnavailableError."""
        ...


def event_message(event: SocialEvent) -> QueueMessage:
    """One canonical event as the inbound queue carries it (from ingest, and again when parked events are released)."""
    return QueueMessage(
        body=json_body.sqs_safe(encode_event(event).decode("utf-8")),
        attributes={"platform": event.platform.value, "kind": event.kind.value, "schema_version": str(event.schema_version)},
    )


class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> str:
        """Store `data` under `key` durably (overwriting is harmless: keys name their content); returns the store's name
        (the bucket) or raises BlobStoreUnavailableError."""
        ...


def require(secrets: WebhookSecrets, key: str, *, refresh: bool = False) -> tuple[str, ...]:
    """`secrets.values`, failing closed when the key has no value."""
    found = secrets.values(key, refresh=refresh)
    if not found:
        raise SecretMissingError(key)
    return found
