"""The X CRC route is no signing oracle (architecture principle 8).

X's CRC answer, `sha256=base64(HMAC(consumer secret, crc_token))`, has exactly the form of its POST
signature over a body equal to `crc_token` (docs.x.com x-api/webhooks/quickstart, CRC and signature). So a GET must only ever
sign values that no POST ingest accepts could equal.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialdesk.devtools.samples import TEST_SECRETS
from socialdesk.observability import logger
from socialdesk.platforms.signing import base64_signature
from socialdesk.platforms.x import CRC_TOKEN_ALPHABET, CRC_TOKEN_MAX_CHARS
from tests.support.ingest import Harness
from tests.support.webhooks import api_event, sample_body, to_bytes

tokens = st.text(alphabet=CRC_TOKEN_ALPHABET, min_size=1, max_size=CRC_TOKEN_MAX_CHARS)


def crc(harness: Harness, token: str) -> tuple[int, dict[str, str]]:
    response = harness.send(api_event("GET", "/webhooks/x", query=f"crc_token={quote(token, safe='')}"))
    return response.status, json.loads(response.body)


def post_signed(harness: Harness, body: bytes, signature: str, *, base64_body: bool) -> int:
    event = api_event("POST", "/webhooks/x", body=body, headers={"x-twitter-webhooks-signature": signature}, base64_body=base64_body)
    return harness.send(event).status


def test_a_json_event_as_crc_token_is_refused_and_signs_nothing(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    # Given the attack: an X event, URL-encoded into the CRC query, whose answer would be its POST signature
    forged = to_bytes(sample_body("x-mention")).decode("ascii")
    # When it is sent as the crc_token
    status, body = crc(harness, forged)
    # Then it is refused with 400 and no response token, and the log says why without quoting the token
    assert (status, body) == (400, {"error": "crc_token_not_token_shaped"})
    logged = "\n".join(logger.registered_formatter.format(record) for record in caplog.records)
    assert "crc_token is not a short token" in logged
    assert "tweet_create_events" not in logged


def test_the_refused_answer_would_have_been_a_genuine_post_signature(harness: Harness) -> None:
    # Given what the CRC answer for a JSON event used to be
    forged = to_bytes(sample_body("x-mention"))
    old_answer = base64_signature(TEST_SECRETS["x_consumer_secret"], forged)
    # Then it is accepted as that event's POST signature: the refusal on GET is the only defence, and it is needed
    assert post_signed(harness, forged, old_answer, base64_body=False) == 200


@pytest.mark.parametrize(
    "token",
    ["challenge-123", "9b4507b3-9040-4669-9ca3-6b94edb50553", "MTQ3OTg1NjI3NTQwOQ==", "a+b/c=d.e_f~g"],
    ids=["documented-vector", "uuid", "base64", "every-punctuation"],
)
def test_token_shaped_crc_values_are_answered(harness: Harness, token: str) -> None:
    status, body = crc(harness, token)
    assert status == 200
    assert body == {"response_token": base64_signature(TEST_SECRETS["x_consumer_secret"], token.encode())}


@pytest.mark.parametrize(
    "token",
    ['{"a":1}', "{}", "a" * (CRC_TOKEN_MAX_CHARS + 1), "with space", 'quote"d', "colon:", "new\nline", "ünïcode"],
    ids=["json-object", "empty-object", "too-long", "space", "quote", "colon", "newline", "non-ascii"],
)
def test_values_x_never_sends_are_refused(harness: Harness, token: str) -> None:
    status, body = crc(harness, token)
    assert (status, body) == (400, {"error": "crc_token_not_token_shaped"})


def test_no_accepted_token_can_be_a_json_object_by_the_alphabet() -> None:
    # Given the characters a CRC token may hold
    alphabet = set(CRC_TOKEN_ALPHABET)
    # Then none is `{` (every JSON object starts with it after optional whitespace, RFC 8259 §4), nor `"` or `:`
    # (every member needs them), nor JSON whitespace: so no answered token, whatever its length, decodes as an object.
    assert alphabet.isdisjoint('{}":[] \t\r\n')
    # And the signed bytes are the token's ASCII bytes: a POST verifies only if its raw body (after the base64
    # decoding ingest does for `isBase64Encoded`) is those same bytes, which hold no `{` either.
    assert all(ord(char) < 128 for char in alphabet)
    assert b"{" not in CRC_TOKEN_ALPHABET.encode("ascii")


@settings(max_examples=200, deadline=None)
@given(tokens)
def test_no_crc_answer_is_a_signature_for_a_delivery_ingest_accepts(token: str) -> None:
    # Given any token-shaped CRC token, and the answer the GET route gives for it
    harness = Harness()
    status, body = crc(harness, token)
    assert status == 200
    signature = body["response_token"]
    # Then the only bytes it signs, the token's own, do not decode as a JSON object
    try:
        decoded = msgspec.json.decode(token.encode())
    except msgspec.DecodeError:
        decoded = None
    assert not isinstance(decoded, dict)
    # And posting them with that signature, as a plain or a base64-flagged body, is refused and queues nothing
    for base64_body in (False, True):
        assert post_signed(harness, token.encode(), signature, base64_body=base64_body) == 400
    assert harness.events.messages == harness.quarantine.messages == []
