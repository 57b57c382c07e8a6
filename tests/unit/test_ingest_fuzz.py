"""A fuzz of the whole ingest use case: any request gets a documented answer, and trust is never misplaced.

Requests are drawn over methods, paths, headers, query strings (the CRC and Meta verification routes
included) and bodies: arbitrary bytes, JSON, and real samples with numeric extremes, signed with the
right secret, a wrong one, or not at all.
"""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any
from urllib.parse import quote, urlencode

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialdesk.devtools.samples import TEST_SECRETS
from socialdesk.http import HttpRequest
from socialdesk.platforms.signing import base64_signature, hex_signature
from tests.support.ingest import Harness
from tests.support.webhooks import api_event, sample_body, to_bytes
from tests.unit.test_normalisation_properties import POST_SAMPLES, deliveries_with_one_bad_number, json_values

# README, "What the webhooks answer" (503 needs an unavailable secret store or queue; these fakes are healthy).
DOCUMENTED = {200, 400, 401, 403, 404, 405, 413}
SIGNATURE_HEADERS = {"/webhooks/x": "x-twitter-webhooks-signature", "/webhooks/meta": "x-hub-signature-256"}

texts = st.text(max_size=40)
paths = st.sampled_from(["/webhooks/x", "/webhooks/meta", "/webhooks/x/", "/webhooks/tiktok", "/", "/webhooks"]) | st.text(max_size=20)
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "get", "post"])


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "json", "sample", "extreme"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "sample":
        return to_bytes(sample_body(draw(st.sampled_from(POST_SAMPLES))))
    _, delivery, _ = draw(deliveries_with_one_bad_number())
    return to_bytes(delivery)


@st.composite
def queries(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["crc", "crc-json", "meta", "random"]))
    if kind == "crc":
        return "crc_token=" + quote(draw(texts), safe="")
    if kind == "crc-json":
        return "crc_token=" + quote(json.dumps(draw(json_values)), safe="")
    if kind == "meta":
        token = draw(st.sampled_from([TEST_SECRETS["meta_verify_token"], " " + TEST_SECRETS["meta_verify_token"], "wrong"]))
        return urlencode({"hub.mode": draw(st.sampled_from(["subscribe", "unsubscribe"])), "hub.challenge": draw(texts), "hub.verify_token": token})
    return draw(texts)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    path, body = draw(paths), draw(bodies())
    headers = draw(st.dictionaries(st.sampled_from([*SIGNATURE_HEADERS.values(), "content-type", "X-Hub-Signature-256"]) | texts, texts, max_size=3))
    signer = draw(st.sampled_from(["right", "wrong-secret", "none", "random"]))
    if signer in ("right", "wrong-secret") and path.rstrip("/") in SIGNATURE_HEADERS:
        x = path.rstrip("/") == "/webhooks/x"
        secret = TEST_SECRETS["x_consumer_secret" if x else "meta_app_secret"] if signer == "right" else "not-the-secret"
        headers[SIGNATURE_HEADERS[path.rstrip("/")]] = (base64_signature if x else hex_signature)(secret, body)
    event = api_event(draw(methods), path, body=b"", headers=headers, query=draw(queries()))
    if draw(st.booleans()):
        event.update(body=base64.b64encode(body).decode("ascii"), isBase64Encoded=True)
    else:
        event["body"] = body.decode("utf-8", "surrogateescape")
    return event


def genuinely_signed(request: HttpRequest) -> bool:
    """Whether the request carries the right signature over its exact raw bytes (recomputed independently)."""
    header = SIGNATURE_HEADERS.get(request.path.rstrip("/"))
    try:
        raw = request.raw_body()
    except ValueError:
        return False
    if header is None:
        return False
    expected = (
        base64_signature(TEST_SECRETS["x_consumer_secret"], raw) if "twitter" in header else hex_signature(TEST_SECRETS["meta_app_secret"], raw)
    )
    return request.headers.get(header) == expected


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(requests())
def test_any_request_gets_a_documented_answer_and_only_signed_ones_queue(event: dict[str, Any]) -> None:
    harness = Harness()
    # When ingest handles any request (an exception escaping here would be a 500 and a platform retry)
    response = harness.send(event)
    # Then its status is one the README documents, and its body is what its content type says
    assert response.status in DOCUMENTED, (response.status, response.body)
    if response.content_type == "application/json":
        json.loads(response.body)
    # And nothing is queued (or quarantined, or stored) unless the raw body carries the genuine signature
    request = HttpRequest.from_apigw_v2(event)
    if harness.events.messages or harness.quarantine.messages or harness.bucket.objects:
        assert request.method == "POST"
        assert genuinely_signed(request)
    # And a GET answer is never a signature for a body ingest would accept
    if request.method == "GET" and response.status == 200 and request.path.rstrip("/") == "/webhooks/x":
        token = request.query["crc_token"]
        signed = json.loads(response.body)["response_token"]
        forged = api_event("POST", "/webhooks/x", body=token.encode(), headers={"x-twitter-webhooks-signature": signed})
        assert harness.send(forged).status == 400
        with contextlib.suppress(msgspec.DecodeError):
            assert not isinstance(msgspec.json.decode(token.encode()), dict)
        assert harness.events.messages == []
