"""API Gateway HTTP API (payload format 2.0) requests and responses.

The event dict is read in one place so the webhook logic works on plain values:
header names lower-cased (HTTP API already lower-cases them, the local runner may
not), the query string parsed from `rawQueryString`, and the body kept exactly as
received until someone asks for its bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import msgspec


class UnreadableBodyError(ValueError):
    """The body claims base64 encoding but is not valid base64."""


class HttpRequest(msgspec.Struct, frozen=True, kw_only=True):
    method: str
    path: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: str = ""
    body_is_base64: bool = False

    @classmethod
    def from_apigw_v2(cls, event: Mapping[str, Any]) -> HttpRequest:
        http = event["requestContext"]["http"]
        headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
        # First value wins; parse_qsl keeps blank values so `?crc_token=` reads as present but empty.
        query: dict[str, str] = {}
        for name, value in parse_qsl(event.get("rawQueryString") or "", keep_blank_values=True):
            query.setdefault(name, value)
        return cls(
            method=str(http["method"]).upper(),
            path=str(event.get("rawPath") or http.get("path") or "/"),
            headers=headers,
            query=query,
            body=event.get("body") or "",
            body_is_base64=bool(event.get("isBase64Encoded")),
        )

    def body_exceeds(self, limit: int) -> bool:
        """Whether the raw body is larger than `limit` bytes, decided without decoding it."""
        if self.body_is_base64:
            return len(self.body.rstrip("=")) * 3 // 4 > limit
        return len(self.body) > limit or len(self.body.encode("utf-8", "surrogatepass")) > limit

    def raw_body(self) -> bytes:
        """The exact bytes the sender signed.

        A text body can hold a lone surrogate (the Lambda event is JSON, and `"\\ud800"` decodes to one):
        `surrogatepass` keeps it as bytes that are not UTF-8, so the request fails verification or parsing
        with a 4xx instead of raising UnicodeEncodeError (a 500).
        """
        if not self.body_is_base64:
            return self.body.encode("utf-8", "surrogatepass")
        try:
            return base64.b64decode(self.body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise UnreadableBodyError("body is flagged base64 but does not decode") from exc


class HttpResponse(msgspec.Struct, frozen=True, kw_only=True):
    status: int
    body: str = ""
    content_type: str = "application/json"
    headers: Mapping[str, str] = msgspec.field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> HttpResponse:
        return cls(status=status, body=json.dumps(payload, separators=(",", ":")), headers=headers or {})

    @classmethod
    def text(cls, status: int, body: str) -> HttpResponse:
        return cls(status=status, body=body, content_type="text/plain; charset=utf-8")

    def to_apigw_v2(self) -> dict[str, Any]:
        return {
            "statusCode": self.status,
            "headers": {"content-type": self.content_type, **self.headers},
            "body": self.body,
            "isBase64Encoded": False,
        }
