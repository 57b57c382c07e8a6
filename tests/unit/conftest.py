"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest

from tests.support.ingest import Harness


@pytest.fixture
def harness() -> Harness:
    return Harness()
