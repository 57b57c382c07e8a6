"""What the sandbox helpdesk and CRM share: how they report and how they keep their state on disk."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Generic, TypeVar

import msgspec

if TYPE_CHECKING:
    from pathlib import Path

StateT = TypeVar("StateT", bound=msgspec.Struct)

# Local runs print this logger's lines; every one of them names the sandbox it comes from.
report = logging.getLogger("socialdesk.sandbox")

# The files the sandboxes keep in a sandbox directory: the helpdesk's, the CRM's and the platforms' state (each written
# through a `.partial` file beside it). Nothing else there is theirs.
DESK_FILE = "zendesk.json"
CRM_FILE = "salesforce.json"
PLATFORMS_FILE = "platforms.json"
PARTIAL_SUFFIX = ".partial"


class JsonSandbox(Generic[StateT]):
    """A sandbox's state: in memory, guarded by one lock, and written to `path` (when given) after every change."""

    def __init__(self, kind: type[StateT], path: Path | None) -> None:
        self._path = path
        self._lock = threading.RLock()
        self.state = load_state(path, kind) if path else kind()

    def _before(self, operation: str) -> None:
        """Called as each operation starts; a test subclass counts calls and injects failures here."""

    def _save(self) -> None:
        save_state(self._path, self.state)


def load_state(path: Path, kind: type[StateT]) -> StateT:
    """The state a sandbox left in `path` (empty when there is none yet)."""
    return msgspec.json.decode(path.read_bytes(), type=kind) if path.exists() else kind()


def save_state(path: Path | None, state: msgspec.Struct) -> None:
    """Written after every change, readable by a person (indented JSON); kept in memory only when `path` is None."""
    if path is not None:
        write_atomically(path, msgspec.json.format(msgspec.json.encode(state)))


def write_atomically(path: Path, content: bytes) -> None:
    """Readers (the console, a person) never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(PARTIAL_SUFFIX)
    partial.write_bytes(content)
    partial.replace(path)


def clear_sandbox_files(directory: Path) -> None:
    """Remove the state the sandboxes wrote in `directory` (creating it if need be), leaving everything else in it alone.

    OSError when it cannot: `directory` is a file, or one of the sandbox files is a directory or may not be removed.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for name in (DESK_FILE, CRM_FILE, PLATFORMS_FILE):
        for path in (directory / name, (directory / name).with_suffix(PARTIAL_SUFFIX)):
            path.unlink(missing_ok=True)


def first_line(text: str, limit: int = 80) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
