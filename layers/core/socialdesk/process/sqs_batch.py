"""Drive the process use case over an SQS batch, reporting partial failures.

Powertools' BatchProcessor runs each record; this module decides what a failure means:
- retry later: the message's visibility is set to the wait (a 429's Retry-After, a
  backoff for an outage) and it is reported failed, so SQS returns it then;
- permanent (a 400/422, an undecodable body): the message goes to the dead-letter
  queue at once with its reason and is reported done, so it is never retried blindly;
- a bug (anything unexpected): retried with backoff, and dead-lettered by SQS after
  maxReceiveCount.
Nothing waits inside the function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import msgspec
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from socialdesk.ingest.ports import QueueMessage
from socialdesk.model import decode_event
from socialdesk.observability import MetricUnit, logger, metrics
from socialdesk.privacy import log_key, log_text
from socialdesk.process.failures import PermanentFailureError, RetryLaterError, backoff

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from socialdesk.process.process_event import ProcessEvent

# A record is not started with less time than this left: its calls could be cut off half-way.
MIN_REMAINING_MILLIS = 15_000
NOT_STARTED_RETRY_SECONDS = 5
FAILURE_REASON_ATTRIBUTE = "socialdesk_failure"


class Redelivery(Protocol):
    def retry_after(self, receipt_handle: str, seconds: int) -> None:
        """Make the message visible again after `seconds`."""
        ...

    def dead_letter(self, message: QueueMessage) -> None:
        """Put a copy of the message on the dead-letter queue."""
        ...


class _NotStartedError(Exception):
    """Too little time left in this invocation to start the record safely."""


class SqsBatch:
    def __init__(self, *, process: ProcessEvent, redelivery: Redelivery) -> None:
        self._process = process
        self._redelivery = redelivery

    def run(self, event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(event.get("Records", [])))
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return process_partial_response(
            event=event, record_handler=lambda record: self._record(record, context), processor=processor, context=context
        )

    def _record(self, record: SQSRecord, context: LambdaContext) -> None:
        if context.get_remaining_time_in_millis() < MIN_REMAINING_MILLIS:
            self._redelivery.retry_after(record.receipt_handle, NOT_STARTED_RETRY_SECONDS)
            raise _NotStartedError(record.message_id)
        attempt = int(record.attributes.approximate_receive_count or 1)
        try:
            social_event = decode_event(record.body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            self._dead_letter(record, f"not a canonical event: {exc}")
            return
        try:
            outcome = self._process.handle(social_event, delivery_id=record.message_id, attempt=attempt)
        except RetryLaterError as exc:
            metrics.add_metric(name="EventsDeferred", unit=MetricUnit.Count, value=1)
            logger.warning(
                "event deferred",
                extra={"event": log_key(social_event.dedupe_key), "attempt": attempt, "retry_in": exc.delay_seconds, "reason": log_text(exc.reason)},
            )
            self._redelivery.retry_after(record.receipt_handle, exc.delay_seconds)
            raise
        except PermanentFailureError as exc:
            self._dead_letter(record, str(exc), event_key=social_event.dedupe_key)
            return
        except Exception:
            logger.exception(
                "event failed unexpectedly; retrying with backoff", extra={"event": log_key(social_event.dedupe_key), "attempt": attempt}
            )
            self._redelivery.retry_after(record.receipt_handle, backoff(attempt))
            raise
        if outcome.duplicate:
            metrics.add_metric(name="EventsDuplicate", unit=MetricUnit.Count, value=1)
        for action in outcome.actions:
            metrics.add_metric(name=_metric_name(action), unit=MetricUnit.Count, value=1)
        logger.info(
            "event processed",
            extra={
                "event": log_key(outcome.event_key),
                "conversation": log_key(outcome.conversation_key),
                "ticket": outcome.ticket_id,
                "duplicate": outcome.duplicate,
                "actions": outcome.actions,
                "attempt": attempt,
            },
        )

    def _dead_letter(self, record: SQSRecord, reason: str, *, event_key: str | None = None) -> None:
        attributes = {name: value.string_value for name, value in record.message_attributes.items() if value.string_value is not None}
        self._redelivery.dead_letter(QueueMessage(body=record.body, attributes={**attributes, FAILURE_REASON_ATTRIBUTE: reason[:1000]}))
        metrics.add_metric(name="EventsDeadLettered", unit=MetricUnit.Count, value=1)
        logger.error(
            "event dead-lettered: retrying cannot help",
            extra={"event": log_key(event_key), "message_id": record.message_id, "reason": log_text(reason[:500])},
        )


def _metric_name(action: str) -> str:
    """`ticket_created` -> `TicketCreated`."""
    return "".join(part.capitalize() for part in action.split("_"))
