"""The template's event sources, emulated: SQS queues feeding their consumers, and EventBridge schedules.

SQS works as Lambda's event source mapping does: batches of up to BatchSize, the records a
handler reports in `batchItemFailures` left on the queue (with whatever visibility the handler
gave them), the rest deleted; moto moves a message to the dead-letter queue after
maxReceiveCount receives. Schedules run on the runner's clock, so a demo can move time forward.
"""

from __future__ import annotations

import re
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from socialdesk.local.output import function_label, running, say

if TYPE_CHECKING:
    from collections.abc import Callable

    from socialdesk.devtools.local_aws import LocalAws
    from socialdesk.local.functions import LocalFunction

POLL_INTERVAL_SECONDS = 0.05
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")


@dataclass
class QueueSource:
    """One SQS event source mapping."""

    function: LocalFunction
    queue_url: str
    batch_size: int
    reports_failures: bool
    busy: threading.Event = field(default_factory=threading.Event)

    def poll_once(self, aws: LocalAws) -> bool:
        """Deliver one batch if there is one; True when a batch was handled."""
        event = aws.receive_lambda_event(self.queue_url, max_messages=self.batch_size)
        if event is None:
            return False
        self.busy.set()
        started = time.monotonic()
        records = event["Records"]
        running(self.function.logical_id)
        try:
            answer = self.function.invoke(event)
        except Exception:
            say(
                function_label(self.function.logical_id),
                f"{self.function.logical_id} failed; its {len(records)} messages return after their visibility timeout:\n{traceback.format_exc()}",
            )
            return True
        finally:
            self.busy.clear()
        failed = {item["itemIdentifier"] for item in (answer or {}).get("batchItemFailures", [])} if self.reports_failures else set()
        done = [record for record in records if record["messageId"] not in failed]
        if done:
            entries = [{"Id": str(index), "ReceiptHandle": record["receiptHandle"]} for index, record in enumerate(done)]
            aws.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        retrying = f", {len(failed)} to retry" if failed else ""
        say(function_label(self.function.logical_id), f"batch of {len(records)}: {len(done)} done{retrying}", ms=(time.monotonic() - started) * 1000)
        return True


@dataclass
class Schedule:
    function: LocalFunction
    every: timedelta
    next_run: datetime


def queue_sources(aws: LocalAws, functions: dict[str, LocalFunction]) -> list[QueueSource]:
    return [
        QueueSource(
            function=functions[logical_id],
            queue_url=aws.resource(properties["Queue"]["Fn::GetAtt"][0]),
            batch_size=int(properties.get("BatchSize", 10)),
            reports_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
        )
        for logical_id, _, properties in aws.stack.function_events("SQS")
    ]


def schedules(aws: LocalAws, functions: dict[str, LocalFunction], now: datetime) -> list[Schedule]:
    """`rate(...)` schedules from Schedule and ScheduleV2 events; cron expressions are reported and skipped."""
    found = []
    for logical_id, name, properties in aws.stack.function_events("Schedule", "ScheduleV2"):
        expression = str(properties.get("Schedule") or properties.get("ScheduleExpression"))
        match = _RATE.match(expression)
        if match is None:
            say("schedule", f"{logical_id}.{name}: {expression} is not run locally (only rate(...) expressions are)")
            continue
        amount, unit = int(match.group(1)), match.group(2).rstrip("s")
        every = timedelta(**{f"{unit}s": amount})
        found.append(Schedule(function=functions[logical_id], every=every, next_run=now + every))
    return found


def scheduled_event(at: datetime) -> dict[str, Any]:
    """What EventBridge Scheduler sends a Lambda target by default."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "000000000000",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "eu-west-1",
        "resources": [],
        "detail": {},
    }


_running_schedules = threading.Lock()


def run_due(due: list[Schedule], clock: Callable[[], datetime]) -> None:
    """Invoke every schedule whose time has come on the runner's clock, catching up missed runs one by one.

    The poller and `LocalRunner.advance` both call this; the lock makes each run happen once.
    """
    with _running_schedules:
        _run_due(due, clock)


def _run_due(due: list[Schedule], clock: Callable[[], datetime]) -> None:
    for schedule in due:
        while schedule.next_run <= clock():
            started = time.monotonic()
            schedule.function.invoke(scheduled_event(schedule.next_run))
            say("schedule", f"{schedule.function.logical_id} ran for {schedule.next_run:%H:%M}", ms=(time.monotonic() - started) * 1000)
            schedule.next_run += schedule.every
