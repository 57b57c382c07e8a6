"""The stack's AWS resources in moto, in-process, created from infra/template.yaml and holding local test secrets.

Shared by the integration tests and `socialdesk local`, so both run the
real handlers against the resources the template declares. moto is a development dependency
and is imported only when this is used.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from socialdesk.devtools.samples import TEST_SECRETS
from socialdesk.devtools.template_stack import TemplateStack
from socialdesk.devtools.zendesk_events import TEST_SIGNING_SECRET

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

REGION = "eu-west-1"
TEMPLATE = Path(__file__).resolve().parents[4] / "infra" / "template.yaml"
# Dummy credentials so no real account can ever be reached from inside the mock.
AWS_ENVIRONMENT = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}


@dataclass
class LocalAws:
    stack: TemplateStack
    sqs: Any
    secretsmanager: Any
    s3: Any
    _peeking: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def resource(self, logical_id: str) -> str:
        """The queue URL, table name or secret ARN of a template resource."""
        return str(self.stack.resolve({"Ref": logical_id}))

    @property
    def inbound_url(self) -> str:
        return self.resource("InboundQueue")

    @property
    def quarantine_url(self) -> str:
        return self.resource("QuarantineQueue")

    @property
    def quarantine_bucket(self) -> str:
        return self.resource("QuarantineBucket")

    @property
    def dead_letter_url(self) -> str:
        return self.resource("InboundDeadLetterQueue")

    def environment(self, function: str, **overrides: str) -> dict[str, str]:
        """The variables the template gives `function`, pointing at these resources."""
        return {**self.stack.function_environment(function), **overrides}

    def drain(self, queue_url: str) -> list[dict[str, Any]]:
        """Every message on the queue (each received once), with its attributes."""
        received: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages"):
            received += batch
        return received

    def peek(self, queue_url: str) -> list[dict[str, Any]]:
        """Every visible message on a queue nothing else consumes, with its attributes, left on it (made visible again at once).

        SQS has no read without a receive, so each message's receive count goes up by one: only for
        queues without a redrive policy (the quarantine and dead-letter queues), where that count moves nothing.
        """
        with self._peeking:  # two readers at once would each see only what the other had not received
            seen: list[dict[str, Any]] = []
            while batch := self.sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60, MessageAttributeNames=["All"]
            ).get("Messages"):
                seen += batch
            for start in range(0, len(seen), 10):
                entries = [
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": 0}
                    for index, message in enumerate(seen[start : start + 10])
                ]
                self.sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)
            return seen

    def receive_lambda_event(self, queue_url: str, *, max_messages: int = 10) -> dict[str, Any] | None:
        """Receive up to `max_messages` and shape them as the SQS event Lambda's event source mapping delivers."""
        messages = self.sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=max_messages, AttributeNames=["All"], MessageAttributeNames=["All"]
        ).get("Messages")
        if not messages:
            return None
        arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return {"Records": [_lambda_record(message, arn) for message in messages]}

    def put_secret(self, logical_id: str, values: Mapping[str, object]) -> None:
        """Write a new secret version, as an operator does; the old one becomes AWSPREVIOUS."""
        self.secretsmanager.put_secret_value(SecretId=self.resource(logical_id), SecretString=json.dumps(values))

    def rotate(self, **values: str) -> None:
        """A new webhook secret version: the test secrets with `values` changed."""
        self.put_secret("WebhookSecret", {**TEST_SECRETS, **values})


@contextmanager
def local_aws(template: Path = TEMPLATE) -> Iterator[LocalAws]:
    """Start moto, create the template's queues, tables, buckets and secrets, and load the webhook test secrets. Set AWS_ENVIRONMENT first."""
    from moto import mock_aws

    with mock_aws():
        stack = TemplateStack(template, region=REGION)
        stack.provision()
        aws = LocalAws(
            stack=stack,
            sqs=boto3.client("sqs", region_name=REGION),
            secretsmanager=boto3.client("secretsmanager", region_name=REGION),
            s3=boto3.client("s3", region_name=REGION),
        )
        if "WebhookSecret" in stack.resources:
            aws.put_secret("WebhookSecret", dict(TEST_SECRETS))
        if "ZendeskWebhookSecret" in stack.resources:
            aws.put_secret("ZendeskWebhookSecret", {"zendesk_webhook_signing_secret": TEST_SIGNING_SECRET})
        yield aws


def _lambda_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", "0"),
            "SenderId": attributes.get("SenderId", "AIDAEXAMPLE"),
            "ApproximateFirstReceiveTimestamp": attributes.get("ApproximateFirstReceiveTimestamp", "0"),
        },
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.get("DataType", "String"),
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }
