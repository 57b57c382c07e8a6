"""The local runner emulates the template's event sources: SQS mappings (batches, partial failures, DLQ) and schedules.

A small template of its own keeps each behaviour visible: one queue with a dead-letter
queue after 2 receives, and a function that fails the records whose body says so.
"""

from __future__ import annotations

import json
import textwrap
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from socialdesk.local.gateway import free_port
from socialdesk.local.runner import LocalRunner, RunnerError, RunnerOptions

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  WorkQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 0
      RedrivePolicy: {{deadLetterTargetArn: !GetAtt WorkDeadLetters.Arn, maxReceiveCount: 2}}
  WorkDeadLetters:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: worker/
      Handler: app.handler
      Environment: {{Variables: {{CALLS_FILE: {calls}}}}}
      Events:
        Work:
          Type: SQS
          Properties: {{Queue: !GetAtt WorkQueue.Arn, BatchSize: 3, FunctionResponseTypes: [ReportBatchItemFailures]}}
        EveryFiveMinutes:
          Type: ScheduleV2
          Properties: {{ScheduleExpression: rate(5 minutes)}}
        Nightly:
          Type: Schedule
          Properties: {{Schedule: "cron(0 3 * * ? *)"}}
{extra}
"""

HANDLER = """
import json, os

def handler(event, context):
    records = event.get("Records")
    with open(os.environ["CALLS_FILE"], "a") as calls:
        calls.write(json.dumps({"bodies": [r["body"] for r in records]} if records else {"scheduled": event["time"]}) + "\\n")
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records or [] if r["body"] == "fail"]}
"""


def stack(tmp_path: Path, extra: str = "") -> RunnerOptions:
    (tmp_path / "worker").mkdir()
    (tmp_path / "worker" / "app.py").write_text(HANDLER)
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE.format(calls=tmp_path / "calls.jsonl", extra=textwrap.indent(extra, "  ")))
    return RunnerOptions(template=template, port=free_port(), state_dir=tmp_path / "state")


def calls(tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalRunner]:
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with LocalRunner(stack(tmp_path)) as running:
        yield running


def test_reported_failures_are_retried_then_dead_lettered_and_the_rest_deleted(runner: LocalRunner, tmp_path: Path) -> None:
    # Given one record the function fails and two it handles, sent as one batch
    queue, dead_letters = runner.aws.resource("WorkQueue"), runner.aws.resource("WorkDeadLetters")
    runner.aws.sqs.send_message_batch(
        QueueUrl=queue, Entries=[{"Id": str(n), "MessageBody": body} for n, body in enumerate(["ok-1", "fail", "ok-2"])]
    )
    # When the local event source has delivered everything it will
    assert runner.wait_until_idle()
    # Then the failed record was delivered maxReceiveCount (2) times, the others once
    delivered = [body for call in calls(tmp_path) for body in call["bodies"]]  # type: ignore[attr-defined]
    assert sorted(delivered) == ["fail", "fail", "ok-1", "ok-2"]
    # And it now waits on the dead-letter queue, where an operator can redrive it
    assert [message["Body"] for message in runner.aws.drain(dead_letters)] == ["fail"]


def test_rate_schedules_run_on_the_local_clock_and_catch_up_when_it_moves(runner: LocalRunner, tmp_path: Path) -> None:
    # When the local clock moves 16 minutes ahead
    start = runner.clock()
    runner.advance(timedelta(minutes=16))
    # Then the 5-minute schedule has run three times, each with its own scheduled time; the cron one never
    times = [call["scheduled"] for call in calls(tmp_path)]
    expected = [(start + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M") for minutes in (5, 10, 15)]
    assert [str(time)[:16] for time in times] == expected


def test_functions_that_disagree_on_a_variable_cannot_share_the_local_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    other = """
Other:
  Type: AWS::Serverless::Function
  Properties: {CodeUri: worker/, Handler: app.handler, Environment: {Variables: {CALLS_FILE: elsewhere.jsonl}}}
"""
    with pytest.raises(RunnerError, match=r"sets CALLS_FILE='elsewhere.jsonl' where another function sets"), LocalRunner(stack(tmp_path, other)):
        pass
