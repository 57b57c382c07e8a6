"""Receive one platform webhook: verify it, normalise it, queue one message per event.

This is the platforms' acknowledgement path. It calls no helpdesk, CRM or platform
API, answers 2xx only once every event of the request is durably queued, and gives
every refusal its own status code and a log line that says why (never the body or a
secret).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import msgspec

from socialdesk.http import HttpRequest, HttpResponse, UnreadableBodyError
from socialdesk.ingest import json_body
from socialdesk.ingest.oversize import fit
from socialdesk.observability import MetricUnit, logger, metrics
from socialdesk.platforms.signing import matches_any
from socialdesk.platforms.webhook import ChallengeRefusedError
from socialdesk.ports.blobs import BlobStore, BlobStoreUnavailableError
from socialdesk.ports.queues import MessageQueue, QueueMessage, QueueUnavailableError, event_message, sqs_safe
from socialdesk.ports.secrets import Secrets, SecretsUnavailableError, require

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from socialdesk.platforms.batch import NormalisedBatch, Unreadable
    from socialdesk.platforms.webhook import PlatformWebhook

ALLOWED_METHODS = "GET, POST"

# Platforms sign only the body, so a captured delivery verifies for ever. Older events are replays: the longest genuine
# redelivery is WhatsApp's 7 days (docs.360dialog.com/partner/messaging/receiving-messages-via-webhook; Meta's Graph retries 36 hours,
# developers.facebook.com/docs/graph-api/webhooks/getting-started; X's replay API 5 days, docs.x.com x-api/account-activity).
# Kept below the event record's 30 days (store.dynamodb.EVENT_RETENTION) less the inbound queue's retention, so an
# accepted replay always meets the record of the original (tests/unit/test_replay_window.py).
MAX_EVENT_AGE = timedelta(days=8)


class WebhookIngest:
    def __init__(
        self,
        *,
        platforms: Sequence[PlatformWebhook],
        secrets: Secrets,
        events: MessageQueue,
        quarantine: MessageQueue,
        oversize: BlobStore,
        max_message_bytes: int,
        max_body_bytes: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._routes = {platform.path: platform for platform in platforms}
        self._secrets = secrets
        self._events = events
        self._quarantine = quarantine
        self._oversize = oversize
        self._max_message_bytes = max_message_bytes
        self._max_body_bytes = max_body_bytes
        self._clock = clock

    def handle(self, request: HttpRequest) -> HttpResponse:
        platform = self._routes.get(request.path.rstrip("/"))
        if platform is None:
            return _refuse(404, "no_such_route", "webhook refused: unknown route", method=request.method)
        metrics.add_dimension(name="platform", value=platform.name)
        try:
            if request.method == "GET":
                metrics.add_metric(name="WebhookChallenges", unit=MetricUnit.Count, value=1)
                return platform.answer_challenge(request.query, require(self._secrets, platform.challenge_secret_key))
            if request.method == "POST":
                return self._receive(platform, request)
        except ChallengeRefusedError as exc:
            return _refuse(exc.status, exc.code, f"webhook refused: {exc.reason}")
        except SecretsUnavailableError as exc:
            metrics.add_metric(name="WebhookSecretUnavailable", unit=MetricUnit.Count, value=1)
            logger.error("webhook refused: verification secret unavailable, failing closed", extra={"status": 503, "reason": str(exc)})
            return HttpResponse.json(503, {"error": "verification secret unavailable"})
        return _refuse(405, "method_not_allowed", "webhook refused: method not allowed", headers={"allow": ALLOWED_METHODS}, method=request.method)

    def _receive(self, platform: PlatformWebhook, request: HttpRequest) -> HttpResponse:
        if request.body_exceeds(self._max_body_bytes):
            return _refuse(413, "body_too_large", "webhook refused: body over the size limit", limit=self._max_body_bytes)
        try:
            body = request.raw_body()
        except UnreadableBodyError as exc:
            return _refuse(400, "unreadable_body", "webhook refused: body does not decode", reason=str(exc))
        if not self._signed(platform, request.headers.get(platform.signature_header), body):
            metrics.add_metric(name="WebhookSignatureRejected", unit=MetricUnit.Count, value=1)
            return _refuse(
                401,
                "invalid_signature",
                "webhook refused: signature missing or matches no current or previous secret",
                header_present=platform.signature_header in request.headers,
            )
        try:
            payload = json_body.decode(body)
        except json_body.MalformedBodyError as exc:
            return _refuse(400, "malformed_json", "webhook refused: authenticated body is not valid JSON", reason=str(exc))
        if not isinstance(payload, dict):
            return _refuse(400, "malformed_json", "webhook refused: authenticated body is not a JSON object", json_type=type(payload).__name__)
        received_at = self._clock()
        batch = platform.normalise(payload, received_at)
        batch.set_aside_older_than(received_at - MAX_EVENT_AGE)
        try:
            oversize_events, stored = self._enqueue(platform.name, batch, received_at)
        except (QueueUnavailableError, BlobStoreUnavailableError) as exc:
            metrics.add_metric(name="WebhookEnqueueFailed", unit=MetricUnit.Count, value=1)
            logger.error("webhook not acknowledged: queueing failed, the platform will redeliver", extra={"status": 503, "reason": str(exc)})
            return HttpResponse.json(503, {"error": "could not queue events, retry later"})
        return _accepted(batch, oversize_events=oversize_events, stored=stored, body_bytes=len(body))

    def _enqueue(self, webhook: str, batch: NormalisedBatch, received_at: datetime) -> tuple[int, int]:
        """Queue every event and quarantined item; those over an SQS message go to the bucket, with a pointer.

        Returns how many events, and how many items in all, went to the bucket.
        """
        fitting = partial(fit, webhook=webhook, received_at=received_at, limit=self._max_message_bytes, store=self._oversize)
        events = fitting([event_message(event) for event in batch.events], kind="event")
        kept = fitting(
            [_quarantine_message(webhook, item, received_at) for item in batch.unreadable],
            kind="quarantine",
            reasons=[item.reason for item in batch.unreadable],
        )
        self._events.send_all(events.messages)
        self._quarantine.send_all([*kept.messages, *events.pointers, *kept.pointers])
        return len(events.pointers), len(events.pointers) + len(kept.pointers)

    def _signed(self, platform: PlatformWebhook, presented: str | None, body: bytes) -> bool:
        """Check against the cached secrets, then once against freshly read ones (a rotation just happened)."""
        if not presented:
            return False
        for refresh in (False, True):
            secrets = require(self._secrets, platform.signing_secret_key, refresh=refresh)
            if matches_any(presented, platform.signatures(body, secrets)):
                return True
        return False


def _accepted(batch: NormalisedBatch, *, oversize_events: int, stored: int, body_bytes: int) -> HttpResponse:
    """`stored` items went to the quarantine bucket; the `oversize_events` among them count as quarantined, not queued."""
    queued, ignored = len(batch.events) - oversize_events, sum(batch.ignored.values())
    quarantined = len(batch.unreadable) + oversize_events
    metrics.add_metric(name="EventsQueued", unit=MetricUnit.Count, value=queued)
    if ignored:  # a zero adds nothing to a Sum, and ~60 B to every request's metrics line
        metrics.add_metric(name="EventsIgnored", unit=MetricUnit.Count, value=ignored)
    if quarantined:
        metrics.add_metric(name="EventsQuarantined", unit=MetricUnit.Count, value=quarantined)
        logger.warning(
            "webhook items quarantined: their shape could not be read, they are larger than an SQS message, or they are replays older than 8 days",
            extra={"quarantined": quarantined, "stored_in_bucket": stored, "reasons": [item.reason.split(":")[0] for item in batch.unreadable]},
        )
    # Counts of nothing are left out (observability.py says why bytes count): no `ignored` or `quarantined` means none.
    counts = {"ignored": dict(batch.ignored), "quarantined": quarantined}
    logger.info("webhook accepted", extra={"status": 200, "queued": queued, **{name: n for name, n in counts.items() if n}, "body_bytes": body_bytes})
    return HttpResponse.json(200, {"queued": queued, "ignored": ignored, "quarantined": quarantined})


def _refuse(status: int, code: str, message: str, headers: Mapping[str, str] | None = None, **context: Any) -> HttpResponse:
    metrics.add_metric(name="WebhookRefused", unit=MetricUnit.Count, value=1)
    logger.warning(message, extra={"status": status, "error": code, **context})
    return HttpResponse.json(status, {"error": code}, headers=headers)


def _quarantine_message(platform: str, unreadable: Unreadable, received_at: datetime) -> QueueMessage:
    document = {"webhook": platform, "reason": unreadable.reason, "received_at": received_at.isoformat(), "item": unreadable.item}
    return QueueMessage(body=sqs_safe(msgspec.json.encode(document).decode("utf-8")), attributes={"webhook": platform})
