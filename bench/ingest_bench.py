"""Ingest benchmark: cold start as deployed against bare boto3, warm per-request cost, and AWS calls counted.

Run (the Lambda runtime's Python, which must also be on PATH: the cold start runs on it):
  PATH="$(pyenv prefix 3.13.0)/bin:$PATH" uv run --isolated --python python3.13 python -m bench.ingest_bench [--runs 21] [--build-dir DIR]

The cold start is the deployed artifact's (bench/cold_start_bench.py): `sam build` output, read-only, run by Python
3.13 with PYTHONDONTWRITEBYTECODE=1, paired against `import boto3` in the same run. --build-dir reuses a build.
Prints a markdown table; docs/benchmarks.md records the latest results. Numbers are
compared as ratios within one run, never asserted against wall-clock limits in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import logging
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from socialdesk.aws.sqs import MAX_MESSAGE_BYTES, SqsQueue
from socialdesk.devtools.samples import TEST_SECRETS
from socialdesk.http import HttpRequest
from socialdesk.ingest.webhook_ingest import WebhookIngest
from socialdesk.observability import logger, metrics
from socialdesk.platforms.meta import MetaWebhook
from socialdesk.platforms.signing import hex_signature
from socialdesk.platforms.x import XWebhook

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from socialdesk.ports.queues import QueueMessage

from bench.cold_start_bench import deployed_artifact, measure
from bench.deployed_artifact import make_writable

ROOT = Path(__file__).resolve().parents[1]
HANDLER = ROOT / "functions" / "ingest" / "app.py"


class StaticSecrets:
    name = "webhook secret"

    def __init__(self) -> None:
        self.reads = 0

    def values(self, key: str, *, refresh: bool = False) -> tuple[str, ...]:
        self.reads += 1
        return (TEST_SECRETS[key],)


class DiscardQueue:
    def send_all(self, messages: Sequence[QueueMessage]) -> None:
        pass


class DiscardBlobStore:
    def put(self, key: str, data: bytes) -> str:
        return "bench-bucket"


class CountingSqsClient:
    """Stands in for boto3's SQS client and counts SendMessageBatch calls."""

    def __init__(self) -> None:
        self.calls = 0

    def send_message_batch(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        return {"Successful": [{"Id": entry["Id"]} for entry in request["Entries"]], "Failed": []}


def whatsapp_payload(messages: int, text_bytes: int) -> bytes:
    """A WhatsApp delivery of `messages` customer messages, each about `text_bytes` long."""
    text = ("Mi pedido no ha llegado, ¿pueden ayudarme? " * (text_bytes // 40 + 1))[:text_bytes]
    sent = str(int(time.time()))  # now: ingest quarantines an event created over 8 days before it arrives (a replay)
    batch = [
        {"from": "16505551234", "id": f"wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQz{n:08d}", "timestamp": sent, "type": "text", "text": {"body": text}}
        for n in range(messages)
    ]
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Dana Rodríguez"}, "wa_id": "16505551234"}],
        "messages": batch,
    }
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]}
    return json.dumps(payload, separators=(",", ":")).encode("ascii")


def signed_request(body: bytes) -> HttpRequest:
    return HttpRequest(
        method="POST",
        path="/webhooks/meta",
        headers={"x-hub-signature-256": hex_signature(TEST_SECRETS["meta_app_secret"], body), "content-type": "application/json"},
        query={},
        body=body.decode("ascii"),
    )


def per_request_micros(call: Callable[[], object], requests: int) -> tuple[float, float]:
    """Median and p99 microseconds of `call`, after a warm-up."""
    for _ in range(200):
        call()
    timings = []
    for _ in range(requests):
        start = time.perf_counter()
        call()
        timings.append((time.perf_counter() - start) * 1e6)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="rounds of fresh interpreters for the cold start")
    parser.add_argument("--requests", type=int, default=5000, help="warm requests timed")
    parser.add_argument("--build-dir", type=Path, help="an existing `sam build --build-dir` output (default: build one)")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []

    # 1. Cold start of the deployed artifact (goal: the handler's import <= 1.2 x `import boto3`).
    with tempfile.TemporaryDirectory() as folder:
        try:
            rows += measure(deployed_artifact(args.build_dir, Path(folder)), "IngestFunction", args.runs)
        finally:
            make_writable(Path(folder))

    # 2. Warm per-request cost, SQS call excluded (an in-memory queue). Log lines are formatted and written, to /dev/null.
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(Path(os.devnull).open("w"))  # noqa: SIM115 - lives as long as the process
    secrets = StaticSecrets()
    ingest = WebhookIngest(
        platforms=(XWebhook(), MetaWebhook()),
        secrets=secrets,
        events=DiscardQueue(),
        quarantine=DiscardQueue(),
        oversize=DiscardBlobStore(),
        max_message_bytes=MAX_MESSAGE_BYTES,
        max_body_bytes=4 << 20,
    )
    body = whatsapp_payload(1, 1750)
    request = signed_request(body)
    assert ingest.handle(request).status == 200

    def use_case() -> None:
        ingest.handle(request)
        metrics.clear_metrics()

    median, p99 = per_request_micros(use_case, args.requests)
    rows.append(
        (
            f"warm request, signed {len(body)} B WhatsApp payload: verify + parse + normalise + encode (goal < 1 ms)",
            f"median {median:.0f} µs, p99 {p99:.0f} µs",
        )
    )

    spec = importlib.util.spec_from_file_location("app", HANDLER)  # loaded from its file, as Lambda does
    assert spec is not None and spec.loader is not None
    handler_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handler_module)
    handler_module.__dict__["webhook_ingest"] = lambda: ingest  # swap only the composition root: no SQS
    event = {"rawPath": "/webhooks/meta", "rawQueryString": "", "headers": dict(request.headers), "body": request.body, "isBase64Encoded": False}
    event["requestContext"] = {"http": {"method": "POST", "path": "/webhooks/meta"}, "requestId": "bench"}

    class Context:
        function_name, memory_limit_in_mb, aws_request_id = "ingest", 512, "bench"
        invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:ingest"

    with contextlib.redirect_stdout(io.StringIO()):
        median, p99 = per_request_micros(lambda: handler_module.lambda_handler(event, Context()), args.requests)
    rows.append(("same request through the whole Lambda handler (logging + EMF metrics flush)", f"median {median:.0f} µs, p99 {p99:.0f} µs"))

    secrets.reads = 0
    for _ in range(100):
        use_case()
    rows.append(
        (
            "secret store reads per warm request (cache in front of Secrets Manager)",
            f"{secrets.reads / 100:.0f} cache lookups, 0 Secrets Manager calls",
        )
    )

    # 3. SQS calls per delivery, counted through the real batching adapter.
    for size in (1, 10, 25, 1000):
        client = CountingSqsClient()
        counted = WebhookIngest(
            platforms=(MetaWebhook(),),
            secrets=StaticSecrets(),
            events=SqsQueue("https://sqs.eu-west-1.amazonaws.com/123456789012/inbound", lambda client=client: client),  # type: ignore[misc]
            quarantine=DiscardQueue(),
            oversize=DiscardBlobStore(),
            max_message_bytes=MAX_MESSAGE_BYTES,
            max_body_bytes=6 << 20,
        )
        assert counted.handle(signed_request(whatsapp_payload(size, 200))).status == 200
        rows.append((f"SendMessageBatch calls for a {size}-message Meta delivery (one message per event)", str(client.calls)))
    metrics.clear_metrics()

    print(f"Python {platform.python_version()} on {platform.machine()}\n")
    print("| measurement | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
