"""`socialdesk send --now` and the demo move a sample's timestamps, so the response clock starts when it is sent."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from socialdesk.devtools.samples import body_json, redated, with_json_body
from socialdesk.platforms.meta import MetaWebhook
from socialdesk.platforms.signing import matches_any
from tests.support.webhooks import sample, sample_body

AT = datetime(2026, 11, 23, 9, 30, 15, tzinfo=UTC)


def test_x_timestamps_move_in_both_of_xs_formats() -> None:
    # Given an X mention, which dates itself twice (a text date and epoch milliseconds as a string)
    tweet = redated(sample_body("x-mention"), AT)["tweet_create_events"][0]
    # Then both name the new moment, each in its own format
    assert tweet["created_at"] == "Mon Nov 23 09:30:15 +0000 2026"
    assert tweet["timestamp_ms"] == str(int(AT.timestamp() * 1000))


def test_meta_timestamps_keep_seconds_milliseconds_and_strings_apart() -> None:
    # Given WhatsApp (epoch seconds as a string) and Messenger (epoch milliseconds as a number)
    whatsapp = redated(sample_body("meta-whatsapp-text"), AT)
    messenger = redated(sample_body("meta-messenger-message"), AT)
    # Then each keeps its unit and type
    assert whatsapp["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] == str(int(AT.timestamp()))
    assert messenger["entry"][0]["messaging"][0]["timestamp"] == int(AT.timestamp() * 1000)


def test_text_that_is_not_a_date_is_left_alone() -> None:
    payload = {"text": "Wed at 10?", "time": "soon", "created_time": True, "nested": [{"timestamp": "n/a"}]}
    assert redated(payload, AT) == payload


def test_a_redated_meta_body_is_escaped_and_signed_as_meta_sends_it() -> None:
    # Given the WhatsApp sample, whose text has non-ASCII characters, moved to a new time
    event = with_json_body(sample("meta-whatsapp-text"), redated(body_json(sample("meta-whatsapp-text")), AT))
    # Then the body escapes non-ASCII as Meta does, its signature verifies, and the event reads as sent at AT
    assert "\\u00bf" in event["body"]
    body = event["body"].encode()
    assert matches_any(event["headers"]["x-hub-signature-256"], MetaWebhook().signatures(body, ["test-app-secret"]))
    (social_event,) = MetaWebhook().normalise(json.loads(body), AT).events
    assert social_event.created_at == AT.replace(microsecond=0)
    assert (social_event.text or "").startswith("Mi pedido no ha llegado. ¿Pueden")
