"""Ingest's AWS resources in moto, in-process, holding the sample test secrets.

Shared by the integration tests and `python -m socialdesk.devtools.invoke`, so both
run the real handler against the same stand-in account. moto is a development
dependency and is imported only when this is used.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

from socialdesk.devtools.samples import TEST_SECRETS

if TYPE_CHECKING:
    from collections.abc import Iterator

REGION = "eu-west-1"
MAX_BODY_BYTES = 4 * 1024 * 1024


@dataclass
class LocalAws:
    sqs: Any
    secretsmanager: Any
    inbound_url: str
    quarantine_url: str
    secret_id: str

    def ingest_environment(self, *, secret_cache_seconds: int = 300) -> dict[str, str]:
        """The variables infra/template.yaml gives the ingest function, pointing at these resources."""
        return {
            "SOCIALDESK_INBOUND_QUEUE_URL": self.inbound_url,
            "SOCIALDESK_QUARANTINE_QUEUE_URL": self.quarantine_url,
            "SOCIALDESK_WEBHOOK_SECRET_ID": self.secret_id,
            "SOCIALDESK_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
            "SOCIALDESK_SECRET_CACHE_SECONDS": str(secret_cache_seconds),
        }

    def drain(self, queue_url: str) -> list[dict[str, Any]]:
        """Every message on the queue (each received once), with its attributes."""
        received: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages"):
            received += batch
        return received

    def rotate(self, **values: str) -> None:
        """Write a new secret version, as an operator does; the old one becomes AWSPREVIOUS."""
        self.secretsmanager.put_secret_value(SecretId=self.secret_id, SecretString=json.dumps({**TEST_SECRETS, **values}))


# Dummy credentials so no real account can ever be reached from inside the mock.
AWS_ENVIRONMENT = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}


@contextmanager
def local_aws() -> Iterator[LocalAws]:
    """Start moto and create the inbound and quarantine queues and the webhook secret. Set AWS_ENVIRONMENT first."""
    from moto import mock_aws

    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        secretsmanager = boto3.client("secretsmanager", region_name=REGION)
        yield LocalAws(
            sqs=sqs,
            secretsmanager=secretsmanager,
            inbound_url=sqs.create_queue(QueueName="socialdesk-inbound")["QueueUrl"],
            quarantine_url=sqs.create_queue(QueueName="socialdesk-quarantine")["QueueUrl"],
            secret_id=secretsmanager.create_secret(Name="socialdesk-webhooks", SecretString=json.dumps(TEST_SECRETS))["ARN"],
        )
