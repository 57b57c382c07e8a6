"""In-memory stand-ins for ingest's ports, so unit tests need no AWS and no network."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from socialdesk.devtools.samples import TEST_SECRETS
from socialdesk.model import SocialEvent, decode_event
from socialdesk.ports.blobs import BlobStoreUnavailableError
from socialdesk.ports.queues import QueueMessage, QueueUnavailableError
from socialdesk.ports.secrets import SecretsUnavailableError

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass
class FakeSecrets:
    """Current and previous secret values per key; `after_refresh` is what a fresh read would return."""

    name: str = "webhook secret"
    current: dict[str, str] = field(default_factory=lambda: dict(TEST_SECRETS))
    previous: dict[str, str] = field(default_factory=dict)
    after_refresh: dict[str, str] | None = None
    unavailable: bool = False
    refreshes: int = 0

    def values(self, key: str, *, refresh: bool = False) -> tuple[str, ...]:
        if self.unavailable:
            raise SecretsUnavailableError("secret store unreachable")
        if refresh and self.after_refresh is not None:
            self.refreshes += 1
            self.previous, self.current, self.after_refresh = self.current, self.after_refresh, None
        current, previous = self.current.get(key), self.previous.get(key)
        if not current:
            return ()
        return (current,) if previous in (None, "", current) else (current, previous)


@dataclass
class FakeQueue:
    messages: list[QueueMessage] = field(default_factory=list)
    failing: bool = False

    def send_all(self, messages: Sequence[QueueMessage]) -> None:
        if self.failing and messages:
            raise QueueUnavailableError("1 of 1 messages not queued: ['InternalError']")
        self.messages.extend(messages)

    @property
    def events(self) -> list[SocialEvent]:
        return [decode_event(message.body) for message in self.messages]


@dataclass
class FakeBlobStore:
    bucket: str = "quarantine-bucket"
    objects: dict[str, bytes] = field(default_factory=dict)
    failing: bool = False

    def put(self, key: str, data: bytes) -> str:
        if self.failing:
            raise BlobStoreUnavailableError("PutObject failed: InternalError")
        self.objects[key] = data
        return self.bucket
