"""Sizing the process function's memory: its peak RSS and CPU time per message in a batch, then duration x price at each size.

Run: ./uvw run python -m bench.process_memory_bench [--conversations 30] [--follow-ups 3]

1. INIT footprint: a fresh interpreter imports functions/process/app.py with the Lambda variables set, so it runs the
   handler's `init()` as Lambda's INIT does (zenpy, simple-salesforce, the Secrets Manager and DynamoDB clients), and
   reports its resident memory. `import boto3` alone is measured the same way, for scale.
2. A workload through the real handlers (tests/support/process_stack.py: moto from the template, Zendesk and
   Salesforce HTTP fakes, the shipped rules): new WhatsApp customers, each followed up, every webhook through ingest
   first, then the process handler on batches of 10 as the event source mapping delivers them, then on batches of 1.
   The CPU time of each handler call is taken from the process's clock, less the time spent inside the fakes: moto's
   request handler and the HTTP fakes' answers stand in for AWS's and Zendesk's servers, not for the function. Peak
   RSS growth is the process's high-water mark (reset through /proc/self/clear_refs before the first batch) above
   its resident memory then: it includes what moto allocates, so it errs high.
3. The estimate Lambda Power Tuning would measure (duration x price at each memory size): a Lambda function gets CPU in
   proportion to its memory, one full vCPU at 1,769 MB (Lambda Developer Guide, "Memory and computing power"), so the
   CPU part of a message takes cpu x 1769/MB below that, while the waiting on Zendesk, Salesforce and DynamoDB does not
   shrink with memory: I/O-bound work stops getting faster past a fraction of a vCPU. The waits are the stated
   latency assumptions in bench/cost_model.py times the calls counted by bench/process_calls_bench.py.

The CPU was measured on this machine's x86_64 core under Python 3.11; Lambda runs Python 3.13 on Graviton (arm64),
whose single-core speed differs. Re-measure on Lambda (the REPORT line's Max Memory Used and Duration) after a deploy.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import responses
from moto.core.botocore_stubber import BotocoreStubber

from bench import rerun
from bench.process_calls_bench import Message, metered_stack, rules_text
from functions.outbound.app import lambda_handler as outbound_handler
from functions.process.app import lambda_handler as process_handler
from tests.support.webhooks import FakeLambdaContext

ROOT = Path(__file__).resolve().parents[1]
FULL_VCPU_MB = 1769
MEMORY_SIZES = (128, 256, 384, 512, 768, 1024, 1536, 1769, 2048)
# Lambda runs the handler inside its runtime interface client, whose own memory is not in these figures.
HEADROOM = 1.5

INIT_PROBE = """
import json, os, re, sys
sys.path[:0] = [{root!r}, {layer!r}]
def rss():
    status = open("/proc/self/status").read()
    return {{name: int(re.search(name + r":\\s+(\\d+)", status).group(1)) // 1024 for name in ("VmRSS", "VmHWM")}}
if {what!r} == "boto3":
    import boto3
elif {what!r} == "outbound":
    import functions.outbound.app  # with AWS_LAMBDA_FUNCTION_NAME set: INIT, as Lambda runs it
    from socialdesk.composition import clients
    assert clients.dynamodb.cache_info().currsize and clients.secretsmanager.cache_info().currsize, "init() built no client"
else:
    import functions.process.app  # with AWS_LAMBDA_FUNCTION_NAME set: INIT, as Lambda runs it
    from socialdesk.composition import clients
    assert clients.dynamodb.cache_info().currsize and clients.secretsmanager.cache_info().currsize, "init() built no client"
print(json.dumps(rss()))
"""


def lambda_environment() -> dict[str, str]:
    """What the template gives ProcessFunction, with made-up resource names (nothing is reached at INIT)."""
    queue = "https://sqs.eu-west-1.amazonaws.com/123456789012/socialdesk-InboundQueue"
    return {
        "PATH": os.environ.get("PATH", ""),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "AWS_LAMBDA_FUNCTION_NAME": "socialdesk-process",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "POWERTOOLS_SERVICE_NAME": "socialdesk",
        "SOCIALDESK_INBOUND_QUEUE_URL": queue,
        "SOCIALDESK_DEAD_LETTER_QUEUE_URL": queue.replace("Inbound", "InboundDeadLetter"),
        "SOCIALDESK_STATE_TABLE_NAME": "socialdesk-StateTable-1A2B3C4D5E6F",
        "SOCIALDESK_CRM_SECRET_ID": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:socialdesk-CrmSecret-AbCdEf",
        "SOCIALDESK_PLATFORM_SECRET_ID": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:socialdesk-PlatformSecret-AbCdEf",
        "SOCIALDESK_RULES_FILE": str(ROOT / "config" / "socialdesk.toml"),
        "SOCIALDESK_SECRET_CACHE_SECONDS": "300",
        # The outbound function's own (infra/template.yaml), harmless to the process function's INIT.
        "SOCIALDESK_OUTBOUND_QUEUE_URL": queue.replace("Inbound", "Outbound"),
        "SOCIALDESK_OUTBOUND_DEAD_LETTER_QUEUE_URL": queue.replace("Inbound", "OutboundDeadLetter"),
        "SOCIALDESK_PLATFORM_TIMEOUT_SECONDS": "10",
    }


def fresh_rss(what: str) -> dict[str, int]:
    """Resident and peak memory (MB) of a fresh interpreter after `import boto3`, or after the process or outbound handler's INIT."""
    code = INIT_PROBE.format(root=str(ROOT), layer=str(ROOT / "layers" / "core"), what=what)
    done = subprocess.run([sys.executable, "-c", code], env=lambda_environment(), capture_output=True, text=True, check=True)
    figures: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def memory_status() -> dict[str, int]:
    """This process's VmRSS and VmHWM, in KB."""
    status = Path("/proc/self/status").read_text()
    return {name: int(re.search(rf"{name}:\s+(\d+)", status).group(1)) for name in ("VmRSS", "VmHWM")}  # type: ignore[union-attr]


def reset_peak() -> None:
    """Linux: writing 5 to clear_refs resets the peak resident set size (VmHWM) to the current one."""
    Path("/proc/self/clear_refs").write_text("5")


class FakeTime:
    """CPU time spent inside the stand-ins for the servers (moto, the HTTP fakes), each thread's own, to subtract."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self._lock = threading.Lock()

    def timing(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            cpu = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                with self._lock:  # worker threads of one batch add at once
                    self.cpu += time.thread_time() - cpu

        return timed

    @contextlib.contextmanager
    def installed(self) -> Iterator[FakeTime]:
        with contextlib.ExitStack() as stack:
            for owner, name in ((BotocoreStubber, "__call__"), (responses.CallbackResponse, "get_response")):
                original = getattr(owner, name)
                setattr(owner, name, self.timing(original))
                stack.callback(setattr, owner, name, original)
            yield self


@dataclass
class BatchFigures:
    messages: int = 0
    batches: int = 0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0

    @property
    def cpu_ms_per_message(self) -> float:
        return self.cpu_seconds / self.messages * 1000

    @property
    def wall_ms_per_message(self) -> float:
        return self.wall_seconds / self.messages * 1000


@dataclass
class Sizing:
    boto3_rss_mb: int
    init_rss_mb: int
    init_peak_mb: int
    batch_growth_mb: float
    batch_of_10: BatchFigures
    batch_of_1: BatchFigures
    outbound: BatchFigures
    """The outbound function on the acknowledgements the batches of 10 queued (CPU per job, fakes excluded)."""
    outbound_init_rss_mb: int = 0
    python: str = platform.python_version()
    machine: str = platform.machine()

    @property
    def peak_estimate_mb(self) -> float:
        return self.init_rss_mb + self.batch_growth_mb


def conversations(start: datetime, count: int, follow_ups: int, offset: int) -> list[Message]:
    """`count` new WhatsApp customers, each writing `follow_ups` more times, a second apart, in arrival order."""
    messages = []
    for number in range(count):
        customer = f"1650{offset + number:07d}"
        for index in range(follow_ups + 1):
            sent = start + timedelta(minutes=index, seconds=number)
            text = "Mi pedido no ha llegado. ¿Pueden ayudarme?" if index == 0 else f"Es el pedido {4400 + number}, mensaje {index}."
            messages.append(Message(f"wamid.sizing-{offset + number}-{index}", text, sent, customer=customer, name=f"Cliente {number}"))
    messages.sort(key=lambda message: message.sent_at)
    return messages


def run_batches(meter: Any, messages: list[Message], batch_size: int, fakes: FakeTime) -> BatchFigures:
    for message in messages:
        meter.webhook(message.webhook())
    figures = BatchFigures()
    flow = meter.flow
    while event := flow.aws.receive_lambda_event(flow.aws.inbound_url, max_messages=batch_size):
        fake_cpu = fakes.cpu
        # The process's CPU clock: the batch driver runs conversations on worker threads, whose CPU the calling thread's
        # clock would miss; the fakes' share is summed from each thread's own clock inside them.
        cpu, wall = time.process_time(), time.perf_counter()
        answer = process_handler(event, FakeLambdaContext(function_name="socialdesk-process", memory_limit_in_mb=1024))
        figures.cpu_seconds += time.process_time() - cpu - (fakes.cpu - fake_cpu)
        figures.wall_seconds += time.perf_counter() - wall  # the fakes' time included: threads overlap it
        assert not answer["batchItemFailures"], answer
        figures.messages += len(event["Records"])
        figures.batches += 1
    assert figures.messages == len(messages), (figures.messages, len(messages))
    return figures


def run_outbound(meter: Any, fakes: FakeTime) -> BatchFigures:
    """The outbound handler on the outbound queue's batches (the acknowledgements), timed as `run_batches` times process."""
    figures = BatchFigures()
    flow = meter.flow
    while event := flow.aws.receive_lambda_event(flow.aws.resource("OutboundQueue"), max_messages=10):
        fake_cpu = fakes.cpu
        cpu, wall = time.process_time(), time.perf_counter()
        answer = outbound_handler(event, FakeLambdaContext(function_name="socialdesk-outbound", memory_limit_in_mb=512))
        figures.cpu_seconds += time.process_time() - cpu - (fakes.cpu - fake_cpu)
        figures.wall_seconds += time.perf_counter() - wall
        assert not answer["batchItemFailures"], answer
        figures.messages += len(event["Records"])
        figures.batches += 1
    return figures


def measure(conversation_count: int = 30, follow_ups: int = 3) -> Sizing:
    boto3_rss = fresh_rss("boto3")
    init = fresh_rss("process")
    outbound_init = fresh_rss("outbound")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    with metered_stack(rules_text(context_fields=False), metered=False) as meter, FakeTime().installed() as fakes:
        warm_up = conversations(start - timedelta(minutes=30), 1, 1, offset=9_000_000)
        before = memory_status()["VmRSS"]
        reset_peak()
        run_batches(meter, warm_up, 10, fakes)  # the first batch: secret read, clients built, Salesforce login
        run_outbound(meter, fakes)  # its first batch: the platform secret read, the senders built
        tens = run_batches(meter, conversations(start, conversation_count, follow_ups, offset=0), 10, fakes)
        sends = run_outbound(meter, fakes)
        ones = run_batches(meter, conversations(start + timedelta(minutes=10), conversation_count // 3, follow_ups, offset=100_000), 1, fakes)
        growth = (memory_status()["VmHWM"] - before) / 1024
    return Sizing(
        boto3_rss_mb=boto3_rss["VmRSS"],
        init_rss_mb=init["VmRSS"],
        init_peak_mb=init["VmHWM"],
        batch_growth_mb=max(0.0, growth),
        batch_of_10=tens,
        batch_of_1=ones,
        outbound=sends,
        outbound_init_rss_mb=outbound_init["VmRSS"],
    )


def tuning(sizing: Sizing, io_ms_per_message: float, gb_second_price: float) -> list[tuple[int, float, float, bool]]:
    """(memory MB, estimated ms per message, $ per million messages of duration, fits) at each size, batches of 10."""
    rows = []
    for memory in MEMORY_SIZES:
        duration_ms = sizing.batch_of_10.cpu_ms_per_message * max(1.0, FULL_VCPU_MB / memory) + io_ms_per_message
        cost = memory / 1024 * duration_ms / 1000 * gb_second_price * 1e6
        rows.append((memory, duration_ms, cost, memory >= sizing.peak_estimate_mb * HEADROOM))
    return rows


def recommended(rows: list[tuple[int, float, float, bool]]) -> int:
    """The cheapest size that fits with headroom (ties: the larger, for a faster CPU part)."""
    fitting = [row for row in rows if row[3]]
    return min(fitting, key=lambda row: (round(row[2], 2), -row[0]))[0]


def main() -> None:
    from bench.cost_model import Latencies, lambda_price, process_io_ms, template_function

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--conversations", type=int, default=30)
    parser.add_argument("--follow-ups", type=int, default=3)
    args = parser.parse_args()
    sizing = measure(args.conversations, args.follow_ups)
    configured = template_function("ProcessFunction")
    latencies = Latencies()
    io_ms = process_io_ms(latencies)
    print(f"Command: {rerun('bench.process_memory_bench')}\n")
    print(f"Python {sizing.python} on {sizing.machine}; the template gives ProcessFunction {configured.memory_mb} MB on {configured.architecture}\n")
    print("| measurement | result |\n|---|---|")
    print(f"| fresh interpreter, `import boto3`: resident | {sizing.boto3_rss_mb} MB |")
    print(f"| fresh interpreter, process handler INIT (imports + `init()`): resident / peak | {sizing.init_rss_mb} MB / {sizing.init_peak_mb} MB |")
    print(f"| growth of the peak resident set over all batches (moto included, errs high) | {sizing.batch_growth_mb:.1f} MB |")
    print(f"| estimated peak of the function: INIT resident + growth | {sizing.peak_estimate_mb:.0f} MB |")
    print(f"| outbound function: fresh interpreter, handler INIT (imports + `init()`): resident | {sizing.outbound_init_rss_mb} MB |")
    for label, figures in (("batches of 10", sizing.batch_of_10), ("batches of 1", sizing.batch_of_1)):
        print(
            f"| CPU per message, {label} ({figures.messages} messages, {figures.batches} batches; fakes excluded) "
            f"| {figures.cpu_ms_per_message:.1f} ms (wall with the fakes' answers {figures.wall_ms_per_message:.1f} ms) |"
        )
    sends = sizing.outbound
    print(
        f"| outbound function: CPU per job ({sends.messages} acknowledgements, {sends.batches} batches; fakes excluded) "
        f"| {sends.cpu_ms_per_message:.1f} ms (wall with the fakes' answers {sends.wall_ms_per_message:.1f} ms) |"
    )
    print(f"\nDuration x price at each memory size (arm64 ${lambda_price():.10f} per GB-s), batches of 10, per message:")
    print(
        f"CPU {sizing.batch_of_10.cpu_ms_per_message:.1f} ms x max(1, 1769 / MB) + waiting {io_ms:.0f} ms "
        "(bench/cost_model.py's assumed latencies x the calls counted)\n"
    )
    print("| memory | est. duration per message | $ per million messages (duration) | fits (peak x 1.5) |\n|---|---|---|---|")
    rows = tuning(sizing, io_ms, lambda_price())
    for memory, duration, cost, fits in rows:
        print(f"| {memory} MB | {duration:.0f} ms | {cost:.2f} | {'yes' if fits else 'no'} |")
    print(f"\nRecommended MemorySize: {recommended(rows)} MB (the cheapest that fits with headroom; the template has {configured.memory_mb} MB)")


if __name__ == "__main__":
    main()
