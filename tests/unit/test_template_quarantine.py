"""What infra/template.yaml promises about message sizes and the quarantine bucket, read from the template itself."""

from __future__ import annotations

from typing import Any

import pytest

from socialdesk.aws.sqs import MAX_BATCH_BYTES, MAX_MESSAGE_BYTES
from socialdesk.devtools.local_aws import TEMPLATE
from socialdesk.devtools.template_stack import load_template
from tests.support.iam import statements

RESOURCES: dict[str, Any] = load_template(TEMPLATE)["Resources"]
QUEUES = [name for name, resource in RESOURCES.items() if resource["Type"] == "AWS::SQS::Queue"]
# Lambda's payload limit for the process function's batches (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024


@pytest.mark.parametrize("queue", QUEUES)
def test_every_queue_sets_the_message_size_ingest_checks_against(queue: str) -> None:
    assert RESOURCES[queue]["Properties"]["MaximumMessageSize"] == MAX_MESSAGE_BYTES


def test_a_full_batch_of_the_largest_messages_fits_lambdas_payload_even_escaped() -> None:
    # Given the process function's batch size and the worst case of JSON escaping (each byte as two)
    batch_size = RESOURCES["ProcessFunction"]["Properties"]["Events"]["Inbound"]["Properties"]["BatchSize"]
    assert batch_size * MAX_MESSAGE_BYTES * 2 < LAMBDA_PAYLOAD_BYTES
    # And SendMessageBatch's 1 MiB cap (botocore's SQS model) above a single message
    assert MAX_MESSAGE_BYTES <= MAX_BATCH_BYTES <= 1024 * 1024


def test_the_quarantine_bucket_is_private_encrypted_tls_only_and_expires_with_the_queue() -> None:
    bucket = RESOURCES["QuarantineBucket"]
    properties = bucket["Properties"]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    [rule] = properties["LifecycleConfiguration"]["Rules"]
    queue_days = RESOURCES["QuarantineQueue"]["Properties"]["MessageRetentionPeriod"] / 86400
    assert (rule["Status"], rule["ExpirationInDays"]) == ("Enabled", queue_days)
    [statement] = RESOURCES["QuarantineBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Action"], statement["Condition"]) == ("Deny", "s3:*", {"Bool": {"aws:SecureTransport": "false"}})


def test_ingest_may_only_put_objects_into_the_quarantine_bucket() -> None:
    ingest = RESOURCES["IngestFunction"]["Properties"]
    assert ingest["Environment"]["Variables"]["SOCIALDESK_QUARANTINE_BUCKET"] == {"Ref": "QuarantineBucket"}
    s3_statements = [
        (name, {key: value for key, value in statement.items() if key != "Sid"})
        for name in ("IngestRole", "ProcessRole")
        for statement in statements(RESOURCES[name], true_conditions=frozenset({"UsesComprehend"}))
        if "s3" in str(statement.get("Action", ""))
    ]
    # PutObject only, on this bucket only, for ingest only (SAM's S3WritePolicy would grant more)
    assert s3_statements == [("IngestRole", {"Effect": "Allow", "Action": "s3:PutObject", "Resource": {"Fn::Sub": "${QuarantineBucket.Arn}/*"}})]
    assert "QuarantineBucket" not in str(RESOURCES["ProcessFunction"]["Properties"])
