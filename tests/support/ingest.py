"""The ingest use case wired to in-memory ports, as the unit tests drive it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from socialdesk.ingest.webhook_ingest import WebhookIngest
from socialdesk.observability import metrics
from socialdesk.platforms.meta import MetaWebhook
from socialdesk.platforms.x import XWebhook
from tests.support.fakes import FakeBlobStore, FakeQueue, FakeSecrets
from tests.support.webhooks import request

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from socialdesk.http import HttpResponse

MAX_BODY = 64 * 1024
# Smaller than SQS's so tests reach it with modest bodies.
MAX_MESSAGE = 8 * 1024


class Harness:
    def __init__(
        self, secrets: FakeSecrets | None = None, *, max_message_bytes: int = MAX_MESSAGE, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.secrets = secrets or FakeSecrets()
        self.events = FakeQueue()
        self.quarantine = FakeQueue()
        self.bucket = FakeBlobStore()
        self.ingest = WebhookIngest(
            platforms=(XWebhook(), MetaWebhook()),
            secrets=self.secrets,
            events=self.events,
            quarantine=self.quarantine,
            oversize=self.bucket,
            max_message_bytes=max_message_bytes,
            max_body_bytes=MAX_BODY,
            **({} if clock is None else {"clock": clock}),
        )

    def send(self, event: dict[str, Any]) -> HttpResponse:
        try:
            return self.ingest.handle(request(event))
        finally:
            metrics.clear_metrics()  # what the handler's per-invocation flush does in Lambda
