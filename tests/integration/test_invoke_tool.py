"""The local invoke tool runs samples through the real handler and shows what a person needs to see."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from unittest.mock import patch

import pytest

from socialdesk.devtools import invoke
from socialdesk.observability import logger
from tests.support.webhooks import EVENTS_DIR

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(autouse=True)
def _process_state() -> Iterator[None]:
    """The tool sets up the process as a CLI does (environment, log level); put both back afterwards."""
    level = logger.log_level
    with patch.dict(os.environ):
        yield
    logger.setLevel(level)


def test_samples_are_answered_and_their_queued_events_listed(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the README's local command on a batch and a challenge
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    exit_code = invoke.main([str(EVENTS_DIR / "meta-batch.json"), str(EVENTS_DIR / "x-crc.json")])
    # Then each sample's HTTP answer and each queued event is printed
    printed = capsys.readouterr().out
    assert exit_code == 0
    assert 'meta-batch.json: HTTP 200 {"queued":4,"ignored":1,"quarantined":0}' in printed
    assert "queued messenger/direct_message by customer in messenger:448242228374517:dm:6789012345678901: 'Hello? Anyone there?'" in printed
    assert 'x-crc.json: HTTP 200 {"response_token":"sha256=tkNEg0seEcYQ8M3405Unns/xCXZPr0AfN2Yx77Yg+c8="}' in printed
    assert '"_aws"' not in printed  # metric lines stay out of the terminal


def test_a_missing_sample_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke.main(["events/no-such-sample.json"]) == 2
    assert "no such event file: events/no-such-sample.json" in capsys.readouterr().err
