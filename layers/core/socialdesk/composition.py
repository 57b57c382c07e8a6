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

from socialdesk.aws.s3 import S3BlobStore
from socialdesk.aws.secrets import SecretsManagerJsonSecret
from socialdesk.aws.sqs import MAX_MESSAGE_BYTES, SqsQueue
from socialdesk.ingest.webhook_ingest import WebhookIngest
from socialdesk.observability import quiet_third_party_loggers
from socialdesk.platforms.meta import MetaWebhook
from socialdesk.platforms.x import XWebhook
from socialdesk.settings import IngestConfig, ProcessConfig, load_config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

    from socialdesk.process.sqs_batch import SqsBatch

# Ingest must answer X within 3 s even cold: short timeouts and a single retry. The same suits
# the other functions: a slow AWS call is better retried through SQS than waited for.
_AWS_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "max_attempts": 2})


@cache
def _sqs() -> SQSClient:
    return boto3.client("sqs", config=_AWS_CONFIG)


@cache
def _secretsmanager() -> SecretsManagerClient:
    return boto3.client("secretsmanager", config=_AWS_CONFIG)


@cache
def _s3() -> S3Client:
    """Built on the first oversize item only (S3BlobStore asks for it at put time), never during ingest's INIT."""
    return boto3.client("s3", config=_AWS_CONFIG)


@cache
def _dynamodb() -> DynamoDBClient:
    return boto3.client("dynamodb", config=_AWS_CONFIG)


@cache
def webhook_ingest() -> WebhookIngest:
    quiet_third_party_loggers()
    config = load_config(IngestConfig, os.environ)
    return WebhookIngest(
        platforms=(XWebhook(), MetaWebhook()),
        secrets=SecretsManagerJsonSecret("webhook secret", config.webhook_secret_id, _secretsmanager, max_age_seconds=config.secret_cache_seconds),
        events=SqsQueue(config.inbound_queue_url, _sqs),
        quarantine=SqsQueue(config.quarantine_queue_url, _sqs),
        oversize=S3BlobStore(config.quarantine_bucket, _s3),
        max_message_bytes=MAX_MESSAGE_BYTES,
        max_body_bytes=config.max_body_bytes,
    )


@cache
def _process_config() -> ProcessConfig:
    quiet_third_party_loggers()  # first thing the process function builds, before any client
    return load_config(ProcessConfig, os.environ)


@cache
def _crm_secret() -> SecretsManagerJsonSecret:
    config = _process_config()
    return SecretsManagerJsonSecret("CRM secret", config.crm_secret_id, _secretsmanager, max_age_seconds=config.secret_cache_seconds)


_process: dict[str, tuple[object, SqsBatch]] = {}


def process_batch() -> SqsBatch:
    """The process use case over SQS batches, rebuilt when the CRM secret's content changes (a rotation)."""
    credentials = _crm_secret().snapshot()
    built = _process.get("current")
    if built is None or built[0] != credentials:
        from socialdesk.process.wiring import build_process_batch  # zenpy and simple-salesforce load only here

        _process["current"] = (credentials, build_process_batch(_process_config(), _crm_secret(), _dynamodb, _sqs))
    return _process["current"][1]


def reset() -> None:
    """Forget every cached client and use case (tests, the local runner)."""
    for builder in (_sqs, _secretsmanager, _s3, _dynamodb, webhook_ingest, _process_config, _crm_secret):
        builder.cache_clear()
    _process.clear()
