"""The composition root: builds each function's use case from its config, once per container.

Nothing is built at import. AWS clients and use cases are created on first use and
cached, so a cold start pays only for imports, and tests (or the local runner) can
start a moto mock first and call `reset()` between runs.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from socialdesk.aws.secrets import SecretsManagerWebhookSecrets
from socialdesk.aws.sqs import SqsQueue
from socialdesk.config import IngestConfig, load_config
from socialdesk.ingest.webhook_ingest import WebhookIngest
from socialdesk.platforms.meta import MetaWebhook
from socialdesk.platforms.x import XWebhook

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

# Ingest must answer X within 3 s even cold: short timeouts and a single retry.
_INGEST_AWS_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "max_attempts": 2})


@cache
def _sqs() -> SQSClient:
    return boto3.client("sqs", config=_INGEST_AWS_CONFIG)


@cache
def _secretsmanager() -> SecretsManagerClient:
    return boto3.client("secretsmanager", config=_INGEST_AWS_CONFIG)


@cache
def webhook_ingest() -> WebhookIngest:
    config = load_config(IngestConfig, os.environ)
    return WebhookIngest(
        platforms=(XWebhook(), MetaWebhook()),
        secrets=SecretsManagerWebhookSecrets(config.webhook_secret_id, _secretsmanager, max_age_seconds=config.secret_cache_seconds),
        events=SqsQueue(config.inbound_queue_url, _sqs),
        quarantine=SqsQueue(config.quarantine_queue_url, _sqs),
        max_body_bytes=config.max_body_bytes,
    )


def reset() -> None:
    """Forget every cached client and use case (tests, the local runner)."""
    for builder in (_sqs, _secretsmanager, webhook_ingest):
        builder.cache_clear()
