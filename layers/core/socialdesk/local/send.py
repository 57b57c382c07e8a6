"""`socialdesk send`: sign a sample event (or an edited file) and post it to the running local stack."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from socialdesk.devtools.samples import body_json, load, raw_body, redated, signed, with_json_body

if TYPE_CHECKING:
    from datetime import datetime

_TABLE_ROW = re.compile(r"^\| `(?P<file>[\w.-]+)\.json` \| (?P<what>[^|]+) \|")


class SampleNotFoundError(Exception):
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


def prepared(path: Path, *, now: datetime | None) -> dict[str, Any]:
    """The event signed with the local test secrets, its timestamps moved to `now` if given."""
    event = load(path)
    if now is not None and event["requestContext"]["http"]["method"] == "POST":
        return with_json_body(event, redated(body_json(event), now))
    return signed(event)


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
