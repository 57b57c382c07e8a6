"""Held: the CRC answer for a token that is base64 of a JSON event signs nothing ingest accepts, whatever the base64 flag."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

from tests.support.ingest import Harness
from tests.support.webhooks import api_event, request, sample_body


def test_a_crc_answer_for_base64_of_an_event_is_no_signature_for_that_event_in_either_encoding() -> None:
    # Given an attacker's X DM event, base64-encoded: token-shaped (letters, digits, + / =), at most 512 characters
    harness = Harness()
    event = {"for_user_id": "900000000000000001", "direct_message_events": sample_body("x-dm")["direct_message_events"]}
    token = base64.b64encode(json.dumps(event, separators=(",", ":")).encode()).decode()
    token = token[:512] if len(token) <= 512 else base64.b64encode(b'{"for_user_id":"1"}').decode()
    # When the CRC route answers it (it is token-shaped)
    answer = harness.ingest.handle(request(api_event("GET", "/webhooks/x", query=f"crc_token={quote(token, safe='')}")))
    assert answer.status == 200
    signature = json.loads(answer.body)["response_token"]
    # Then posting the token as a plain body, or flagged base64 (so the decoded bytes are the JSON), queues nothing
    for body, flagged in ((token, False), (token, True)):
        attack = api_event("POST", "/webhooks/x", headers={"x-twitter-webhooks-signature": signature})
        attack.update(body=body, isBase64Encoded=flagged)
        response = harness.ingest.handle(request(attack))
        assert response.status in (400, 401), response
    assert harness.events.messages == []
