"""Items too large for an SQS message: kept whole in the quarantine bucket, with a small pointer on the quarantine queue.

Without this, SQS refuses the one message, ingest answers 503, and the platform redelivers the
whole delivery (its valid siblings included) until it gives up. An oversize item is never
dropped and never blocks the others; the pointer names where it is and why, and holds no
customer text.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import msgspec

from socialdesk.ports.queues import QueueMessage

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from socialdesk.ports.blobs import BlobStore


class Fitted(msgspec.Struct, frozen=True, kw_only=True):
    messages: list[QueueMessage]
    """The messages small enough to queue as they are."""
    pointers: list[QueueMessage]
    """One quarantine-queue message per item stored in the bucket instead."""


def fit(
    messages: Sequence[QueueMessage],
    *,
    kind: str,
    reasons: Sequence[str] | None = None,
    webhook: str,
    received_at: datetime,
    limit: int,
    store: BlobStore,
) -> Fitted:
    """Split `messages` into those within `limit` bytes and pointers to the others, which are stored whole first.

    `kind` is `event` or `quarantine`; `reasons` are the quarantine reasons, one per message (only their
    leading error type goes into the pointer, as in the logs). Raises BlobStoreUnavailableError.
    """
    small: list[QueueMessage] = []
    pointers: list[QueueMessage] = []
    for index, message in enumerate(messages):
        size = message.size_bytes
        if size <= limit:
            small.append(message)
            continue
        data = message.body.encode("utf-8")
        key = f"oversize/{webhook}/{received_at:%Y/%m/%d}/{kind}-{hashlib.sha256(data).hexdigest()}.json"
        bucket = store.put(key, data)
        pointer = {
            "webhook": webhook,
            "reason": f"oversize_{kind}",
            "item_reason": reasons[index].split(":")[0] if reasons else None,
            "received_at": received_at.isoformat(),
            "bucket": bucket,
            "key": key,
            "message_bytes": size,
            "max_message_bytes": limit,
        }
        pointers.append(QueueMessage(body=msgspec.json.encode(pointer).decode("utf-8"), attributes={"webhook": webhook, "stored_in": "s3"}))
    return Fitted(messages=small, pointers=pointers)
