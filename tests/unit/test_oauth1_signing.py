"""OAuth 1.0a signing (RFC 5849) against Twitter's published "Creating a signature" example."""

from __future__ import annotations

import re

from socialdesk.platforms.oauth1 import OAuth1Credentials, authorization_header, hmac_sha1_signature, percent_encode, signature_base_string

# Twitter's worked example (dev.twitter.com/docs/auth/creating-signature, as reproduced in bennadel/Crypto.cfc
# examples/twitter_authentication.cfm): the request, the secrets, the base string and the expected signature.
CREDENTIALS = OAuth1Credentials(
    consumer_key="xvz1evFS4wEEPTGEFPHBog",
    consumer_secret="kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
    token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
    token_secret="LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
)
NONCE = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"
TIMESTAMP = 1318622958
URL = "https://api.twitter.com/1/statuses/update.json?include_entities=true"
FORM = {"status": "Hello Ladies + Gentlemen, a signed OAuth request!"}
EXPECTED_BASE = (
    "POST&https%3A%2F%2Fapi.twitter.com%2F1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog"
    "%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958"
    "%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0"
    "%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"
)
EXPECTED_SIGNATURE = "tnnArxj06cWHq44gCs1OSKk/jLY="


def test_the_base_string_of_twitters_example_is_built_as_published() -> None:
    # Given the example's parameters: OAuth's, the query's and the form body's
    parameters = [
        ("include_entities", "true"),
        ("oauth_consumer_key", CREDENTIALS.consumer_key),
        ("oauth_nonce", NONCE),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", str(TIMESTAMP)),
        ("oauth_token", CREDENTIALS.token),
        ("oauth_version", "1.0"),
        *FORM.items(),
    ]
    # Then the base string is the published one, whatever the order they come in
    assert signature_base_string("post", URL, list(reversed(parameters))) == EXPECTED_BASE


def test_the_signature_of_twitters_example_is_the_published_one() -> None:
    assert hmac_sha1_signature(EXPECTED_BASE, CREDENTIALS.consumer_secret, CREDENTIALS.token_secret) == EXPECTED_SIGNATURE


def test_the_header_carries_the_published_signature_for_the_example_request() -> None:
    # When the whole header is built for the example's request, nonce and time
    header = authorization_header("POST", URL, CREDENTIALS, form=FORM, nonce=lambda: NONCE, clock=lambda: TIMESTAMP)
    # Then it signs it as Twitter's example does, and never carries a secret
    assert header.startswith("OAuth ")
    fields = dict(re.findall(r'(\w+)="([^"]*)"', header))
    assert fields["oauth_signature"] == percent_encode(EXPECTED_SIGNATURE)
    assert fields["oauth_token"] == CREDENTIALS.token
    assert CREDENTIALS.consumer_secret not in header and CREDENTIALS.token_secret not in header


def test_unreserved_characters_stay_and_everything_else_is_encoded_upper_case() -> None:
    assert percent_encode("Ladies + Gentlemen, ~a-b_c.d!*'()") == "Ladies%20%2B%20Gentlemen%2C%20~a-b_c.d%21%2A%27%28%29"
    assert percent_encode("☃") == "%E2%98%83"
