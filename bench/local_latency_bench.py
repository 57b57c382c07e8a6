"""Webhook to ticket on `socialdesk local`: how long from the POST until the sandbox helpdesk holds the message.

Run: ./uvw run python -m bench.local_latency_bench [--events 100]

The local stack runs in this process exactly as `socialdesk local` runs it (the template's
handlers, moto, the sandbox helpdesk and CRM, the SQS poller). Signed WhatsApp messages are
posted one at a time over HTTP; the clock stops when the sandbox's state file on disk shows the
ticket (a new customer) or the comment (a follow-up in an open conversation). Goal: p95 under 1 s.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import rerun
from socialdesk.desk.sandbox import SandboxDeskState, load_desk_state
from socialdesk.devtools.local_aws import TEMPLATE
from socialdesk.devtools.samples import body_json, redated, with_json_body
from socialdesk.local.gateway import free_port
from socialdesk.local.runner import LocalRunner, RunnerOptions
from socialdesk.local.send import send_event
from tests.support.webhooks import sample

GOAL_P95_SECONDS = 1.0


def whatsapp(customer: str, message_id: str) -> dict[str, Any]:
    event = sample("meta-whatsapp-text")
    payload = copy.deepcopy(body_json(event))
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = customer
    value["messages"][0].update({"from": customer, "id": message_id, "text": {"body": f"Order question {message_id}"}})
    return with_json_body(event, redated(payload, datetime.now(UTC)))


def wait_for(path: Path, done: Callable[[SandboxDeskState], bool], timeout: float = 10.0) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if path.exists() and done(load_desk_state(path)):
            return
        time.sleep(0.002)
    raise TimeoutError(f"{path} never showed the message")


def comments(state: SandboxDeskState) -> int:
    return sum(len(ticket.comments) for ticket in state.tickets.values())


def measure(runner: LocalRunner, events: int) -> dict[str, list[float]]:
    desk_file = runner.sandbox_dir / "zendesk.json"
    timings: dict[str, list[float]] = {"new customer: POST → ticket": [], "follow-up: POST → comment": [], "POST answered (ingest)": []}
    for index in range(events):
        follow_up = index % 2 == 1  # alternate: a new customer, then that customer writing again
        customer = f"1650555{index // 2:04d}"
        before = load_desk_state(desk_file) if desk_file.exists() else SandboxDeskState()
        tickets, comment_count = len(before.tickets), comments(before)
        event = whatsapp(customer, f"wamid.bench-{index}")
        started = time.perf_counter()
        status, _ = send_event(runner.url, event)
        answered = time.perf_counter()
        assert status == 200, status
        if follow_up:
            wait_for(desk_file, lambda state: comments(state) > comment_count)  # noqa: B023 - called before the loop moves on
        else:
            wait_for(desk_file, lambda state: len(state.tickets) > tickets)  # noqa: B023 - called before the loop moves on
        finished = time.perf_counter()
        timings["POST answered (ingest)"].append(answered - started)
        timings["follow-up: POST → comment" if follow_up else "new customer: POST → ticket"].append(finished - started)
        runner.wait_until_idle()  # the CRM activity lands after the ticket; let it, so events do not overlap
    return timings


def burst(runner: LocalRunner, events: int) -> tuple[list[float], float]:
    """`events` new customers posted back to back (a busy minute): each one's POST → ticket, and the time until all exist."""
    desk_file = runner.sandbox_dir / "zendesk.json"
    posted: dict[str, float] = {}
    for index in range(events):
        customer = f"1651555{index:04d}"
        event = whatsapp(customer, f"wamid.burst-{index}")
        posted[customer] = time.perf_counter()
        assert send_event(runner.url, event)[0] == 200
    seen: dict[str, float] = {}
    deadline = time.perf_counter() + 60
    while len(seen) < events and time.perf_counter() < deadline:
        for ticket in load_desk_state(desk_file).tickets.values():
            customer = ticket.external_id.rsplit(":", 1)[-1]
            if customer in posted and customer not in seen:
                seen[customer] = time.perf_counter()
        time.sleep(0.002)
    assert len(seen) == events, f"only {len(seen)} of {events} tickets appeared"
    first = min(posted.values())
    return [seen[customer] - posted[customer] for customer in posted], max(seen.values()) - first


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def events_to_send(doc: str | None) -> int:
    """The benchmark's `--events N` (default 100)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--events", type=int, default=100)
    events: int = parser.parse_args().events
    return events


@contextlib.contextmanager
def warm_local_stack() -> Iterator[LocalRunner]:
    """`socialdesk local` on a free port and a scratch state directory, its output kept quiet, after one warm-up
    message (first-use imports and clients, as a warm container has them)."""
    with (
        tempfile.TemporaryDirectory() as state,
        contextlib.redirect_stdout(io.StringIO()),
        LocalRunner(RunnerOptions(template=TEMPLATE, port=free_port(), state_dir=Path(state))) as runner,
    ):
        send_event(runner.url, whatsapp("16500000000", "wamid.warm-up"))
        runner.wait_until_idle()
        yield runner


def main() -> None:
    events = events_to_send(__doc__)
    with warm_local_stack() as runner:
        timings = measure(runner, events)
        runner.wait_until_idle()
        burst_latencies, burst_total = burst(runner, events)
    print(f"Command: {rerun('bench.local_latency_bench')}\n")
    everything = timings["new customer: POST → ticket"] + timings["follow-up: POST → comment"]
    timings[f"all {events} events: POST → in the helpdesk"] = everything
    print(f"| measurement ({events} signed WhatsApp webhooks, one at a time) | n | median | p95 | max |")
    print("|---|---|---|---|---|")
    for name, values in timings.items():
        cells = [f"{statistics.median(values) * 1000:.0f} ms", f"{percentile(values, 0.95) * 1000:.0f} ms", f"{max(values) * 1000:.0f} ms"]
        print(f"| {name} | {len(values)} | {' | '.join(cells)} |")
    cells = [
        f"{statistics.median(burst_latencies) * 1000:.0f} ms",
        f"{percentile(burst_latencies, 0.95) * 1000:.0f} ms",
        f"{max(burst_latencies) * 1000:.0f} ms",
    ]
    print(f"| burst: {events} new customers posted back to back, POST → ticket | {events} | {' | '.join(cells)} |")
    print(f"| burst: first POST → last ticket | 1 | {burst_total * 1000:.0f} ms | | |")
    p95 = percentile(everything, 0.95)
    print(f"\np95 webhook → helpdesk {p95 * 1000:.0f} ms: {'within' if p95 < GOAL_P95_SECONDS else 'OVER'} the {GOAL_P95_SECONDS:.0f} s goal")


if __name__ == "__main__":
    main()
