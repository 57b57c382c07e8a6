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
        if now is not None:
            payload = redated(payload, now)
        if fresh:
            payload = with_fresh_ids(payload, now or datetime.now(UTC))
        return with_json_body(event, payload)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to read or rewrite: no platform sends such a body
        return signed(event)


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
    except RecursionError as exc:  # json recurses once per nested array or object
        raise SampleError(f"{path}: cannot be read as JSON: its arrays or objects are nested too deeply") from exc
    if problem := _not_an_event(event):
        raise SampleError(f"{path}: not an API Gateway HTTP API event ({problem}); the samples in events/ show the shape")
    if problem := _not_sendable(event):
        raise SampleError(f"{path}: not an event that can be sent over HTTP ({problem})")
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


# RFC 9110: a method and a header name are tokens; a header value is visible Latin-1 text, spaces and tabs (no CR, LF
# or other control character, which would end the header and start another); the request target is visible ASCII.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile("[\t\x20-\x7e\x80-\xff]*")
_TARGET = re.compile("[\x21-\x7e]*")


def _not_sendable(event: dict[str, Any]) -> str | None:
    """What in the event an HTTP request cannot carry as written (http.client would fail on it or send something else)."""
    method = event["requestContext"]["http"]["method"]
    if not _TOKEN.fullmatch(method):
        return f"method {method!r} is not an HTTP method name"
    for name, value in event.get("headers", {}).items():
        if not _TOKEN.fullmatch(name):
            return f"header name {name!r} is not an HTTP header name"
        if not _FIELD_VALUE.fullmatch(value):
            return f"header {name}: a header carries Latin-1 text without control characters such as CR or LF"
    for key, text in (("rawPath", event["rawPath"]), ("rawQueryString", event.get("rawQueryString") or "")):
        if not _TARGET.fullmatch(text) or "#" in text:
            return f"{key} must be percent-encoded ASCII without spaces or #, as a request carries it: {text!r}"
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
