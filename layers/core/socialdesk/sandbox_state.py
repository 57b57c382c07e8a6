"""What the sandbox helpdesk and CRM share: how they report and how they keep their state on disk."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

# Local runs print this logger's lines; every one of them names the sandbox it comes from.
report = logging.getLogger("socialdesk.sandbox")


def write_atomically(path: Path, content: bytes) -> None:
    """Readers (the console, a person) never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(content)
    partial.replace(path)


def first_line(text: str, limit: int = 80) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
