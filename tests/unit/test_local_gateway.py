"""The local HTTP API hands the handlers the event API Gateway HTTP API (payload 2.0) would.

Format per the API Gateway developer guide, "Create AWS Lambda proxy integrations for HTTP APIs":
duplicate headers and query parameters are combined with commas; non-text bodies arrive base64-encoded.
"""

from __future__ import annotations

import base64
from typing import Any

from socialdesk.http import HttpRequest
from socialdesk.local.gateway import api_gateway_event, http_response
from tests.support.ingest import Harness
from tests.support.webhooks import api_event


def event(query: str = "", headers: list[tuple[str, str]] | None = None, body: bytes = b"", content_type: str = "application/json") -> dict[str, Any]:
    return api_gateway_event(
        "POST", "/webhooks/meta", query=query, headers=[("Content-Type", content_type), *(headers or [])], body=body, source_ip="127.0.0.1"
    )


def test_query_parameters_are_decoded_and_repeats_joined_while_the_raw_query_stays_as_sent() -> None:
    sent = event(query="hub.challenge=a%2Bb&tag=1&tag=2&empty=")
    assert sent["rawQueryString"] == "hub.challenge=a%2Bb&tag=1&tag=2&empty="
    assert sent["queryStringParameters"] == {"hub.challenge": "a+b", "tag": "1,2", "empty": ""}


def test_header_names_are_lower_cased_and_repeats_joined() -> None:
    sent = event(headers=[("X-Hub-Signature-256", "sha256=ab"), ("Accept", "a"), ("accept", "b")])
    assert sent["headers"] == {"content-type": "application/json", "x-hub-signature-256": "sha256=ab", "accept": "a,b"}


def test_json_arrives_as_text_and_other_bodies_as_base64_with_the_same_bytes() -> None:
    body = '{"text":"¿Pueden ayudarme?"}'.encode()
    as_text, as_binary = event(body=body), event(body=b"\xff\x00binary", content_type="application/octet-stream")
    assert (as_text["isBase64Encoded"], as_text["body"]) == (False, body.decode())
    assert (as_binary["isBase64Encoded"], as_binary["body"]) == (True, base64.b64encode(b"\xff\x00binary").decode())
    assert HttpRequest.from_apigw_v2(as_binary).raw_body() == b"\xff\x00binary"


def test_a_method_the_webhook_does_not_take_is_answered_405_with_the_documented_allow_header(harness: Harness) -> None:
    # Given ingest's answer to a PUT on a webhook path (the $default route brings it there, as in AWS)
    answer = harness.send(api_event("PUT", "/webhooks/meta")).to_apigw_v2()
    # When the local gateway turns it into an HTTP answer
    status, headers, body = http_response(answer)
    # Then it carries ingest's Allow header, as HTTP API passes every header through
    assert (status, headers["allow"], headers["content-type"]) == (405, "GET, POST", "application/json")
    assert body == b'{"error":"method_not_allowed"}'


def test_an_answer_without_headers_is_json_and_one_without_a_status_code_is_a_json_200_of_itself() -> None:
    assert http_response({"statusCode": 204})[:2] == (204, {"content-type": "application/json"})
    assert http_response({"ok": True}) == (200, {"content-type": "application/json"}, b'{"ok": true}')
