"""Signature checks for every platform path, against the documented test vectors (docs.x.com x-api/webhooks/quickstart;
developers.facebook.com/docs/graph-api/webhooks/getting-started)."""

from __future__ import annotations

import pytest

from socialdesk.platforms.meta import MetaWebhook
from socialdesk.platforms.signing import base64_signature, hex_signature, matches_any
from socialdesk.platforms.webhook import ChallengeRefusedError
from socialdesk.platforms.x import XWebhook

X_SECRET = "test-consumer-secret"
META_SECRET = "test-app-secret"
X_BODY = b'{"for_user_id":"100","tweet_create_events":[]}'
X_BODY_SIGNATURE = "sha256=+5eK7GEX908kHaolKcjg0iAjBtp1jvbjlO9ocKtnBj0="
# Meta signs the unicode-escaped bytes it sends: a literal backslash-u sequence, not the UTF-8 character.
META_ESCAPED_BODY = (
    b'{"object":"page","entry":[{"id":"111","time":1750000000,"changes":[{"field":"feed",'
    b'"value":{"item":"comment","verb":"add","message":"caf\\u00e9"}}]}]}'
)
META_ESCAPED_SIGNATURE = "sha256=0b148c598625da936f943f900269df4229ae068c1344dacc951f1f1fd8b83a6c"
META_RESERIALISED_SIGNATURE = "sha256=1704ea176314288695ee0c164fb980fdcfb0306bf09a5e718128d571755726f1"


def test_x_crc_response_token_matches_documented_vector() -> None:
    # Given X's CRC challenge with the documented token
    # When the challenge is answered with the consumer secret
    response = XWebhook().answer_challenge({"crc_token": "challenge-123"}, [X_SECRET])
    # Then the response token is the documented base64 HMAC
    assert response.status == 200
    assert response.body == '{"response_token":"sha256=tkNEg0seEcYQ8M3405Unns/xCXZPr0AfN2Yx77Yg+c8="}'
    assert response.content_type == "application/json"


def test_x_crc_is_answered_with_the_current_secret_during_rotation() -> None:
    # Given a rotation in progress (current, previous)
    response = XWebhook().answer_challenge({"crc_token": "challenge-123"}, [X_SECRET, "old-secret"])
    # Then the token is computed with the current secret X now holds
    assert "tkNEg0seEcYQ8M3405Unns" in response.body


@pytest.mark.parametrize("query", [{"crc_token": ""}, {}], ids=["blank", "absent"])
def test_x_crc_without_token_is_a_client_error(query: dict[str, str]) -> None:
    with pytest.raises(ChallengeRefusedError) as refused:
        XWebhook().answer_challenge(query, [X_SECRET])
    assert (refused.value.status, refused.value.code) == (400, "crc_token_missing")


def test_x_post_signature_matches_documented_vector() -> None:
    assert XWebhook().signatures(X_BODY, [X_SECRET]) == [X_BODY_SIGNATURE]
    assert matches_any(X_BODY_SIGNATURE, XWebhook().signatures(X_BODY, [X_SECRET]))


def test_meta_signature_is_computed_over_the_escaped_bytes_as_received() -> None:
    # Given the documented body with a \u00e9 escape in its bytes
    # Then the signature over those exact bytes is the documented one
    assert MetaWebhook().signatures(META_ESCAPED_BODY, [META_SECRET]) == [META_ESCAPED_SIGNATURE]


def test_meta_signature_of_reserialised_body_does_not_verify() -> None:
    # Given the same JSON re-serialised with a literal é (what json.dumps(json.loads(...), ensure_ascii=False) gives)
    reserialised = META_ESCAPED_BODY.replace(b"\\u00e9", "é".encode())
    # Then its signature is the documented wrong one, and the genuine header does not match it
    assert MetaWebhook().signatures(reserialised, [META_SECRET]) == [META_RESERIALISED_SIGNATURE]
    assert not matches_any(META_ESCAPED_SIGNATURE, MetaWebhook().signatures(reserialised, [META_SECRET]))


@pytest.mark.parametrize(
    ("presented", "why"),
    [
        (None, "missing header"),
        ("", "empty header"),
        ("+5eK7GEX908kHaolKcjg0iAjBtp1jvbjlO9ocKtnBj0=", "no sha256= prefix"),
        ("sha1=+5eK7GEX908kHaolKcjg0iAjBtp1jvbjlO9ocKtnBj0=", "wrong algorithm prefix"),
        ("SHA256=+5eK7GEX908kHaolKcjg0iAjBtp1jvbjlO9ocKtnBj0=", "prefix in another case"),
        ("sha256=" + hex_signature(X_SECRET, X_BODY).removeprefix("sha256="), "hex digest where X sends base64"),
        ("sha256=+5eK7GEX908kHaolKcjg0iAjBtp1jvbjlO9ocKtnBj0", "truncated digest"),
        ("sha256=+5eK7GEX908kHaolKcjg0iAjBtp1jvbjlO9ocKtnBjé=", "non-ASCII in the header"),
    ],
)
def test_x_signature_rejects_malformed_headers(presented: str | None, why: str) -> None:
    assert not matches_any(presented, XWebhook().signatures(X_BODY, [X_SECRET])), why


@pytest.mark.parametrize(
    ("presented", "why"),
    [
        (META_ESCAPED_SIGNATURE.removeprefix("sha256="), "no sha256= prefix"),
        ("sha1=" + META_ESCAPED_SIGNATURE.removeprefix("sha256="), "legacy X-Hub-Signature prefix"),
        (base64_signature(META_SECRET, META_ESCAPED_BODY), "base64 digest where Meta sends hex"),
        (hex_signature("another-app-secret", META_ESCAPED_BODY), "signed with another app's secret"),
    ],
)
def test_meta_signature_rejects_malformed_headers(presented: str, why: str) -> None:
    assert not matches_any(presented, MetaWebhook().signatures(META_ESCAPED_BODY, [META_SECRET])), why


def test_a_body_tampered_by_one_byte_no_longer_verifies() -> None:
    # Given a genuine signature and the body with a single byte changed
    tampered = X_BODY.replace(b"100", b"101")
    # Then neither platform's check accepts it
    assert not matches_any(X_BODY_SIGNATURE, XWebhook().signatures(tampered, [X_SECRET]))
    assert not matches_any(META_ESCAPED_SIGNATURE, MetaWebhook().signatures(META_ESCAPED_BODY.replace(b"1750000000", b"1750000001"), [META_SECRET]))


def test_both_current_and_previous_secret_verify_during_rotation() -> None:
    # Given the platform still signs with the previous secret after ours rotated
    signed_with_old = hex_signature("old-app-secret", META_ESCAPED_BODY)
    # Then the previous secret still verifies, and an unrelated secret does not
    assert matches_any(signed_with_old, MetaWebhook().signatures(META_ESCAPED_BODY, [META_SECRET, "old-app-secret"]))
    assert not matches_any(signed_with_old, MetaWebhook().signatures(META_ESCAPED_BODY, [META_SECRET, "unrelated"]))


def test_meta_verification_echoes_the_raw_challenge_for_the_right_token() -> None:
    # Given Meta's subscription check with the configured verify token
    query = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "test-verify-token"}
    response = MetaWebhook().answer_challenge(query, ["test-verify-token"])
    # Then the challenge comes back as plain text, not JSON or a quoted string
    assert (response.status, response.body) == (200, "1158201444")
    assert response.content_type.startswith("text/plain")


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "wrong-token"},
        {"hub.mode": "unsubscribe", "hub.challenge": "1158201444", "hub.verify_token": "test-verify-token"},
        {"hub.challenge": "1158201444", "hub.verify_token": "test-verify-token"},
        {"hub.mode": "subscribe", "hub.challenge": "1158201444"},
    ],
    ids=["wrong-token", "wrong-mode", "no-mode", "no-token"],
)
def test_meta_verification_is_forbidden_otherwise(query: dict[str, str]) -> None:
    with pytest.raises(ChallengeRefusedError) as refused:
        MetaWebhook().answer_challenge(query, ["test-verify-token"])
    assert refused.value.status == 403
    assert "1158201444" not in refused.value.reason


@pytest.mark.parametrize(
    "presented",
    [" test-verify-token", "test-verify-token ", "test-verify-token\n", "\ttest-verify-token", "TEST-VERIFY-TOKEN", "test-verify-toke"],
    ids=["leading-space", "trailing-space", "trailing-newline", "leading-tab", "other-case", "prefix"],
)
def test_meta_verify_token_must_match_exactly_byte_for_byte(presented: str) -> None:
    # Given Meta's subscription check whose token differs from the configured one only by whitespace, case or length
    query = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": presented}
    # Then it is refused: the verify token is a secret and is compared exactly (it used to be stripped first)
    with pytest.raises(ChallengeRefusedError):
        MetaWebhook().answer_challenge(query, ["test-verify-token"])


@pytest.mark.parametrize(
    "presented",
    [f" {X_BODY_SIGNATURE}", f"{X_BODY_SIGNATURE} ", f"{X_BODY_SIGNATURE}\r\n", X_BODY_SIGNATURE.upper(), X_BODY_SIGNATURE + "\ud800"],
    ids=["leading-space", "trailing-space", "trailing-crlf", "other-case", "lone-surrogate"],
)
def test_signature_headers_must_match_exactly(presented: str) -> None:
    # Given the genuine signature with whitespace around it (HTTP parsers already drop optional whitespace, so X never sends it)
    # Then it does not verify, and an unencodable character is a mismatch rather than an exception
    assert not matches_any(presented, XWebhook().signatures(X_BODY, [X_SECRET]))


def test_verify_token_with_non_ascii_characters_compares_without_error() -> None:
    # Given an operator chose a verify token with non-ASCII characters
    query = {"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "jeton-vérifié"}
    # Then the right token is accepted (candidates used to be encoded as ASCII, raising UnicodeEncodeError)
    assert MetaWebhook().answer_challenge(query, ["jeton-vérifié"]).status == 200
