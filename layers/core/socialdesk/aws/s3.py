"""S3 behind the BlobStore port: where ingest keeps items too large for an SQS message.

The client is only asked for on the first put, so ingest's cold start never builds one:
oversize items are rare, and boto3 client creation costs tens of milliseconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from socialdesk.ports.blobs import BlobStoreUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_s3 import S3Client


class S3BlobStore:
    def __init__(self, bucket: str, client: Callable[[], S3Client]) -> None:
        self._bucket = bucket
        self._client = client

    def put(self, key: str, data: bytes) -> str:
        try:
            # The bucket's default encryption (SSE-S3, infra/template.yaml) applies; JSON, never public.
            self._client().put_object(Bucket=self._bucket, Key=key, Body=data, ContentType="application/json")
        except (ClientError, BotoCoreError) as exc:
            code = str(exc.response.get("Error", {}).get("Code")) if isinstance(exc, ClientError) else type(exc).__name__
            raise BlobStoreUnavailableError(f"PutObject failed: {code}") from exc
        return self._bucket
