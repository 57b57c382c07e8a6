"""A moto-backed AWS account with the queues and secret ingest uses, and the real handler wired to it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from functions.ingest.app import lambda_handler
from socialdesk import composition
from socialdesk.devtools.samples import TEST_SECRETS
from tests.support.webhooks import FakeLambdaContext

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass
class Stack:
    sqs: Any
    secretsmanager: Any
    inbound_url: str
    quarantine_url: str
    secret_id: str

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = lambda_handler(event, FakeLambdaContext())
        return response

    def drain(self, queue_url: str) -> list[dict[str, Any]]:
        """Every message on the queue (each received once), with its attributes."""
        received: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages"):
            received += batch
        return received

    def rotate(self, **values: str) -> None:
        """Write a new secret version, as an operator does; the old one becomes AWSPREVIOUS."""
        self.secretsmanager.put_secret_value(SecretId=self.secret_id, SecretString=json.dumps({**TEST_SECRETS, **values}))


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        sqs = boto3.client("sqs")
        secretsmanager = boto3.client("secretsmanager")
        inbound = sqs.create_queue(QueueName="socialdesk-inbound")["QueueUrl"]
        quarantine = sqs.create_queue(QueueName="socialdesk-quarantine")["QueueUrl"]
        secret = secretsmanager.create_secret(Name="socialdesk-webhooks", SecretString=json.dumps(TEST_SECRETS))["ARN"]
        monkeypatch.setenv("SOCIALDESK_INBOUND_QUEUE_URL", inbound)
        monkeypatch.setenv("SOCIALDESK_QUARANTINE_QUEUE_URL", quarantine)
        monkeypatch.setenv("SOCIALDESK_WEBHOOK_SECRET_ID", secret)
        monkeypatch.setenv("SOCIALDESK_MAX_BODY_BYTES", str(4 * 1024 * 1024))
        # Read the secret on every request so rotations show at once.
        monkeypatch.setenv("SOCIALDESK_SECRET_CACHE_SECONDS", "0")
        composition.reset()
        yield Stack(sqs, secretsmanager, inbound, quarantine, secret)
        composition.reset()
