"""The invocation's EMF metrics line: as CloudWatch reads it, with values written as compactly as the EMF specification allows."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from socialdesk.model import SocialEvent
from socialdesk.observability import MetricUnit, metrics
from socialdesk.ports.queues import event_message
from socialdesk.process.sqs_batch import Outcome, SqsBatch
from tests.support.events import sample_event
from tests.support.log_capture import written_lines
from tests.support.sqs_sim import SimQueue, SimRedelivery, VirtualClock, run_until_empty

if TYPE_CHECKING:
    from collections.abc import Callable

    import pytest


def flushed(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], count: Callable[[], None]) -> dict[str, Any]:
    """The one EMF line the handler's flush prints for what `count` counted, with the service name the template sets."""
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    monkeypatch.setattr(metrics, "service", "socialdesk")
    metrics.clear_metrics()
    count()
    metrics.flush_metrics()
    [line] = capsys.readouterr().out.splitlines()
    document: dict[str, Any] = json.loads(line)
    return document


def counted(counts: list[tuple[str, float]]) -> None:
    for name, value in counts:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def test_a_metric_counted_once_is_a_plain_number(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Given an invocation that counted a ticket and a Salesforce activity once each, and ignored nothing
    When its metrics are flushed
    Then each value is a plain integer (`1`, not `[1.0]`), every metric keeps its Count unit, and the service dimension
    the alarms select on (infra/template.yaml) is still there."""
    document = flushed(monkeypatch, capsys, lambda: counted([("TicketCreated", 1), ("CrmActivity", 1)]))
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
    document = flushed(monkeypatch, capsys, lambda: counted([("CommentAdded", 1), ("CommentAdded", 1), ("CommentAdded", 2), ("Share", 0.5)]))
    assert document["CommentAdded"] == [1, 1, 2]
    assert document["Share"] == 0.5


class FollowUpInsideTheWindow:
    """The process use case's outcome for a follow-up whose conversation was acknowledged already."""

    def begin_batch(self) -> None:
        pass

    def handle(self, event: SocialEvent, *, delivery_id: str, attempt: int) -> Outcome:
        actions = ["comment_added", "automatic_message_already_sent", "crm_activity"]
        return Outcome(event_key=event.dedupe_key, conversation_key=event.conversation_key, ticket_id=4014, actions=actions)


def test_an_acknowledgement_already_sent_is_in_the_events_line_but_not_a_metric(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a follow-up inside the acknowledgement window (most customer messages)
    When the batch driver runs it
    Then its `event processed` line lists every action, the already-sent one included, while the metrics count its
    comment and Salesforce activity but make no metric of the acknowledgement not sent."""
    clock = VirtualClock(1_795_000_000.0)
    queue = SimQueue(clock)
    driver = SqsBatch(process=FollowUpInsideTheWindow(), redelivery=SimRedelivery(queue), clock=clock)
    queue.send(event_message(sample_event("x-dm")))
    with written_lines() as lines:
        document = flushed(monkeypatch, capsys, lambda: run_until_empty(queue, driver, clock, rounds=1))
    (line,) = [line for line in lines if line["message"] == "event processed"]
    assert line["actions"] == ["comment_added", "automatic_message_already_sent", "crm_activity"]
    assert (document["CommentAdded"], document["CrmActivity"], document["RecordsReceived"]) == (1, 1, 1)
    assert "AutomaticMessageAlreadySent" not in document
