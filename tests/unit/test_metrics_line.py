"""The invocation's EMF metrics line: as CloudWatch reads it, with values written as compactly as the EMF specification allows."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from socialdesk.observability import MetricUnit, metrics

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pytest


def flushed(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], counts: Iterator[tuple[str, float]]) -> dict[str, Any]:
    """The one EMF line the handler's flush prints for `counts` (name, value), with the service name the template sets."""
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    monkeypatch.setattr(metrics, "service", "socialdesk")
    metrics.clear_metrics()
    for name, value in counts:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    metrics.flush_metrics()
    [line] = capsys.readouterr().out.splitlines()
    document: dict[str, Any] = json.loads(line)
    return document


def test_a_metric_counted_once_is_a_plain_number(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Given an invocation that counted a ticket and a Salesforce activity once each, and ignored nothing
    When its metrics are flushed
    Then each value is a plain integer (`1`, not `[1.0]`), every metric keeps its Count unit, and the service dimension
    the alarms select on (infra/template.yaml) is still there."""
    document = flushed(monkeypatch, capsys, iter([("TicketCreated", 1), ("CrmActivity", 1)]))
    assert (document["TicketCreated"], document["CrmActivity"]) == (1, 1)
    assert '"TicketCreated":1,' in json.dumps(document, separators=(",", ":"))
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Socialdesk"
    assert directive["Metrics"] == [{"Name": "TicketCreated", "Unit": "Count"}, {"Name": "CrmActivity", "Unit": "Count"}]
    assert directive["Dimensions"] == [["service"]] and document["service"] == "socialdesk"


def test_a_metric_counted_several_times_stays_an_array_and_fractions_stay(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a batch that counted three comments and a fractional value When flushed Then the comments are an array of
    integers (CloudWatch sums each value) and the fraction is kept as it is."""
    document = flushed(monkeypatch, capsys, iter([("CommentAdded", 1), ("CommentAdded", 1), ("CommentAdded", 2), ("Share", 0.5)]))
    assert document["CommentAdded"] == [1, 1, 2]
    assert document["Share"] == 0.5
