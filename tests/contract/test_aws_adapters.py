"""The SQS, S3 and Secrets Manager adapters against the real botocore clients.

botocore sends through urllib3, which `responses` cannot see, so these use
botocore's Stubber: each expected request is validated against the service's own
API model (parameter names, types, required fields) and answered with the
documented response shape, including the error codes AWS returns.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

import boto3
import pytest
from botocore.stub import Stubber

from socialdesk.aws.s3 import S3BlobStore
from socialdesk.aws.secrets import SecretsManagerJsonSecret
from socialdesk.aws.sqs import MAX_MESSAGE_BYTES, SqsOutboundJobs, SqsQueue
from socialdesk.model.event import Platform
from socialdesk.model.outbound import Channel, JobKind, OutboundJob, decode_job, encode_job
from socialdesk.ports.blobs import BlobStoreUnavailableError
from socialdesk.ports.queues import QueueMessage, QueueUnavailableError, sqs_safe
from socialdesk.ports.secrets import SecretMissingError, SecretsUnavailableError, require

if TYPE_CHECKING:
    from collections.abc import Iterator

QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/socialdesk-inbound"
SECRET_ID = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:socialdesk-webhooks-AbCdEf"


def stubbed(service: Literal["sqs", "secretsmanager", "s3"]) -> Iterator[tuple[Any, Stubber]]:
    """A real client whose calls must match the queued expectations, all of which must be used."""
    client = boto3.client(service, region_name="eu-west-1", aws_access_key_id="test", aws_secret_access_key="test")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def sqs() -> Iterator[tuple[Any, Stubber]]:
    yield from stubbed("sqs")


@pytest.fixture
def secretsmanager() -> Iterator[tuple[Any, Stubber]]:
    yield from stubbed("secretsmanager")


def entries(messages: list[QueueMessage], start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "Id": str(index),
            "MessageBody": message.body,
            "MessageAttributes": {name: {"DataType": "String", "StringValue": value} for name, value in message.attributes.items()},
        }
        for index, message in enumerate(messages, start)
    ]


def ok(batch: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Successful": [{"Id": entry["Id"], "MessageId": f"m-{entry['Id']}", "MD5OfMessageBody": "0" * 32} for entry in batch], "Failed": []}


# --- SQS --------------------------------------------------------------------------------------


def test_25_messages_go_out_as_three_batches_of_at_most_ten(sqs: tuple[Any, Stubber]) -> None:
    # Given 25 canonical events to queue
    client, stubber = sqs
    messages = [QueueMessage(body=f'{{"event_id":"{n}"}}', attributes={"platform": "facebook", "kind": "comment"}) for n in range(25)]
    for chunk in (messages[0:10], messages[10:20], messages[20:25]):
        batch = entries(chunk)
        stubber.add_response("send_message_batch", ok(batch), {"QueueUrl": QUEUE_URL, "Entries": batch})
    # When they are sent, then exactly three valid SendMessageBatch calls carry them all
    SqsQueue(QUEUE_URL, lambda: client).send_all(messages)


def test_batches_also_respect_the_request_size_cap(sqs: tuple[Any, Stubber]) -> None:
    client, stubber = sqs
    # Given five messages just under the queues' 256 KiB limit: SendMessageBatch takes at most 1 MiB in all
    messages = [QueueMessage(body="x" * 250_000) for _ in range(5)]
    assert all(message.size_bytes <= MAX_MESSAGE_BYTES for message in messages)
    # Then four go in one request and the fifth in another
    for chunk in (messages[0:4], messages[4:5]):
        batch = entries(chunk)
        stubber.add_response("send_message_batch", ok(batch), {"QueueUrl": QUEUE_URL, "Entries": batch})
    SqsQueue(QUEUE_URL, lambda: client).send_all(messages)


def test_entries_sqs_reports_failed_are_retried_once_alone(sqs: tuple[Any, Stubber]) -> None:
    # Given SQS accepts the batch but reports one entry failed (HTTP 200 with Failed[])
    client, stubber = sqs
    messages = [QueueMessage(body=f"event {n}") for n in range(3)]
    batch = entries(messages)
    stubber.add_response(
        "send_message_batch",
        {"Successful": ok(batch[:2])["Successful"], "Failed": [{"Id": "2", "SenderFault": False, "Code": "InternalError", "Message": "try again"}]},
        {"QueueUrl": QUEUE_URL, "Entries": batch},
    )
    # Then only that entry is sent again
    stubber.add_response("send_message_batch", ok(batch[2:]), {"QueueUrl": QUEUE_URL, "Entries": batch[2:]})
    SqsQueue(QUEUE_URL, lambda: client).send_all(messages)


def test_an_entry_failing_twice_makes_the_send_fail_loudly(sqs: tuple[Any, Stubber]) -> None:
    client, stubber = sqs
    messages = [QueueMessage(body="event")]
    failed = {"Successful": [], "Failed": [{"Id": "0", "SenderFault": False, "Code": "InternalError"}]}
    stubber.add_response("send_message_batch", failed, {"QueueUrl": QUEUE_URL, "Entries": entries(messages)})
    stubber.add_response("send_message_batch", failed, {"QueueUrl": QUEUE_URL, "Entries": entries(messages)})
    with pytest.raises(QueueUnavailableError, match=r"1 of 1 messages not queued: \['InternalError'\]"):
        SqsQueue(QUEUE_URL, lambda: client).send_all(messages)


def test_a_missing_queue_is_reported_as_queue_unavailable(sqs: tuple[Any, Stubber]) -> None:
    client, stubber = sqs
    stubber.add_client_error("send_message_batch", service_error_code="AWS.SimpleQueueService.NonExistentQueue", http_status_code=400)
    with pytest.raises(QueueUnavailableError, match="NonExistentQueue"):
        SqsQueue(QUEUE_URL, lambda: client).send_all([QueueMessage(body="event")])


def test_nothing_to_send_makes_no_call(sqs: tuple[Any, Stubber]) -> None:
    client, _ = sqs
    SqsQueue(QUEUE_URL, lambda: client).send_all([])


# --- Secrets Manager --------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def secret_response(stage: str, value: dict[str, str] | str) -> dict[str, Any]:
    return {
        "ARN": SECRET_ID,
        "Name": "socialdesk-webhooks",
        "VersionId": f"v-{stage}-0000000000000000000000000000",
        "SecretString": value if isinstance(value, str) else json.dumps(value),
        "VersionStages": [stage],
    }


def expect_read(stubber: Stubber, current: dict[str, str] | str, previous: dict[str, str] | None) -> None:
    stubber.add_response("get_secret_value", secret_response("AWSCURRENT", current), {"SecretId": SECRET_ID, "VersionStage": "AWSCURRENT"})
    if previous is None:
        stubber.add_client_error(
            "get_secret_value",
            service_error_code="ResourceNotFoundException",
            service_message="Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS",
            http_status_code=400,
            expected_params={"SecretId": SECRET_ID, "VersionStage": "AWSPREVIOUS"},
        )
    else:
        stubber.add_response("get_secret_value", secret_response("AWSPREVIOUS", previous), {"SecretId": SECRET_ID, "VersionStage": "AWSPREVIOUS"})


def test_current_then_previous_values_are_read_by_staging_label(secretsmanager: tuple[Any, Stubber]) -> None:
    client, stubber = secretsmanager
    expect_read(stubber, {"meta_app_secret": "new", "x_consumer_secret": "x1"}, {"meta_app_secret": "old", "x_consumer_secret": "x1"})
    secrets = SecretsManagerJsonSecret("webhook secret", SECRET_ID, lambda: client, max_age_seconds=300)
    assert secrets.values("meta_app_secret") == ("new", "old")
    assert secrets.values("x_consumer_secret") == ("x1",)  # unchanged by the rotation: listed once


def test_a_secret_never_rotated_has_only_its_current_value(secretsmanager: tuple[Any, Stubber]) -> None:
    client, stubber = secretsmanager
    expect_read(stubber, {"meta_app_secret": "only", "x_consumer_secret": ""}, None)
    secrets = SecretsManagerJsonSecret("webhook secret", SECRET_ID, lambda: client, max_age_seconds=300)
    assert secrets.values("meta_app_secret") == ("only",)
    assert secrets.values("x_consumer_secret") == ()  # the template's placeholder counts as unset
    assert secrets.values("meta_verify_token") == ()


def test_a_blank_current_value_disables_the_key_even_with_a_previous_one(secretsmanager: tuple[Any, Stubber]) -> None:
    # The previous value bridges a rotation between two real secrets; blanking the current one turns verification off.
    client, stubber = secretsmanager
    expect_read(stubber, {"x_consumer_secret": " "}, {"x_consumer_secret": "older"})
    assert SecretsManagerJsonSecret("webhook secret", SECRET_ID, lambda: client, max_age_seconds=300).values("x_consumer_secret") == ()


def test_values_are_cached_and_refreshes_are_rate_limited(secretsmanager: tuple[Any, Stubber]) -> None:
    # Given a cache of 300 s and a forced refresh allowed every 30 s
    client, stubber = secretsmanager
    clock = Clock()
    secrets = SecretsManagerJsonSecret("webhook secret", SECRET_ID, lambda: client, max_age_seconds=300, min_refresh_seconds=30, clock=clock)
    expect_read(stubber, {"meta_app_secret": "a"}, None)
    assert secrets.values("meta_app_secret") == ("a",)
    # When badly signed requests ask for refreshes within 30 s, no call is made (the stubber would fail on one)
    clock.now += 29
    assert secrets.values("meta_app_secret", refresh=True) == ("a",)
    # Then after 30 s one refresh reads the store again
    clock.now += 2
    expect_read(stubber, {"meta_app_secret": "b"}, {"meta_app_secret": "a"})
    assert secrets.values("meta_app_secret", refresh=True) == ("b", "a")
    # And without refresh the cache serves until it is 300 s old
    clock.now += 299
    assert secrets.values("meta_app_secret") == ("b", "a")
    clock.now += 2
    expect_read(stubber, {"meta_app_secret": "c"}, {"meta_app_secret": "b"})
    assert secrets.values("meta_app_secret") == ("c", "b")


@pytest.mark.parametrize(
    ("arrange", "message"),
    [
        (lambda s: s.add_client_error("get_secret_value", service_error_code="AccessDeniedException", http_status_code=400), "AccessDeniedException"),
        (lambda s: s.add_response("get_secret_value", secret_response("AWSCURRENT", "not json")), "not a JSON object"),
        (lambda s: s.add_response("get_secret_value", secret_response("AWSCURRENT", '["a list"]')), "not a JSON object"),
    ],
    ids=["access-denied", "not-json", "json-but-not-object"],
)
def test_an_unreadable_secret_fails_closed(secretsmanager: tuple[Any, Stubber], arrange: Any, message: str) -> None:
    client, stubber = secretsmanager
    arrange(stubber)
    with pytest.raises(SecretsUnavailableError, match=message):
        SecretsManagerJsonSecret("webhook secret", SECRET_ID, lambda: client, max_age_seconds=300).values("meta_app_secret")


def test_a_secret_created_without_a_value_reads_as_empty_so_every_key_fails_closed(secretsmanager: tuple[Any, Stubber]) -> None:
    # Given a secret CloudFormation created with neither SecretString nor GenerateSecretString: no version at all
    client, stubber = secretsmanager
    for _ in ("AWSCURRENT", "AWSPREVIOUS"):
        stubber.add_client_error("get_secret_value", service_error_code="ResourceNotFoundException", http_status_code=400)
    secrets = SecretsManagerJsonSecret("webhook secret", SECRET_ID, lambda: client, max_age_seconds=300)
    # When a key is asked for, Then it has no value (callers fail closed on that), and the content is empty
    assert secrets.values("zendesk_api_token") == ()
    assert secrets.snapshot() == {}


@pytest.mark.parametrize("name", ["CRM secret", "webhook secret"])
def test_every_secret_error_names_the_secret_it_is_about(secretsmanager: tuple[Any, Stubber], name: str) -> None:
    # Given a secret the role may not read, and one read but without the key asked for
    client, stubber = secretsmanager
    stubber.add_client_error("get_secret_value", service_error_code="AccessDeniedException", http_status_code=400)
    # When each is used, Then the error sends the operator to that secret, by name and id, not to another
    with pytest.raises(SecretsUnavailableError, match=rf"cannot read AWSCURRENT of the {name} \({SECRET_ID}\): AccessDeniedException"):
        SecretsManagerJsonSecret(name, SECRET_ID, lambda: client, max_age_seconds=300).values("zendesk_email")
    expect_read(stubber, {"zendesk_api_token": "t"}, None)
    with pytest.raises(SecretMissingError, match=rf"the {name} has no value for 'zendesk_email'"):
        require(SecretsManagerJsonSecret(name, SECRET_ID, lambda: client, max_age_seconds=300), "zendesk_email")


KEY = "oversize/meta/2026/11/23/event-ab.json"


def test_oversize_items_are_put_as_json_and_the_bucket_named() -> None:
    # PutObject, validated against the S3 API model
    for client, stubber in stubbed("s3"):
        expected = {"Bucket": "socialdesk-quarantine", "Key": KEY, "Body": b"{}", "ContentType": "application/json"}
        stubber.add_response("put_object", {"ETag": '"0"'}, expected)
        store = S3BlobStore("socialdesk-quarantine", lambda: client)  # noqa: B023 - used inside the loop's one pass
        assert store.put(KEY, b"{}") == "socialdesk-quarantine"


def test_an_s3_refusal_is_a_blob_store_outage() -> None:
    for client, stubber in stubbed("s3"):
        stubber.add_client_error("put_object", service_error_code="AccessDenied", http_status_code=403)
        store = S3BlobStore("socialdesk-quarantine", lambda: client)  # noqa: B023 - used inside the loop's one pass
        with pytest.raises(BlobStoreUnavailableError, match="AccessDenied"):
            store.put(KEY, b"{}")


def test_an_outbound_job_is_queued_as_its_encoded_body_for_the_outbound_function(sqs: tuple[Any, Stubber]) -> None:
    # Given the acknowledgement policy's job
    client, stubber = sqs
    job = OutboundJob(
        job_id="ack:x:1700:thread:1880000000000000001:1764871200",
        kind=JobKind.ACKNOWLEDGEMENT,
        platform=Platform.X,
        account_id="1700",
        conversation_key="x:1700:thread:1880000000000000001",
        channel=Channel.PUBLIC_REPLY,
        recipient_id="1600",
        reply_to_id="1880000000000000001",
        text="Thanks \ufffe we have it",  # a character SQS refuses is sent escaped, and decodes to the same text
    )
    body = sqs_safe(encode_job(job))
    assert "\ufffe" not in body
    stubber.add_response(
        "send_message_batch",
        {"Successful": [{"Id": "0", "MessageId": "m1", "MD5OfMessageBody": "x"}], "Failed": []},
        {
            "QueueUrl": QUEUE_URL,
            "Entries": [
                {
                    "Id": "0",
                    "MessageBody": body,
                    "MessageAttributes": {
                        "platform": {"DataType": "String", "StringValue": "x"},
                        "kind": {"DataType": "String", "StringValue": "acknowledgement"},
                    },
                }
            ],
        },
    )
    # When it is enqueued
    SqsOutboundJobs(QUEUE_URL, lambda: client).enqueue(job)
    # Then the outbound function reads back the same job
    assert decode_job(body) == job


def whatsapp_job(**changes: Any) -> OutboundJob:
    fields: dict[str, Any] = {
        "job_id": "j",
        "kind": JobKind.ACKNOWLEDGEMENT,
        "platform": Platform.WHATSAPP,
        "account_id": "1",
        "conversation_key": "c",
        "channel": Channel.DIRECT_MESSAGE,
        "recipient_id": "2",
        "text": "t",
    }
    return OutboundJob(**{**fields, **changes})


def test_an_outbound_job_that_cannot_be_queued_raises_for_process_to_retry(sqs: tuple[Any, Stubber]) -> None:
    client, stubber = sqs
    stubber.add_client_error("send_message_batch", service_error_code="AWS.SimpleQueueService.NonExistentQueue", http_status_code=400)
    with pytest.raises(QueueUnavailableError):
        SqsOutboundJobs(QUEUE_URL, lambda: client).enqueue(whatsapp_job())


def test_a_delayed_outbound_job_is_queued_with_sqs_delay_seconds(sqs: tuple[Any, Stubber]) -> None:
    # Given an acknowledgement the rules delay by two minutes (botocore's SQS model: SendMessageBatch entries' DelaySeconds)
    client, stubber = sqs
    job = whatsapp_job(delay_seconds=120)
    body = encode_job(job)
    entry = {
        "Id": "0",
        "MessageBody": body,
        "MessageAttributes": {
            "platform": {"DataType": "String", "StringValue": "whatsapp"},
            "kind": {"DataType": "String", "StringValue": "acknowledgement"},
        },
        "DelaySeconds": 120,
    }
    stubber.add_response("send_message_batch", {"Successful": [], "Failed": []}, {"QueueUrl": QUEUE_URL, "Entries": [entry]})
    # When it is enqueued
    SqsOutboundJobs(QUEUE_URL, lambda: client).enqueue(job)
    # Then SQS holds it back for those two minutes (the Stubber checks the parameters)
    stubber.assert_no_pending_responses()
