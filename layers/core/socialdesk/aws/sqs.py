"""SQS behind the ports: batched sends with partial failures retried once, and redelivery control for consumers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from socialdesk.model.outbound import encode_job
from socialdesk.ports.queues import MAX_DELAY_SECONDS, QueueMessage, QueueUnavailableError, sqs_safe

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

    from socialdesk.model.outbound import OutboundJob

MAX_BATCH_ENTRIES = 10
# The MaximumMessageSize infra/template.yaml sets on every queue (the reasons are there; a test keeps the two
# equal). SQS itself now allows 1 MiB per message (botocore's SQS model, SetQueueAttributes).
MAX_MESSAGE_BYTES = 256 * 1024
# SendMessageBatch caps the whole request at 1 MiB (botocore's SQS model, SendMessageBatch); leave headroom.
MAX_BATCH_BYTES = 1000 * 1024


class SqsQueue:
    def __init__(self, queue_url: str, client: Callable[[], SQSClient]) -> None:
        self._queue_url = queue_url
        self._client = client

    def send_all(self, messages: Sequence[QueueMessage]) -> None:
        for chunk in _chunks(messages):
            entries = [_entry(str(index), message) for index, message in enumerate(chunk)]
            failed = self._send(entries)
            if failed:
                # One retry of just the failed entries (SQS reports them per entry, not as an exception).
                failed = self._send([entry for entry in entries if entry["Id"] in failed])
            if failed:
                raise QueueUnavailableError(f"{len(failed)} of {len(entries)} messages not queued: {sorted(set(failed.values()))}")

    def _send(self, entries: list[SendMessageBatchRequestEntryTypeDef]) -> dict[str, str]:
        """Send one batch; returns the failed entry ids with their error codes."""
        try:
            response = self._client().send_message_batch(QueueUrl=self._queue_url, Entries=entries)
        except (ClientError, BotoCoreError) as exc:
            raise QueueUnavailableError(f"SendMessageBatch failed: {_error_code(exc)}") from exc
        return {failure["Id"]: failure["Code"] for failure in response.get("Failed", [])}


def _entry(entry_id: str, message: QueueMessage) -> SendMessageBatchRequestEntryTypeDef:
    entry: SendMessageBatchRequestEntryTypeDef = {
        "Id": entry_id,
        "MessageBody": message.body,
        "MessageAttributes": {name: {"DataType": "String", "StringValue": value} for name, value in message.attributes.items()},
    }
    if message.delay_seconds:
        entry["DelaySeconds"] = min(message.delay_seconds, MAX_DELAY_SECONDS)
    return entry


def _chunks(messages: Sequence[QueueMessage]) -> Iterator[Sequence[QueueMessage]]:
    """Batches within SendMessageBatch's limits of 10 entries and 1 MiB in total."""
    start, size = 0, 0
    for index, message in enumerate(messages):
        message_size = message.size_bytes
        if index > start and (index - start == MAX_BATCH_ENTRIES or size + message_size > MAX_BATCH_BYTES):
            yield messages[start:index]
            start, size = index, 0
        size += message_size
    if start < len(messages):
        yield messages[start:]


class SqsOutboundJobs:
    """Implements `OutboundJobs` (what process's acknowledgement policy queues) on OutboundQueue.

    A standard queue has no deduplication (MessageDeduplicationId is FIFO-only: botocore's SQS model, SendMessage), and
    a job may be queued twice (process retried after a lost answer): the outbound function claims each job id once.
    """

    def __init__(self, queue_url: str, client: Callable[[], SQSClient]) -> None:
        self._queue = SqsQueue(queue_url, client)

    def enqueue(self, job: OutboundJob) -> None:
        """Queue the job durably, or raise QueueUnavailableError."""
        self._queue.send_all([job_message(job)])


def job_message(job: OutboundJob) -> QueueMessage:
    """One outbound job as OutboundQueue carries it: the body is `encode_job(job)`; attributes only for reading the queue."""
    return QueueMessage(
        body=sqs_safe(encode_job(job)), attributes={"platform": job.platform.value, "kind": job.kind.value}, delay_seconds=job.delay_seconds
    )


# SQS caps a message's visibility timeout at 12 hours.
MAX_VISIBILITY_SECONDS = 43200


class SqsRedelivery:
    """Implements `Redelivery` (socialdesk.process.sqs_batch) for a source queue and its dead-letter queue."""

    def __init__(self, queue_url: str, dead_letter_queue_url: str, client: Callable[[], SQSClient]) -> None:
        self._queue_url = queue_url
        self._dead_letter_queue_url = dead_letter_queue_url
        self._client = client

    def requeue(self, message: QueueMessage, *, delay_seconds: int) -> None:
        """A delayed copy on the source queue: waiting this way costs no receive of the original."""
        entry = _entry("0", message)
        try:
            self._client().send_message(
                QueueUrl=self._queue_url,
                MessageBody=entry["MessageBody"],
                MessageAttributes=entry["MessageAttributes"],
                DelaySeconds=max(0, min(delay_seconds, MAX_DELAY_SECONDS)),
            )
        except (ClientError, BotoCoreError) as exc:
            raise QueueUnavailableError(f"SendMessage failed: {_error_code(exc)}") from exc

    def retry_after(self, receipt_handle: str, seconds: int) -> None:
        """The message becomes visible again after `seconds`: the wait is SQS's, not the function's."""
        try:
            self._client().change_message_visibility(
                QueueUrl=self._queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=max(0, min(seconds, MAX_VISIBILITY_SECONDS))
            )
        except (ClientError, BotoCoreError) as exc:
            raise QueueUnavailableError(f"ChangeMessageVisibility failed: {_error_code(exc)}") from exc

    def dead_letter(self, message: QueueMessage) -> None:
        """Put the message on the dead-letter queue now (the caller then lets SQS delete the original)."""
        SqsQueue(self._dead_letter_queue_url, self._client).send_all([message])


def _error_code(exc: Exception) -> str:
    return str(exc.response.get("Error", {}).get("Code")) if isinstance(exc, ClientError) else type(exc).__name__
