"""Sample API Gateway events in `events/`, signed with the local test secrets.

The test secrets are the ones documented in events/README.md (the same values as the
test vectors computed with Python's hmac and cross-checked with openssl). They are for samples, tests and the
local runner only; a deployed stack reads its own from Secrets Manager.

Usage: python -m socialdesk.devtools.samples [--check] [--now] [--body BODY.json] EVENT.json...
re-signs each sample in place (after you edit its body), optionally replacing the
body first or moving its timestamps to now; --check only reports samples whose
signature is stale.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from socialdesk.platforms.meta import MetaWebhook
from socialdesk.platforms.x import XWebhook

if TYPE_CHECKING:
    from collections.abc import Sequence

    from socialdesk.platforms.webhook import PlatformWebhook

TEST_SECRETS = {
    "x_consumer_secret": "test-consumer-secret",
    "meta_app_secret": "test-app-secret",
    "meta_verify_token": "test-verify-token",
}
PLATFORMS: dict[str, PlatformWebhook] = {platform.path: platform for platform in (XWebhook(), MetaWebhook())}


def raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")


def signed(event: dict[str, Any], secrets: dict[str, str] = TEST_SECRETS) -> dict[str, Any]:
    """A copy of `event` whose signature header matches its body (unchanged for GET or unknown routes)."""
    platform = PLATFORMS.get(event.get("rawPath", ""))
    if platform is None or event["requestContext"]["http"]["method"] != "POST":
        return event
    signature = platform.signatures(raw_body(event), [secrets[platform.signing_secret_key]])[0]
    return {**event, "headers": {**event.get("headers", {}), platform.signature_header: signature}}


def with_body(event: dict[str, Any], body: bytes) -> dict[str, Any]:
    """`event` carrying `body`, kept base64 if the sample was base64."""
    text = base64.b64encode(body).decode("ascii") if event.get("isBase64Encoded") else body.decode("utf-8")
    return {**event, "body": text}


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def save(path: Path, event: dict[str, Any]) -> None:
    path.write_text(json.dumps(event, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m socialdesk.devtools.samples", description="Re-sign sample webhook events.")
    parser.add_argument("events", nargs="+", type=Path, help="sample event files (API Gateway HTTP API v2 JSON)")
    parser.add_argument("--body", type=Path, help="replace the body with this file's exact bytes before signing")
    parser.add_argument("--check", action="store_true", help="report stale signatures instead of rewriting")
    parser.add_argument("--now", action="store_true", help="move the body's timestamps to now first (ingest quarantines events over 8 days old)")
    args = parser.parse_args(argv)
    try:
        body = args.body.read_bytes() if args.body else None
    except OSError as exc:
        return _mistake(parser, f"--body {args.body}: cannot be read: {exc.strerror or exc}")
    stale = []
    for path in args.events:
        try:
            event = load(path)
            if body is not None:
                event = with_body(event, body)
            fresh = with_json_body(event, redated(body_json(event), datetime.now(UTC))) if args.now and event.get("body") else signed(event)
        except OSError as exc:
            return _mistake(parser, f"{path}: cannot be read: {exc.strerror or exc}")
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:  # not JSON, not an event, a body not UTF-8
            return _mistake(parser, f"{path}: not a sample event this tool can sign ({type(exc).__name__}: {exc})")
        if args.check:
            if fresh != event:
                stale.append(path)
            continue
        save(path, fresh)
        print(f"signed {path}")
    for path in stale:
        print(f"stale signature: {path}", file=sys.stderr)
    return 1 if stale else 0


def _mistake(parser: argparse.ArgumentParser, message: str) -> int:
    """One line on stderr and exit 2, as for a usage error, instead of a traceback."""
    print(f"{parser.prog}: {message}", file=sys.stderr)
    return 2


# --- bodies ---------------------------------------------------------------------------------------

_TIMESTAMP_KEYS = frozenset({"created_at", "timestamp_ms", "created_timestamp", "created_time", "time", "timestamp", "updated_time"})
_X_TIME = "%a %b %d %H:%M:%S +0000 %Y"


def body_json(event: dict[str, Any]) -> Any:
    return json.loads(raw_body(event))


def with_json_body(event: dict[str, Any], payload: Any) -> dict[str, Any]:
    """`event` carrying `payload`, serialised as its platform does (Meta escapes non-ASCII), and signed again."""
    escape = event.get("rawPath") == MetaWebhook.path
    return signed(with_body(event, json.dumps(payload, separators=(",", ":"), ensure_ascii=escape).encode("utf-8")))


def redated(payload: Any, at: datetime) -> Any:
    """`payload` with every timestamp moved to `at`, each kept in its own format (seconds, milliseconds, ISO, X's)."""
    if isinstance(payload, list):
        return [redated(item, at) for item in payload]
    if not isinstance(payload, dict):
        return payload
    return {key: _moved(value, at) if key in _TIMESTAMP_KEYS else redated(value, at) for key, value in payload.items()}


def _moved(value: Any, at: datetime) -> Any:
    seconds, millis = int(at.timestamp()), int(at.timestamp() * 1000)
    if isinstance(value, bool) or not isinstance(value, int | str):
        return redated(value, at)
    if isinstance(value, int):
        return millis if value >= 10**12 else seconds
    if value.isdigit():
        return str(millis) if len(value) >= 13 else str(seconds)
    if value[:4].isdigit() and "T" in value:
        return at.strftime("%Y-%m-%dT%H:%M:%S.000Z") if value.endswith("Z") else at.strftime("%Y-%m-%dT%H:%M:%S+0000")
    try:
        datetime.strptime(value, _X_TIME)
    except ValueError:
        return value
    return at.strftime(_X_TIME)


if __name__ == "__main__":
    sys.exit(main())
