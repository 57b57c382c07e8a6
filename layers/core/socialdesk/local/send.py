"""`socialdesk send`: sign a sample event (or an edited file) and post it to the running local stack."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from socialdesk.devtools.fresh_ids import with_fresh_ids
from socialdesk.devtools.samples import load, raw_body, redated, signed, with_json_body

_TABLE_ROW = re.compile(r"^\| `(?P<file>[\w.-]+)\.json` \| (?P<what>[^|]+) \|")


class SampleError(Exception):
    """A file that cannot be sent as a webhook; the message says why."""


class SampleNotFoundError(SampleError):
    """No sample of that name and no such file."""


@dataclass
class Sample:
    name: str
    description: str


def list_samples(events_dir: Path) -> list[Sample]:
    """The samples with what each is, from the table in events/README.md (so the catalogue lives in one place)."""
    readme = events_dir / "README.md"
    described = {}
    if readme.exists():
        for line in readme.read_text(encoding="utf-8").splitlines():
            if match := _TABLE_ROW.match(line):
                described[match["file"]] = match["what"].replace("`", "").strip()
    return [Sample(path.stem, described.get(path.stem, "")) for path in sorted(events_dir.glob("*.json"))]


def find_sample(name_or_path: str, events_dir: Path) -> Path:
    for candidate in (Path(name_or_path), events_dir / name_or_path, events_dir / f"{name_or_path}.json"):
        if candidate.is_file():
            return candidate
    raise SampleNotFoundError(f"no sample or file named {name_or_path!r}; list the samples with: socialdesk send --list")


def prepared(path: Path, *, now: datetime | None, fresh: bool = False) -> dict[str, Any]:
    """The event signed with the local test secrets, its timestamps moved to `now` if given, its messages given new ids if `fresh`.

    A body that is not JSON is sent byte for byte (to see how ingest answers it); so is every body when nothing changes.
    """
    event = read_event(path)
    body = _raw_body(event, path)
    if event["requestContext"]["http"]["method"] != "POST" or not (now or fresh):
        return signed(event)
    try:
        payload = json.loads(body)
    except ValueError:
        return signed(event)
    if now is not None:
        payload = redated(payload, now)
    if fresh:
        payload = with_fresh_ids(payload, now or datetime.now(UTC))
    return with_json_body(event, payload)


def read_event(path: Path) -> dict[str, Any]:
    """The API Gateway event in `path`, or a SampleError naming what is wrong with the file."""
    try:
        event: Any = load(path)
    except OSError as exc:
        raise SampleError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise SampleError(f"{path}: not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise SampleError(f"{path}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from exc
    if problem := _not_an_event(event):
        raise SampleError(f"{path}: not an API Gateway HTTP API event ({problem}); the samples in events/ show the shape")
    return dict(event)


def _not_an_event(event: Any) -> str | None:
    if not isinstance(event, dict):
        return f"a JSON object is expected, not {type(event).__name__}"
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, dict) else None
    if not isinstance(http, dict) or not isinstance(http.get("method"), str):
        return "no requestContext.http.method"
    if not isinstance(event.get("rawPath"), str) or not event["rawPath"].startswith("/"):
        return "no rawPath"
    headers = event.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(value, str) for value in headers.values()):
        return "headers must be an object of strings"
    if not isinstance(event.get("body") or "", str) or not isinstance(event.get("rawQueryString") or "", str):
        return "body and rawQueryString must be strings"
    return None


def _raw_body(event: dict[str, Any], path: Path) -> bytes:
    try:
        return raw_body(event)
    except ValueError as exc:
        raise SampleError(f"{path}: isBase64Encoded is true but the body is not base64 ({exc})") from exc


def send_event(url: str, event: dict[str, Any]) -> tuple[int, str]:
    """Send an API Gateway event to the local HTTP API as the platform would; the HTTP status and body."""
    method = event["requestContext"]["http"]["method"]
    query = f"?{event['rawQueryString']}" if event.get("rawQueryString") else ""
    headers = {name: value for name, value in event.get("headers", {}).items() if name not in ("content-length", "host")}
    request = urllib.request.Request(
        url + event["rawPath"] + query, data=None if method == "GET" else raw_body(event), method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")
