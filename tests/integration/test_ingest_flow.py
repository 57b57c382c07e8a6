"""Whole ingest flows through the real Lambda handler, with SQS and Secrets Manager in moto."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING

import pytest

from socialdesk.model import EventKind, decode_event
from tests.support.webhooks import meta_post, sample, sample_body, to_bytes, x_post

if TYPE_CHECKING:
    from tests.integration.conftest import Stack

# What each committed sample does end to end: (status, events queued).
EXPECTED = {
    "x-crc": (200, 0),
    "x-mention": (200, 1),
    "x-reply": (200, 1),
    "x-brand-reply": (200, 1),
    "x-retweet": (200, 0),
    "x-dm": (200, 1),
    "x-dm-brand": (200, 1),
    "x-tweet-delete": (200, 1),
    "x-like": (200, 0),
    "x-typing": (200, 0),
    "x-activity-mention": (200, 1),
    "x-activity-edit": (200, 1),
    "x-activity-dm": (200, 1),
    "meta-verify": (200, 0),
    "meta-fb-comment": (200, 1),
    "meta-fb-comment-base64": (200, 1),
    "meta-fb-comment-reply": (200, 1),
    "meta-fb-comment-edited": (200, 1),
    "meta-fb-comment-removed": (200, 1),
    "meta-fb-visitor-post": (200, 1),
    "meta-fb-page-reply": (200, 1),
    "meta-fb-reaction": (200, 0),
    "meta-messenger-message": (200, 1),
    "meta-messenger-echo": (200, 1),
    "meta-messenger-read": (200, 0),
    "meta-instagram-comment": (200, 1),
    "meta-instagram-mention": (200, 1),
    "meta-instagram-dm": (200, 1),
    "meta-whatsapp-text": (200, 1),
    "meta-whatsapp-image": (200, 1),
    "meta-whatsapp-status-failed": (200, 1),
    "meta-whatsapp-text-bsuid": (200, 1),
    "meta-whatsapp-username": (200, 1),
    "meta-whatsapp-status-failed-bsuid": (200, 1),
    "meta-whatsapp-smb-echo": (200, 1),
    "meta-batch": (200, 4),
}


def test_every_sample_has_an_expected_outcome() -> None:
    from tests.support.webhooks import SAMPLE_NAMES

    assert set(EXPECTED) == set(SAMPLE_NAMES)


@pytest.mark.parametrize(("name", "status", "queued"), [(name, *outcome) for name, outcome in EXPECTED.items()])
def test_each_sample_event_through_the_handler(stack: Stack, name: str, status: int, queued: int) -> None:
    # Given a committed sample, exactly as `sam local invoke -e` would pass it
    # When the ingest handler receives it
    response = stack.invoke(sample(name))
    # Then it answers as the platform expects and queues one message per event
    assert response["statusCode"] == status
    messages = stack.drain(stack.inbound_url)
    assert len(messages) == queued
    for message in messages:
        event = decode_event(message["Body"])
        assert message["MessageAttributes"]["platform"]["StringValue"] == event.platform.value
        assert message["MessageAttributes"]["kind"]["StringValue"] == event.kind.value


def test_a_meta_batch_of_25_entries_yields_exactly_25_queued_messages(stack: Stack) -> None:
    # Given one Meta delivery batching 25 Messenger entries from 25 customers (more than one SendMessageBatch)
    template = sample_body("meta-messenger-message")
    entry = template["entry"][0]
    entries = []
    for n in range(25):
        item = copy.deepcopy(entry)
        item["messaging"][0]["sender"]["id"] = f"67890123456789{n:02d}"
        item["messaging"][0]["message"]["mid"] = f"m_batch_{n:02d}"
        entries.append(item)
    # When it is received
    response = stack.invoke(meta_post(to_bytes({"object": "page", "entry": entries})))
    # Then the platform gets 200 only after all 25 are on the queue, one message each
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"queued": 25, "ignored": 0, "quarantined": 0}
    events = [decode_event(message["Body"]) for message in stack.drain(stack.inbound_url)]
    assert sorted(event.message_id for event in events) == [f"m_batch_{n:02d}" for n in range(25)]
    assert {event.kind for event in events} == {EventKind.DIRECT_MESSAGE}


def test_a_failed_enqueue_answers_5xx_so_the_platform_retries(stack: Stack) -> None:
    # Given the inbound queue is gone (or SQS is failing)
    stack.sqs.delete_queue(QueueUrl=stack.inbound_url)
    # When a signed webhook arrives
    response = stack.invoke(sample("meta-batch"))
    # Then it is not acknowledged, so Meta redelivers it
    assert response["statusCode"] == 503
    assert json.loads(response["body"]) == {"error": "could not queue events, retry later"}


def test_secret_rotation_accepts_current_and_previous_then_drops_the_oldest(stack: Stack) -> None:
    body = to_bytes(sample_body("meta-whatsapp-text"))
    # Given the app secret rotated once: v2 current, v1 previous
    stack.rotate(meta_app_secret="app-secret-v2")
    assert stack.invoke(meta_post(body, secret="test-app-secret"))["statusCode"] == 200
    assert stack.invoke(meta_post(body, secret="app-secret-v2"))["statusCode"] == 200
    # When it rotates again
    stack.rotate(meta_app_secret="app-secret-v3")
    # Then v1 no longer verifies while v2 and v3 do
    assert stack.invoke(meta_post(body, secret="test-app-secret"))["statusCode"] == 401
    assert stack.invoke(meta_post(body, secret="app-secret-v2"))["statusCode"] == 200
    assert stack.invoke(meta_post(body, secret="app-secret-v3"))["statusCode"] == 200


def test_the_templates_blank_placeholder_secret_fails_closed(stack: Stack) -> None:
    # Given the X consumer secret blanked (as the stack creates it), even though an older version had one
    stack.rotate(x_consumer_secret="")
    # Then X's challenge and webhooks are refused with 503 rather than verified with nothing
    assert stack.invoke(sample("x-crc"))["statusCode"] == 503
    assert stack.invoke(x_post(to_bytes(sample_body("x-mention")), secret=""))["statusCode"] == 503
    assert stack.drain(stack.inbound_url) == []


def test_unreadable_items_land_in_the_quarantine_queue(stack: Stack) -> None:
    payload = sample_body("meta-whatsapp-text")
    del payload["entry"][0]["changes"][0]["value"]["metadata"]
    response = stack.invoke(meta_post(to_bytes(payload)))
    assert response["statusCode"] == 200
    [kept] = stack.drain(stack.quarantine_url)
    document = json.loads(kept["Body"])
    assert (document["webhook"], document["reason"]) == ("meta", "KeyError: 'phone_number_id'")
    assert document["item"]["text"]["body"] == "Mi pedido no ha llegado. ¿Pueden ayudarme? 🙏"
    assert stack.drain(stack.inbound_url) == []


def test_handler_answers_in_api_gateway_v2_format(stack: Stack) -> None:
    response = stack.invoke(sample("meta-verify"))
    assert response == {
        "statusCode": 200,
        "headers": {"content-type": "text/plain; charset=utf-8"},
        "body": "1158201444",
        "isBase64Encoded": False,
    }


def test_an_oversize_item_goes_to_the_quarantine_bucket_and_its_siblings_are_queued_once(stack: Stack) -> None:
    # Given one Messenger delivery of three messages, the middle one larger than the queues' 256 KiB message limit
    template = sample_body("meta-messenger-message")
    big_text = "Mi pedido no ha llegado. " * 12_000  # about 300 KB
    entries = []
    for n, text in enumerate(["where is my parcel?", big_text, "and a refund please"]):
        entry = copy.deepcopy(template["entry"][0])
        entry["messaging"][0]["sender"]["id"] = f"67890123456789{n:02d}"
        entry["messaging"][0]["message"].update(mid=f"m_size_{n}", text=text)
        entries.append(entry)
    # When it is received, and received again (the platform redelivers)
    for _ in range(2):
        response = stack.invoke(meta_post(to_bytes({"object": "page", "entry": entries})))
        # Then it is acknowledged, never 503
        assert response["statusCode"] == 200
        assert json.loads(response["body"]) == {"queued": 2, "ignored": 0, "quarantined": 1}
    # And each delivery queued the two siblings once
    queued = [decode_event(message["Body"]).message_id for message in stack.drain(stack.inbound_url)]
    assert sorted(queued) == ["m_size_0", "m_size_0", "m_size_2", "m_size_2"]
    # And the whole event is in the template's bucket (one object: its key is its content), named by the pointers
    [stored] = stack.s3.list_objects_v2(Bucket=stack.quarantine_bucket)["Contents"]
    event = decode_event(stack.s3.get_object(Bucket=stack.quarantine_bucket, Key=stored["Key"])["Body"].read())
    assert (event.message_id, event.text) == ("m_size_1", big_text)
    pointers = [json.loads(message["Body"]) for message in stack.drain(stack.quarantine_url)]
    assert [(p["reason"], p["bucket"], p["key"]) for p in pointers] == [("oversize_event", stack.quarantine_bucket, stored["Key"])] * 2
    assert all("pedido" not in json.dumps(pointer) for pointer in pointers)
