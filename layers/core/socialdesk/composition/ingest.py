"""Builds the ingest use case: the platforms' front door. Imports no Zendesk, Salesforce or platform SDK."""

from __future__ import annotations

import os

from socialdesk.aws.s3 import S3BlobStore
from socialdesk.aws.secrets import SecretsManagerJsonSecret
from socialdesk.aws.sqs import MAX_MESSAGE_BYTES, SqsQueue
from socialdesk.composition.clients import build_at_init, once, s3, secretsmanager, sqs
from socialdesk.ingest.webhook_ingest import WebhookIngest
from socialdesk.observability import quiet_third_party_loggers
from socialdesk.platforms.meta import MetaWebhook
from socialdesk.platforms.x import XWebhook
from socialdesk.ports.queues import RETRY_HEADROOM_BYTES
from socialdesk.settings import IngestConfig, load_config


@once
def webhook_ingest() -> WebhookIngest:
    quiet_third_party_loggers()
    config = load_config(IngestConfig, os.environ)
    return WebhookIngest(
        platforms=(XWebhook(), MetaWebhook()),
        secrets=SecretsManagerJsonSecret("webhook secret", config.webhook_secret_id, secretsmanager, max_age_seconds=config.secret_cache_seconds),
        events=SqsQueue(config.inbound_queue_url, sqs),
        quarantine=SqsQueue(config.quarantine_queue_url, sqs),
        oversize=S3BlobStore(config.quarantine_bucket, s3),
        max_message_bytes=MAX_MESSAGE_BYTES - RETRY_HEADROOM_BYTES,
        max_body_bytes=config.max_body_bytes,
    )


def init() -> None:
    """What every webhook needs, built during Lambda INIT (functions/ingest/app.py): the use case, and the Secrets
    Manager (every signature check) and SQS (every accepted delivery) clients. The S3 client stays lazy: only an
    oversize item needs it. The secret itself is read by the first request (a network call gains nothing from INIT's
    CPU, and a failure there answers 503 as always)."""
    build_at_init(webhook_ingest, secretsmanager, sqs)
