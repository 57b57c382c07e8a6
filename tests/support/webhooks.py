"""Build API Gateway v2 webhook events the way the platforms send them, for tests."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from socialdesk.devtools.samples import TEST_SECRETS, body_json, load, redated, with_json_body
from socialdesk.http import HttpRequest
from socialdesk.platforms.signing import base64_signature, hex_signature

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
SAMPLE_NAMES = sorted(path.stem for path in EVENTS_DIR.glob("*.json"))


def recorded_sample(name: str) -> dict[str, Any]:
    """A committed sample from events/, byte for byte as recorded (its timestamps are months old)."""
    return load(EVENTS_DIR / f"{name}.json")


def recorded_body(name: str) -> Any:
    """The parsed JSON payload of a POST sample, as recorded."""
    return body_json(recorded_sample(name))


@cache
def delivery_moment() -> datetime:
    """The one moment samples are re-dated to in a test run, so two deliveries of one sample stay identical."""
    return datetime.now(UTC).replace(microsecond=0)


def sample(name: str) -> dict[str, Any]:
    """A sample as its platform would deliver it now: timestamps moved to this moment and signed again.

    Ingest quarantines events created over 8 days before they arrive as replays, so a test that delivers the recorded
    bytes would see a replay refused; `socialdesk send` re-dates the same way.
    """
    event = recorded_sample(name)
    if event["requestContext"]["http"]["method"] != "POST":
        return event
    return with_json_body(event, redated(body_json(event), delivery_moment()))


def sample_body(name: str) -> Any:
    """The parsed JSON payload of a POST sample, its timestamps moved to now."""
    return redated(recorded_body(name), delivery_moment())


def api_event(
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    query: str = "",
    base64_body: bool = False,
) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers or {},
        "requestContext": {"http": {"method": method, "path": path}, "requestId": "test-request", "stage": "$default"},
        "body": base64.b64encode(body).decode("ascii") if base64_body else body.decode("utf-8"),
        "isBase64Encoded": base64_body,
    }


def x_post(body: bytes, secret: str = TEST_SECRETS["x_consumer_secret"], **kwargs: Any) -> dict[str, Any]:
    """A POST to /webhooks/x signed as X signs it: base64 HMAC-SHA256 of the raw body."""
    return api_event("POST", "/webhooks/x", body=body, headers={"x-twitter-webhooks-signature": base64_signature(secret, body)}, **kwargs)


def meta_post(body: bytes, secret: str = TEST_SECRETS["meta_app_secret"], **kwargs: Any) -> dict[str, Any]:
    """A POST to /webhooks/meta signed as Meta signs it: lowercase hex HMAC-SHA256 of the raw body."""
    return api_event("POST", "/webhooks/meta", body=body, headers={"x-hub-signature-256": hex_signature(secret, body)}, **kwargs)


def to_bytes(payload: Any) -> bytes:
    """JSON bytes with non-ASCII escaped, the way Meta serialises its payloads."""
    return json.dumps(payload, separators=(",", ":")).encode("ascii")


def request(event: dict[str, Any]) -> HttpRequest:
    return HttpRequest.from_apigw_v2(event)


@dataclass
class FakeLambdaContext:
    function_name: str = "socialdesk-ingest"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:socialdesk-ingest"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"
    remaining_millis: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis
