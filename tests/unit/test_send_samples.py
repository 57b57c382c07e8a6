"""`socialdesk send` finds a sample by name or path and signs it as the platform would, even after it was edited."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from socialdesk.devtools.samples import TEST_SECRETS, raw_body
from socialdesk.local.send import SampleError, SampleNotFoundError, find_sample, list_samples, prepared
from socialdesk.platforms.meta import MetaWebhook
from socialdesk.platforms.signing import matches_any
from tests.support.webhooks import EVENTS_DIR

if TYPE_CHECKING:
    from pathlib import Path


def test_a_sample_is_found_by_name_with_or_without_json_and_by_path(tmp_path: Path) -> None:
    own = tmp_path / "mine.json"
    own.write_text("{}")
    assert find_sample("x-mention", EVENTS_DIR) == EVENTS_DIR / "x-mention.json"
    assert find_sample("x-mention.json", EVENTS_DIR) == EVENTS_DIR / "x-mention.json"
    assert find_sample(str(own), EVENTS_DIR) == own
    with pytest.raises(SampleNotFoundError, match="socialdesk send --list"):
        find_sample("x-mentoin", EVENTS_DIR)


def test_an_edited_file_is_signed_again_before_it_is_sent(tmp_path: Path) -> None:
    # Given a copy of the WhatsApp sample whose text someone changed, leaving the old signature
    event = json.loads((EVENTS_DIR / "meta-whatsapp-text.json").read_text())
    event["body"] = event["body"].replace("Mi pedido no ha llegado", "Mi pedido lleg\\u00f3 roto")
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(event))
    # When it is prepared for sending
    ready = prepared(path, now=None)
    # Then the body is sent byte for byte as edited, under a signature that matches it
    assert raw_body(ready) == event["body"].encode()
    assert matches_any(ready["headers"]["x-hub-signature-256"], MetaWebhook().signatures(raw_body(ready), [TEST_SECRETS["meta_app_secret"]]))
    assert ready["headers"]["x-hub-signature-256"] != event["headers"]["x-hub-signature-256"]


def test_now_moves_the_message_time_and_keeps_a_valid_signature() -> None:
    at = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    ready = prepared(EVENTS_DIR / "meta-whatsapp-text.json", now=at)
    payload = json.loads(raw_body(ready))
    assert payload["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] == str(int(at.timestamp()))
    assert matches_any(ready["headers"]["x-hub-signature-256"], MetaWebhook().signatures(raw_body(ready), [TEST_SECRETS["meta_app_secret"]]))


def test_challenges_are_sent_as_they_are() -> None:
    sample = EVENTS_DIR / "meta-verify.json"
    assert prepared(sample, now=datetime.now(UTC)) == json.loads(sample.read_text())


def test_the_list_reads_each_samples_description_from_the_events_readme() -> None:
    described = {sample.name: sample.description for sample in list_samples(EVENTS_DIR)}
    assert set(described) == {path.stem for path in EVENTS_DIR.glob("*.json")}
    assert all(described.values()), [name for name, what in described.items() if not what]
    assert "`" not in "".join(described.values())


def test_a_body_that_is_not_json_is_sent_as_it_is_signed(tmp_path: Path) -> None:
    # Given a Meta event whose body someone made unreadable, to see how ingest answers it
    event = json.loads((EVENTS_DIR / "meta-whatsapp-text.json").read_text())
    event["body"] = "not json {"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(event))
    # When it is prepared with its times moved to now and fresh ids (neither can apply)
    ready = prepared(path, now=datetime.now(UTC), fresh=True)
    # Then it goes byte for byte, signed, for ingest to refuse (400)
    assert raw_body(ready) == b"not json {"
    assert matches_any(ready["headers"]["x-hub-signature-256"], MetaWebhook().signatures(b"not json {", [TEST_SECRETS["meta_app_secret"]]))


@pytest.mark.parametrize("depth", [990, 5000], ids=["readable-too-deep-to-rewrite", "too-deep-to-read"])
def test_a_body_nested_too_deeply_to_rewrite_is_sent_as_it_is_signed(tmp_path: Path, depth: int) -> None:
    # Given a Meta event whose body nests thousands deep (json, redating and new ids each recurse per level)
    event = json.loads((EVENTS_DIR / "meta-whatsapp-text.json").read_text())
    event["body"] = '{"object":"page","entry":' + "[" * depth + "]" * depth + "}"
    path = tmp_path / "deep.json"
    path.write_text(json.dumps(event))
    # When it is prepared with its times moved to now and fresh ids
    ready = prepared(path, now=datetime.now(UTC), fresh=True)
    # Then it goes byte for byte, signed, as any body it cannot rewrite, instead of a RecursionError
    assert raw_body(ready) == event["body"].encode()
    assert matches_any(ready["headers"]["x-hub-signature-256"], MetaWebhook().signatures(raw_body(ready), [TEST_SECRETS["meta_app_secret"]]))


def test_fresh_gives_the_message_a_new_id_under_a_valid_signature() -> None:
    at = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    recorded = json.loads(raw_body(json.loads((EVENTS_DIR / "meta-whatsapp-text.json").read_text())))
    ready = prepared(EVENTS_DIR / "meta-whatsapp-text.json", now=at, fresh=True)
    message = json.loads(raw_body(ready))["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message["id"] != recorded["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    assert message["from"] == "16505551234"
    assert message["timestamp"] == str(int(at.timestamp()))
    assert matches_any(ready["headers"]["x-hub-signature-256"], MetaWebhook().signatures(raw_body(ready), [TEST_SECRETS["meta_app_secret"]]))


def test_a_file_that_is_not_an_event_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "payload.json"
    path.write_text(json.dumps({"object": "page", "entry": []}))  # a bare webhook body, not the API Gateway event around it
    with pytest.raises(SampleError, match=r"not an API Gateway HTTP API event \(no requestContext.http.method\)"):
        prepared(path, now=None)
