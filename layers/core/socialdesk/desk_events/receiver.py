"""Receive one Zendesk webhook: verify it, read it, hand its event to every sink once.

Answers (each refusal with its own status and log line, never the body, the signature or the secret; no oracle):
- 200 `handled` / `duplicate` / `ignored` (an event type no sink needs);
- 401 `invalid_signature` or `stale_timestamp` (more than 5 minutes off), 400 unreadable body, 413 too large,
  404/405 wrong route or method;
- 409 `busy` while another delivery of the same event is being handled, and 503 when the secret, the store or a sink
  failed: Zendesk retries both (developer.zendesk.com/documentation/webhooks/troubleshooting/: 409 and 5xx are retried),
  and sinks are idempotent on the event id, so a retry after a half-done delivery completes it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from socialdesk.desk.webhook_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, WEBHOOK_PATH, SignatureRefusedError, verify
from socialdesk.desk_events.parse import UnreadableEventError, parse_event
from socialdesk.http import HttpRequest, HttpResponse, UnreadableBodyError
from socialdesk.observability import MetricUnit, logger, metrics
from socialdesk.ports.secrets import Secrets, SecretsUnavailableError, require

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from socialdesk.model.desk_event import DeskEvent, DeskEventSink
    from socialdesk.ports.desk_events import DeskEventLedger

SIGNING_SECRET_KEY = "zendesk_webhook_signing_secret"
# Longer than the function's timeout (10 s): a delivery still running is never taken over; one that died is after this.
LEASE_SECONDS = 60


class DeskEventsWebhook:
    def __init__(
        self,
        *,
        secrets: Secrets,
        ledger: DeskEventLedger,
        sinks: Sequence[DeskEventSink],
        max_body_bytes: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._secrets = secrets
        self._ledger = ledger
        self._sinks = tuple(sinks)
        self._max_body_bytes = max_body_bytes
        self._clock = clock

    def handle(self, request: HttpRequest) -> HttpResponse:
        if request.path.rstrip("/") != WEBHOOK_PATH:
            return _refuse(404, "no_such_route", "desk webhook refused: unknown route")
        if request.method != "POST":
            return _refuse(405, "method_not_allowed", "desk webhook refused: method not allowed", headers={"allow": "POST"})
        if request.body_exceeds(self._max_body_bytes):
            return _refuse(413, "body_too_large", "desk webhook refused: body over the size limit", limit=self._max_body_bytes)
        try:
            body = request.raw_body()
            self._verify(request, body)
            event = parse_event(_json(body))
        except UnreadableBodyError as exc:
            return _refuse(400, "unreadable_body", "desk webhook refused: body does not decode", reason=str(exc))
        except SignatureRefusedError as exc:
            metrics.add_metric(name="DeskWebhookSignatureRejected", unit=MetricUnit.Count, value=1)
            return _refuse(401, exc.code, f"desk webhook refused: {exc.reason}", header_present=SIGNATURE_HEADER in request.headers)
        except SecretsUnavailableError as exc:
            logger.error("desk webhook refused: signing secret unavailable, failing closed", extra={"status": 503, "reason": str(exc)})
            return HttpResponse.json(503, {"error": "verification secret unavailable"})
        except UnreadableEventError as exc:
            return _refuse(400, "unreadable_event", "desk webhook refused: authenticated body is not a ticket event", reason=str(exc))
        if event is None:
            logger.info("desk webhook ignored: an event type no sink needs", extra={"status": 200})
            return HttpResponse.json(200, {"result": "ignored"})
        return self._deliver(event)

    def _verify(self, request: HttpRequest, body: bytes) -> None:
        """Against the cached secret, then once against a freshly read one (it was just rotated)."""
        headers = request.headers
        for refresh in (False, True):
            try:
                verify(
                    signature=headers.get(SIGNATURE_HEADER),
                    timestamp=headers.get(TIMESTAMP_HEADER),
                    body=body,
                    secrets=require(self._secrets, SIGNING_SECRET_KEY, refresh=refresh),
                    now=self._clock(),
                )
            except SignatureRefusedError as exc:
                if refresh or exc.code != "invalid_signature" or not headers.get(SIGNATURE_HEADER):
                    raise
                continue
            return

    def _deliver(self, event: DeskEvent) -> HttpResponse:
        context = {"desk_event": event.event_id, "kind": str(event.kind), "ticket": event.ticket_id}
        try:
            claim = self._ledger.claim_desk_event(event.event_id, now=self._clock(), lease_seconds=LEASE_SECONDS)
            if claim == "done":
                logger.info("desk event already handled (duplicate delivery)", extra={"status": 200, **context})
                return HttpResponse.json(200, {"result": "duplicate"})
            if claim == "busy":
                logger.info("desk event being handled by another delivery; Zendesk retries", extra={"status": 409, **context})
                return HttpResponse.json(409, {"error": "busy"})
            try:
                for sink in self._sinks:
                    sink.on_desk_event(event)
            except Exception:
                self._ledger.release_desk_event(event.event_id)
                raise
            self._ledger.finish_desk_event(event.event_id, now=self._clock())
        except Exception:  # a sink or the store failed: Zendesk retries, and every sink is idempotent
            metrics.add_metric(name="DeskEventFailed", unit=MetricUnit.Count, value=1)
            logger.exception("desk event not handled; Zendesk retries", extra={"status": 503, **context})
            return HttpResponse.json(503, {"error": "retry later"})
        metrics.add_metric(name="DeskEventsHandled", unit=MetricUnit.Count, value=1)
        logger.info("desk event handled", extra={"status": 200, **context})
        return HttpResponse.json(200, {"result": "handled"})


def _json(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError) as exc:  # nested too deep is as unreadable as any other bad JSON
        raise UnreadableEventError(f"not JSON: {str(exc)[:200]}") from None


def _refuse(status: int, code: str, message: str, headers: Mapping[str, str] | None = None, **context: Any) -> HttpResponse:
    metrics.add_metric(name="DeskWebhookRefused", unit=MetricUnit.Count, value=1)
    logger.warning(message, extra={"status": status, "error": code, **context})
    return HttpResponse.json(status, {"error": code}, headers=headers)
