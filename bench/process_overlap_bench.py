"""How much of a batch's waiting the batch driver's threads overlap: measured on a real clock, against the cost model.

Run: ./uvw run python -m bench.process_overlap_bench [--latency-ms 100] [--workers 1 4 10]

The process handler runs as deployed (tests/support/process_stack.py: moto from the template, the Zendesk and
Salesforce HTTP fakes, the shipped rules), each answer of the fakes held back `--latency-ms` on the real clock, so a
call waits as it would on the network and the driver's threads (process/sqs_batch.py) can overlap the waits. With 1, 4
and 10 threads, each on a fresh stack: a batch of 10 new customers of one WhatsApp number (the driver runs a number's
events one after the other: a chat may go by the customer's phone in one event and their BSUID in another), then 10
new customers of 10 numbers (or platforms: independent groups), then their 10 follow-ups. Printed beside each wall
time is what bench/cost_model.py bills for the batch: the longer of
all its CPU one after another and ceil(10 / threads) rounds of a message's CPU and waits, with this machine's CPU per
message (the process clock, moto's and the fakes' included: here they compete for the same interpreter) and the
calls counted times the latency as the waits.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import responses

from bench import rerun
from bench.cost_model import batch_ms_per_message
from bench.process_calls_bench import Message, Meter, metered_stack, rules_text
from bench.process_memory_bench import FULL_VCPU_MB
from functions.process.app import lambda_handler as process_handler
from socialdesk.process.sqs_batch import MAX_WORKERS, SqsBatch
from tests.support.webhooks import FakeLambdaContext

BATCH = 10


@contextlib.contextmanager
def held_back(latency_ms: float) -> Iterator[None]:
    """Every answer of the HTTP fakes (Zendesk, Salesforce, the platform) comes `latency_ms` later, on the real clock."""
    original: Callable[..., Any] = responses.CallbackResponse.get_response

    def slow(self: Any, request: Any) -> Any:
        time.sleep(latency_ms / 1000)
        return original(self, request)

    with patch.object(responses.CallbackResponse, "get_response", slow):
        yield


def customers(start: datetime, index: int, *, numbers: int, offset: int = 0) -> list[Message]:
    """BATCH customers writing at once, each their own conversation, to `numbers` of the brand's WhatsApp numbers; `index`
    0 opens them, 1 follows up."""
    text = "Mi pedido no ha llegado." if index == 0 else "Es el pedido 4471."
    return [
        Message(f"wamid.overlap-{offset + n}-{index}", text, start, phone_number_id=f"10654035{n % numbers:07d}", customer=f"1650700{offset + n:04d}")
        for n in range(BATCH)
    ]


def one_batch(meter: Meter, messages: list[Message]) -> tuple[float, float, int]:
    """(wall ms, CPU ms, HTTP calls) of the process handler on one batch of `messages`."""
    for message in messages:
        meter.webhook(message.webhook())
    flow = meter.flow
    event = flow.aws.receive_lambda_event(flow.aws.inbound_url, max_messages=BATCH)
    assert event is not None and len(event["Records"]) == len(messages), "the batch did not hold every message"
    calls = sum(flow.zendesk.calls.values()) + sum(flow.salesforce.calls.values())
    cpu, wall = time.process_time(), time.perf_counter()
    answer = process_handler(event, FakeLambdaContext(function_name="socialdesk-process"))
    elapsed = (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000
    assert not answer["batchItemFailures"], answer
    return elapsed[0], elapsed[1], sum(flow.zendesk.calls.values()) + sum(flow.salesforce.calls.values()) - calls


def measure(workers: int, latency_ms: float) -> dict[str, tuple[float, float, int]]:
    """Per batch kind, (wall ms, CPU ms, HTTP calls) with `workers` threads."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    with (
        patch.dict(SqsBatch.__init__.__kwdefaults__, {"workers": workers}),
        metered_stack(rules_text(context_fields=False), metered=False) as meter,
    ):
        warm_up = Message("wamid.overlap-warm-up", "Hola", start - timedelta(minutes=5), customer="16507009999")
        one_batch(meter, [warm_up])  # the secret read, the clients built, the Salesforce login
        with held_back(latency_ms):
            return {
                "one number: 10 new customers": one_batch(meter, customers(start, 0, numbers=1, offset=100)),
                "10 numbers: 10 new customers": one_batch(meter, customers(start, 0, numbers=BATCH)),
                "10 numbers: their 10 follow-ups": one_batch(meter, customers(start + timedelta(minutes=1), 1, numbers=BATCH)),
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--latency-ms", type=float, default=100.0, help="each Zendesk, Salesforce and platform answer held back this long")
    parser.add_argument("--workers", type=int, nargs="+", default=sorted({1, 4, MAX_WORKERS}))
    args = parser.parse_args()
    print(f"Command: {rerun('bench.process_overlap_bench')}\n")
    print(f"Every HTTP answer held back {args.latency_ms:.0f} ms; batches of {BATCH} messages of {BATCH} conversations; MAX_WORKERS {MAX_WORKERS}.\n")
    print("| batch | threads | HTTP calls | CPU (process clock) | wall | modelled (critical path) | wall / one thread's |")
    print("|---|---|---|---|---|---|---|")
    serial: dict[str, float] = {}
    for workers in args.workers:
        for kind, (wall, cpu, calls) in measure(workers, args.latency_ms).items():
            serial.setdefault(kind, wall)
            groups = 1 if kind.startswith("one number") else BATCH
            modelled = BATCH * batch_ms_per_message(cpu / BATCH, calls / BATCH * args.latency_ms, FULL_VCPU_MB, BATCH, workers=workers, groups=groups)
            print(f"| {kind} | {workers} | {calls} | {cpu:.0f} ms | {wall:.0f} ms | {modelled:.0f} ms | {wall / serial[kind]:.2f} |")


if __name__ == "__main__":
    main()
