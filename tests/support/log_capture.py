"""Every log line the functions write, as it would be printed: what the privacy tests search for customer data."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from typing import TYPE_CHECKING, Any

from socialdesk.observability import logger

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pytest


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured record as it would be printed: socialdesk's as Powertools JSON, the rest with their arguments."""
    plain = logging.Formatter("%(name)s %(levelname)s %(message)s")
    records = [record for record in caplog.records if not record.name.startswith("moto")]  # moto stands in for AWS itself
    lines = [(logger.registered_formatter if record.name == logger.name else plain).format(record) for record in records]
    return "\n".join(lines)


@contextlib.contextmanager
def written_lines() -> Iterator[list[dict[str, Any]]]:
    """The JSON lines socialdesk's logger writes meanwhile, exactly as written (the invocation's keys included), parsed."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        handler.setStream(previous)
        lines.extend(json.loads(text) for text in stream.getvalue().splitlines())
