"""OAuth 1.0a request signing (RFC 5849, HMAC-SHA1): the user context X's v2 write endpoints accept for a brand account.

Written here rather than taken from requests-oauthlib: neither it nor oauthlib is in uv.lock (simple-salesforce and
zeep do not pull them in), and signing is forty lines of the standard library. Only what X needs: an `Authorization:
OAuth` header over the method, the URL and its query parameters. A JSON body is not a parameter (RFC 5849 §3.4.1.3.1
counts only form-encoded bodies), so X v2's JSON sends are signed over the URL alone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import msgspec

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


class OAuth1Credentials(msgspec.Struct, frozen=True, kw_only=True):
    consumer_key: str
    consumer_secret: str
    token: str
    token_secret: str


def percent_encode(value: str) -> str:
    """RFC 5849 §3.6: every byte but the unreserved characters (ALPHA, DIGIT, '-', '.', '_', '~'), upper-case hex."""
    return quote(value, safe="-._~")


def base_string_uri(url: str) -> str:
    """RFC 5849 §3.4.1.2: scheme and host lower-case, default ports dropped, no query or fragment."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.port and not (parts.scheme == "https" and parts.port == 443) and not (parts.scheme == "http" and parts.port == 80):
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", "", ""))


def signature_base_string(method: str, url: str, parameters: list[tuple[str, str]]) -> str:
    """RFC 5849 §3.4.1: METHOD & encoded base URI & encoded normalised parameters (encoded, then sorted by name and value)."""
    encoded = sorted((percent_encode(name), percent_encode(value)) for name, value in parameters)
    normalised = "&".join(f"{name}={value}" for name, value in encoded)
    return "&".join((method.upper(), percent_encode(base_string_uri(url)), percent_encode(normalised)))


def hmac_sha1_signature(base_string: str, consumer_secret: str, token_secret: str) -> str:
    """RFC 5849 §3.4.2: key = encoded consumer secret & encoded token secret; base64 of the HMAC-SHA1 digest."""
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}"
    return base64.b64encode(hmac.new(key.encode(), base_string.encode(), hashlib.sha1).digest()).decode()


def authorization_header(
    method: str,
    url: str,
    credentials: OAuth1Credentials,
    *,
    form: Mapping[str, str] | None = None,
    nonce: Callable[[], str] = lambda: secrets.token_hex(16),
    clock: Callable[[], float] = time.time,
) -> str:
    """The `Authorization` header value for one request (a fresh nonce and timestamp each time)."""
    oauth = {
        "oauth_consumer_key": credentials.consumer_key,
        "oauth_nonce": nonce(),
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(int(clock())),
        "oauth_token": credentials.token,
        "oauth_version": "1.0",
    }
    parameters = [*oauth.items(), *parse_qsl(urlsplit(url).query, keep_blank_values=True), *(form or {}).items()]
    oauth["oauth_signature"] = hmac_sha1_signature(
        signature_base_string(method, url, parameters), credentials.consumer_secret, credentials.token_secret
    )
    return "OAuth " + ", ".join(f'{percent_encode(name)}="{percent_encode(value)}"' for name, value in oauth.items())
