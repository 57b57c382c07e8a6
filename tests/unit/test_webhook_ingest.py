"""The ingest use case: status codes, queueing guarantees and log hygiene, with in-memory ports."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from socialdesk.model import EventKind
from socialdesk.observability import logger
from tests.support.fakes import FakeSecrets
from tests.support.ingest import MAX_BODY, Harness
from tests.support.webhooks import api_event, meta_post, sample, sample_body, to_bytes, x_post

if TYPE_CHECKING:
    from socialdesk.http import HttpResponse


def body_of(response: HttpResponse) -> Any:
    return json.loads(response.body)


def test_signed_meta_batch_is_acknowledged_after_every_event_is_queued(harness: Harness) -> None:
    # Given Meta's batch of four events and one reaction
    response = harness.send(sample("meta-batch"))
    # Then each event is its own queued message and the reply counts them
    assert response.status == 200
    assert body_of(response) == {"queued": 4, "ignored": 1, "quarantined": 0}
    assert len(harness.events.messages) == 4
    assert {message.attributes["platform"] for message in harness.events.messages} == {"facebook", "messenger"}


def test_queued_message_is_the_canonical_event_with_routing_attributes(harness: Harness) -> None:
    harness.send(sample("x-mention"))
    [message] = harness.events.messages
    assert message.attributes == {"platform": "x", "kind": "post", "schema_version": "1"}
    [event] = harness.events.events
    assert event.text == "@AcmeHelp my order #4411 never arrived 📦 — ¿me ayudan?"


def test_base64_encoded_body_is_decoded_before_verifying(harness: Harness) -> None:
    assert harness.send(sample("meta-fb-comment-base64")).status == 200
    [event] = harness.events.events
    assert event.text is not None
    assert event.text.startswith("Todavía espero")


def test_header_names_are_matched_whatever_their_case(harness: Harness) -> None:
    event = meta_post(to_bytes(sample_body("meta-whatsapp-text")))
    event["headers"] = {"X-Hub-Signature-256": event["headers"]["x-hub-signature-256"]}
    assert harness.send(event).status == 200


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(meta_post(to_bytes(sample_body("meta-fb-comment")), secret="someone-elses-secret"), id="wrong-secret"),
        pytest.param({**meta_post(to_bytes(sample_body("meta-fb-comment"))), "headers": {}}, id="missing-header"),
        pytest.param(x_post(to_bytes(sample_body("x-mention")), secret="test-app-secret"), id="other-platform-secret"),
    ],
)
def test_unsigned_or_badly_signed_requests_get_401_and_queue_nothing(harness: Harness, event: dict[str, Any]) -> None:
    response = harness.send(event)
    assert response.status == 401
    assert body_of(response) == {"error": "invalid_signature"}
    assert harness.events.messages == harness.quarantine.messages == []


def test_tampered_body_with_genuine_signature_is_refused(harness: Harness) -> None:
    event = sample("meta-whatsapp-text")
    event["body"] = event["body"].replace("16505551234", "16505551235")
    assert harness.send(event).status == 401


def test_rotated_secret_is_reread_once_when_a_signature_matches_no_cached_secret() -> None:
    # Given our cache holds the old secret while Meta already signs with the new one
    harness = Harness(FakeSecrets(after_refresh={"meta_app_secret": "new-app-secret"}))
    # When a webhook signed with the new secret arrives
    response = harness.send(meta_post(to_bytes(sample_body("meta-fb-comment")), secret="new-app-secret"))
    # Then the secret is re-read once and the webhook accepted; the old one still verifies too
    assert (response.status, harness.secrets.refreshes) == (200, 1)
    assert harness.send(meta_post(to_bytes(sample_body("meta-fb-comment")), secret="test-app-secret")).status == 200


@pytest.mark.parametrize(
    ("secrets", "event"),
    [
        (FakeSecrets(current={}), sample("meta-fb-comment")),
        (FakeSecrets(unavailable=True), sample("x-mention")),
        (FakeSecrets(current={}), sample("x-crc")),
        (FakeSecrets(current={"meta_app_secret": "x"}), sample("meta-verify")),
    ],
    ids=["key-absent", "store-unreachable", "crc-without-secret", "verify-without-token"],
)
def test_missing_secret_fails_closed_with_503(secrets: FakeSecrets, event: dict[str, Any]) -> None:
    harness = Harness(secrets)
    response = harness.send(event)
    assert response.status == 503
    assert harness.events.messages == []


def test_body_over_the_limit_is_refused_before_parsing(harness: Harness) -> None:
    # Given a body one byte over the limit that is not even JSON, and its base64 form
    oversized = b"x" * (MAX_BODY + 1)
    # Then both are 413 and nothing is queued
    assert harness.send(meta_post(oversized)).status == 413
    assert harness.send(meta_post(oversized, base64_body=True)).status == 413
    # And a body of exactly the limit is read (here: authenticated but not JSON)
    assert harness.send(meta_post(b"x" * MAX_BODY)).status == 400


def test_multibyte_body_is_measured_in_bytes_not_characters(harness: Harness) -> None:
    body = ("é" * (MAX_BODY // 2 + 1)).encode("utf-8")  # fewer characters than the limit, more bytes
    assert harness.send(meta_post(body)).status == 413


@pytest.mark.parametrize(
    "body",
    [b"", b'{"object": "page", "entry": [', b"[" * 20_000 + b"]" * 20_000, b'["a", "list"]', b'{"object": "page", "entry": ["\xff\xfe"]}'],
    ids=["empty", "truncated", "nested-20k-deep", "not-an-object", "not-utf8"],
)
def test_authenticated_malformed_json_is_a_400(harness: Harness, body: bytes) -> None:
    # Given a correctly signed body that is not a JSON object (sent base64, as API Gateway does for binary)
    response = harness.send(meta_post(body, base64_body=True))
    # Then it is refused as malformed and nothing is queued
    assert (response.status, body_of(response)) == (400, {"error": "malformed_json"})
    assert harness.events.messages == []


def test_body_flagged_base64_that_does_not_decode_is_a_400(harness: Harness) -> None:
    event = meta_post(b"{}")
    event.update(body="%%%not base64%%%", isBase64Encoded=True)
    assert harness.send(event).status == 400


def test_unknown_route_is_404_and_wrong_method_is_405(harness: Harness) -> None:
    assert harness.send(api_event("POST", "/webhooks/tiktok")).status == 404
    assert harness.send(api_event("GET", "/")).status == 404
    response = harness.send(api_event("PUT", "/webhooks/meta", body=b"{}"))
    assert (response.status, response.headers) == (405, {"allow": "GET, POST"})
    assert harness.send(api_event("DELETE", "/webhooks/x/")).status == 405


def test_challenges_are_answered_on_get(harness: Harness) -> None:
    assert body_of(harness.send(sample("x-crc")))["response_token"] == "sha256=tkNEg0seEcYQ8M3405Unns/xCXZPr0AfN2Yx77Yg+c8="
    assert harness.send(sample("meta-verify")).body == "1158201444"


def test_verify_token_from_the_previous_secret_version_is_still_accepted() -> None:
    harness = Harness(FakeSecrets(current={"meta_verify_token": "new-token"}, previous={"meta_verify_token": "test-verify-token"}))
    assert harness.send(sample("meta-verify")).status == 200


def test_queue_failure_answers_503_so_the_platform_redelivers() -> None:
    harness = Harness()
    harness.events.failing = True
    response = harness.send(sample("meta-batch"))
    assert response.status == 503
    assert body_of(response) == {"error": "could not queue events, retry later"}


def test_ignored_only_delivery_is_acknowledged_without_queueing(harness: Harness) -> None:
    response = harness.send(sample("x-like"))
    assert (response.status, body_of(response)) == (200, {"queued": 0, "ignored": 1, "quarantined": 0})
    assert harness.events.messages == []


def test_unreadable_item_is_quarantined_with_its_reason_and_the_rest_queued(harness: Harness) -> None:
    # Given a WhatsApp delivery with one message missing its sender next to a good one
    payload = sample_body("meta-whatsapp-text")
    messages = payload["entry"][0]["changes"][0]["value"]["messages"]
    messages.insert(0, {"id": "wamid.broken", "timestamp": "1752000000", "type": "text", "text": {"body": "hi"}})
    # When it is received
    response = harness.send(meta_post(to_bytes(payload)))
    # Then the good message is queued, the broken one is kept whole in quarantine, and the platform gets 200
    assert body_of(response) == {"queued": 1, "ignored": 0, "quarantined": 1}
    [kept] = [json.loads(message.body) for message in harness.quarantine.messages]
    assert kept["reason"] == "KeyError: 'from'"
    assert kept["item"]["id"] == "wamid.broken"
    assert kept["webhook"] == "meta"
    assert [event.kind for event in harness.events.events] == [EventKind.DIRECT_MESSAGE]


def test_logs_never_carry_bodies_secrets_or_verify_tokens(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    # Given requests of every outcome that carry recognisable text, a secret and a verify token
    canary = "CANARY-dana@example.com-+16505551234"
    payload = sample_body("meta-whatsapp-text")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = canary
    for event in (
        meta_post(to_bytes(payload)),
        meta_post(to_bytes(payload), secret="wrong"),
        meta_post(canary.encode() + b"{"),
        api_event("GET", "/webhooks/meta", query="hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong-token-CANARY"),
        sample("meta-verify"),
    ):
        harness.send(event)
    # Then the JSON lines the logger emits hold none of them
    logged = "\n".join(logger.registered_formatter.format(record) for record in caplog.records)
    assert "webhook accepted" in logged
    assert "webhook refused" in logged
    for secret_or_text in ("CANARY", "test-app-secret", "test-verify-token", "16505551234"):
        assert secret_or_text not in logged


HUGE = 10**400


def _at(document: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


@pytest.mark.parametrize(
    ("sample_name", "items_path", "field", "value"),
    [
        ("meta-messenger-message", ("entry", 0, "messaging"), "timestamp", HUGE),
        ("meta-whatsapp-text", ("entry", 0, "changes", 0, "value", "messages"), "timestamp", str(HUGE)),
        ("x-dm", ("direct_message_events",), "created_timestamp", str(HUGE)),
        ("x-mention", ("tweet_create_events",), "timestamp_ms", HUGE),
        ("x-tweet-delete", ("tweet_delete_events",), "timestamp_ms", -HUGE),
    ],
    ids=["messenger-timestamp", "whatsapp-timestamp", "x-dm-created-timestamp", "x-timestamp-ms", "x-delete-negative"],
)
def test_a_huge_epoch_quarantines_its_item_and_the_delivery_is_acknowledged(
    harness: Harness, sample_name: str, items_path: tuple[str | int, ...], field: str, value: object
) -> None:
    # Given a delivery of two copies of an item, the first with an epoch of 400 digits (it overflowed a float: a 500)
    payload = sample_body(sample_name)
    items = _at(payload, items_path)
    items.append(json.loads(json.dumps(items[0])))
    items[0][field] = value
    # When it is received
    response = harness.send((x_post if sample_name.startswith("x-") else meta_post)(to_bytes(payload)))
    # Then the broken item is quarantined with its reason and its intact sibling queued: 200, no redelivery
    assert (response.status, body_of(response)) == (200, {"queued": 1, "ignored": 0, "quarantined": 1})
    [kept] = [json.loads(message.body) for message in harness.quarantine.messages]
    assert kept["reason"].startswith("ValueError: ")


@pytest.mark.parametrize("followers", [HUGE, -5, 1.5, True, "NaN", "12a"], ids=["huge", "negative", "float", "bool", "nan-string", "not-digits"])
def test_an_unreadable_follower_count_reads_as_unknown_and_the_message_still_queues(harness: Harness, followers: object) -> None:
    # Given a mention whose author has a follower count no helpdesk field could hold
    payload = sample_body("x-mention")
    payload["tweet_create_events"][0]["user"]["followers_count"] = followers
    # When it is received
    response = harness.send(x_post(to_bytes(payload)))
    # Then the customer's message is queued (the count only informs priority), with the count unknown
    assert body_of(response) == {"queued": 1, "ignored": 0, "quarantined": 0}
    [event] = harness.events.events
    assert event.author is not None
    assert event.author.follower_count is None


@pytest.mark.parametrize(("code", "read"), [(131047, 131047), ("131047", 131047), (HUGE, None), (2.5, None), (False, None)])
def test_whatsapp_status_error_codes_are_read_as_32_bit_integers(harness: Harness, code: object, read: int | None) -> None:
    # Given a failed-delivery status whose error code is given in some other form
    payload = sample_body("meta-whatsapp-status-failed")
    _at(payload, ("entry", 0, "changes", 0, "value", "statuses", 0, "errors", 0))["code"] = code
    # When it is received
    harness.send(meta_post(to_bytes(payload)))
    # Then the warning still reaches the agent, with the code when it is one
    [event] = harness.events.events
    assert event.delivery is not None
    assert event.delivery.error_code == read
