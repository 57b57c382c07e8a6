"""The response clock's metrics: printed as EMF on Lambda, silent where Powertools metrics are switched off (the local stack)."""

from __future__ import annotations

import json

import pytest

from socialdesk.sla.metrics import EmfClockMetrics


def test_a_breach_is_one_emf_line_with_its_dimensions(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Given metrics on, When a level-2 breach is counted, Then one EMF line carries SlaBreaches by platform, priority and level."""
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    EmfClockMetrics().breached(platform="whatsapp", priority=None, level=2)
    [line] = capsys.readouterr().out.splitlines()
    emitted = json.loads(line)
    assert (emitted["SlaBreaches"], emitted["platform"], emitted["priority"], emitted["level"]) == ([1.0], "whatsapp", "none", "2")


def test_switched_off_metrics_print_nothing_so_the_local_output_stays_readable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given POWERTOOLS_METRICS_DISABLED (the local stack sets it), When an answer and a breach are counted, Then no EMF line
    reaches the demo's or `socialdesk local`'s output."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    EmfClockMetrics().answered(platform="x", priority="high", first=True, seconds=60.0, within_sla=True)
    EmfClockMetrics().breached(platform="x", priority="high", level=1)
    assert capsys.readouterr().out == ""
