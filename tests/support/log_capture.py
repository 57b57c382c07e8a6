"""Every log line the functions write, as it would be printed: what the privacy tests search for customer data."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from socialdesk.observability import logger

if TYPE_CHECKING:
    import pytest


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured record as it would be printed: socialdesk's as Powertools JSON, the rest with their arguments."""
    plain = logging.Formatter("%(name)s %(levelname)s %(message)s")
    records = [record for record in caplog.records if not record.name.startswith("moto")]  # moto stands in for AWS itself
    lines = [(logger.registered_formatter if record.name == logger.name else plain).format(record) for record in records]
    return "\n".join(lines)
