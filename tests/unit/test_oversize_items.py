"""Items larger than an SQS message: kept whole in the quarantine bucket, a pointer queued, the delivery acknowledged."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from socialdesk import composition
from socialdesk.composition.ingest import webhook_ingest
from socialdesk.model import decode_event
from tests.support.ingest import MAX_MESSAGE, Harness
from tests.support.webhooks import meta_post, sample_body, to_bytes

BIG_TEXT = "Mi pedido no ha llegado. " * 400  # about 10 KB: over the harness's 8 KiB message limit


def messenger_delivery(texts: list[str]) -> dict[str, Any]:
    """One Messenger delivery with one entry per text, each from its own customer."""
    template = sample_body("meta-messenger-message")
    entries = []
    for n, text in enumerate(texts):
        entry = json.loads(json.dumps(template["entry"][0]))
        entry["messaging"][0]["sender"]["id"] = f"67890123456789{n:02d}"
        entry["messaging"][0]["message"].update(mid=f"m_size_{n}", text=text)
        entries.append(entry)
    return {"object": "page", "entry": entries}


def test_an_oversize_event_goes_to_the_bucket_and_its_siblings_are_queued_once(harness: Harness) -> None:
    # Given a delivery of three messages, the middle one too large for an SQS message
    delivery = messenger_delivery(["where is my parcel?", BIG_TEXT, "and a refund please"])
    # When it is received
    response = harness.send(meta_post(to_bytes(delivery)))
    # Then it is acknowledged (no redelivery of the siblings), the two others are queued exactly once
    assert (response.status, json.loads(response.body)) == (200, {"queued": 2, "ignored": 0, "quarantined": 1})
    assert sorted(event.message_id for event in harness.events.events) == ["m_size_0", "m_size_2"]
    # And the whole event is in the bucket, named by a pointer on the quarantine queue that carries no customer text
    [(key, stored)] = harness.bucket.objects.items()
    assert decode_event(stored).text == BIG_TEXT
    [pointer_message] = harness.quarantine.messages
    pointer = json.loads(pointer_message.body)
    assert pointer == {
        "webhook": "meta",
        "reason": "oversize_event",
        "item_reason": None,
        "received_at": pointer["received_at"],
        "bucket": "quarantine-bucket",
        "key": key,
        "message_bytes": pointer["message_bytes"],
        "max_message_bytes": MAX_MESSAGE,
    }
    assert pointer["message_bytes"] > MAX_MESSAGE >= pointer_message.size_bytes
    assert "pedido" not in pointer_message.body
    assert key.startswith("oversize/meta/") and key.endswith(".json")


def test_an_oversize_unreadable_item_is_stored_whole_with_its_reason_in_the_pointer(harness: Harness) -> None:
    # Given a WhatsApp delivery with a huge message that lacks its sender, next to a good one
    payload = sample_body("meta-whatsapp-text")
    messages = payload["entry"][0]["changes"][0]["value"]["messages"]
    messages.insert(0, {"id": "wamid.broken", "timestamp": "1752000000", "type": "text", "text": {"body": BIG_TEXT}})
    # When it is received
    response = harness.send(meta_post(to_bytes(payload)))
    # Then the good one is queued, the broken one is in the bucket whole, and the pointer names why
    assert json.loads(response.body) == {"queued": 1, "ignored": 0, "quarantined": 1}
    [stored] = harness.bucket.objects.values()
    document = json.loads(stored)
    assert (document["reason"], document["item"]["text"]["body"]) == ("KeyError: 'from'", BIG_TEXT)
    [pointer] = [json.loads(message.body) for message in harness.quarantine.messages]
    assert (pointer["reason"], pointer["item_reason"]) == ("oversize_quarantine", "KeyError")


def test_redelivery_of_an_oversize_item_overwrites_the_same_object() -> None:
    # Given the same delivery twice (the platform redelivers)
    harness = Harness()
    delivery = meta_post(to_bytes(messenger_delivery([BIG_TEXT])))
    harness.send(delivery)
    harness.send(delivery)
    # Then one object holds it: the key is named by its content
    assert len(harness.bucket.objects) == 1


def test_a_bucket_outage_answers_503_so_the_platform_redelivers(harness: Harness) -> None:
    harness.bucket.failing = True
    response = harness.send(meta_post(to_bytes(messenger_delivery(["hello", BIG_TEXT]))))
    assert response.status == 503
    assert harness.quarantine.messages == []


def test_items_within_the_limit_never_touch_the_bucket(harness: Harness) -> None:
    harness.send(meta_post(to_bytes(messenger_delivery(["hello", "x" * (MAX_MESSAGE // 2)]))))
    assert harness.bucket.objects == {}
    assert len(harness.events.messages) == 2


def test_ingest_is_composed_without_building_an_s3_client(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given ingest's environment (no AWS is reached: clients are built on first use)
    for name, value in {
        "SOCIALDESK_INBOUND_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/inbound",
        "SOCIALDESK_QUARANTINE_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/quarantine",
        "SOCIALDESK_QUARANTINE_BUCKET": "socialdesk-quarantine",
        "SOCIALDESK_WEBHOOK_SECRET_ID": "webhooks",
        "SOCIALDESK_MAX_BODY_BYTES": "4194304",
        "SOCIALDESK_SECRET_CACHE_SECONDS": "300",
    }.items():
        monkeypatch.setenv(name, value)
    built: list[str] = []
    monkeypatch.setattr(boto3, "client", lambda service, **_: built.append(service))
    composition.reset()
    try:
        # When the use case is composed, as during the function's INIT
        webhook_ingest()
        # Then no client exists yet, S3's least: only an oversize item builds one, so the cold start does not grow
        assert built == []
    finally:
        composition.reset()
