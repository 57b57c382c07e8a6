"""Ingest benchmark: cold start as deployed against bare boto3, warm per-request cost, and AWS calls counted.

Run (the Lambda runtime's Python, which must also be on PATH: the cold start runs on it):
  PATH="$(pyenv prefix 3.13.0)/bin:$PATH" ./uvw run --isolated --python python3.13 python -m bench.ingest_bench [--runs 21] [--build-dir DIR]
Without `sam` (or to time only the warm rows): ./uvw run python -m bench.ingest_bench --warm-only

The cold start is the deployed artifact's (bench/cold_start_bench.py): `sam build` output, read-only, run by Python
3.13 with PYTHONDONTWRITEBYTECODE=1, paired against `import boto3` in the same run. --build-dir reuses a build.

The warm rows time one signed 2.4 KB WhatsApp delivery, from a floor (HMAC-SHA256 verification and `json.loads` of the
same body: what any webhook receiver must do) up to the request as deployed: the Lambda handler and its composition
root, the real boto3 SQS client behind the project's SqsQueue adapter, signing and serialising the SendMessageBatch and
parsing its answer, answered at the HTTP layer (botocore's `before-send` event returns SQS's JSON answer; no network,
so the network's own time is not in it). The Secrets Manager rows drive the real SecretsManagerJsonSecret cache through
an hour of requests on a virtual clock, counting GetSecretValue calls.

Prints markdown tables and the command; docs/benchmarks.md records the latest results. Numbers are compared as ratios
within one run, never asserted against wall-clock limits in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import importlib.util
import io
import itertools
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from botocore.awsrequest import AWSResponse, HTTPHeaders

from bench import PYTHON_313, UVW, rerun
from socialdesk import composition
from socialdesk.aws.secrets import SecretsManagerJsonSecret
from socialdesk.aws.sqs import MAX_MESSAGE_BYTES, SqsQueue
from socialdesk.composition import clients
from socialdesk.devtools.local_aws import AWS_ENVIRONMENT
from socialdesk.devtools.samples import TEST_SECRETS
from socialdesk.devtools.template_stack import load_template
from socialdesk.http import HttpRequest
from socialdesk.ingest.webhook_ingest import WebhookIngest
from socialdesk.observability import logger, metrics
from socialdesk.platforms.meta import MetaWebhook
from socialdesk.platforms.signing import hex_signature, hmac_sha256, matches_any
from socialdesk.platforms.x import XWebhook

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from socialdesk.ports.queues import QueueMessage

from bench.cold_start_bench import deployed_artifact, measure
from bench.deployed_artifact import make_writable

ROOT = Path(__file__).resolve().parents[1]
HANDLER = ROOT / "functions" / "ingest" / "app.py"
TEMPLATE = ROOT / "infra" / "template.yaml"
QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/socialdesk-InboundQueue"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:socialdesk-WebhookSecret-AbCdEf"
HOUR = 3600


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


class Raw:
    """A canned HTTP body, as botocore reads one (`stream()`)."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[bytes]:
        yield self.body


def canned(body: dict[str, Any]) -> AWSResponse:
    """A 200 in the AWS JSON protocol (SQS and Secrets Manager both speak it), built once and handed out each time."""
    data = json.dumps(body, separators=(",", ":")).encode()
    headers = HTTPHeaders.from_dict(
        {"x-amzn-RequestId": "0b4e2f6c-5f0e-5c1e-9d7e-6c1d2e3f4a5b", "Content-Type": "application/x-amz-json-1.0", "Content-Length": str(len(data))}
    )
    return AWSResponse("https://aws.invalid/", 200, headers, Raw(data))


SEND_MESSAGE_BATCH = canned(
    {
        "Successful": [{"Id": "0", "MessageId": "5fea7756-0ea4-451a-a703-a558b933e274", "MD5OfMessageBody": "fafb00f5732ab283681e124bf8747ed1"}],
        "Failed": [],
    }
)
GET_SECRET_VALUE = canned(
    {
        "ARN": SECRET_ARN,
        "Name": "socialdesk-WebhookSecret",
        "VersionId": "v1",
        "SecretString": json.dumps(TEST_SECRETS),
        "VersionStages": ["AWSCURRENT"],
    }
)


def answered_in_memory(request: Any, event_name: str, **_: Any) -> AWSResponse:
    """botocore's `before-send`: a response returned here is used instead of sending the request (no socket is opened)."""
    if event_name.endswith("SendMessageBatch"):
        return SEND_MESSAGE_BATCH
    if event_name.endswith("GetSecretValue"):
        return GET_SECRET_VALUE
    raise AssertionError(f"unexpected AWS call {event_name}")


@dataclass(frozen=True)
class Timing:
    """Microseconds per call: wall clock, and the thread's CPU time (which other jobs on a shared machine do not inflate)."""

    median: float
    p95: float
    cpu_median: float
    cpu_p95: float

    def __str__(self) -> str:
        return f"median {self.median:.0f} µs, p95 {self.p95:.0f} µs (CPU: median {self.cpu_median:.0f} µs, p95 {self.cpu_p95:.0f} µs)"


def per_request_micros(call: Callable[[], object], requests: int) -> Timing:
    """Median and p95 microseconds of `call`, after a warm-up."""
    for _ in range(200):
        call()
    wall, cpu = [], []
    for _ in range(requests):
        start, start_cpu = time.perf_counter(), time.thread_time()
        call()
        cpu.append((time.thread_time() - start_cpu) * 1e6)
        wall.append((time.perf_counter() - start) * 1e6)
    wall.sort()
    cpu.sort()
    p95 = round(0.95 * (requests - 1))
    return Timing(statistics.median(wall), wall[p95], statistics.median(cpu), cpu[p95])


def timed(timing: Timing) -> str:
    return str(timing)


def load_handler() -> ModuleType:
    """functions/ingest/app.py loaded from its file, as Lambda does (a fresh module each time)."""
    spec = importlib.util.spec_from_file_location("app", HANDLER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Context:
    function_name, memory_limit_in_mb, aws_request_id = "socialdesk-ingest", 512, "bench"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:socialdesk-ingest"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def lambda_event(request: HttpRequest) -> dict[str, Any]:
    return {
        "rawPath": request.path,
        "rawQueryString": "",
        "headers": dict(request.headers),
        "body": request.body,
        "isBase64Encoded": False,
        "requestContext": {"http": {"method": "POST", "path": request.path}, "requestId": "bench"},
    }


def template_parameter(name: str) -> Any:
    return load_template(TEMPLATE)["Parameters"][name]["Default"]


def as_deployed_environment() -> dict[str, str]:
    """What the template gives IngestFunction, with made-up resource names (nothing is reached)."""
    return {
        **AWS_ENVIRONMENT,
        "SOCIALDESK_INBOUND_QUEUE_URL": QUEUE_URL,
        "SOCIALDESK_QUARANTINE_QUEUE_URL": QUEUE_URL.replace("Inbound", "Quarantine"),
        "SOCIALDESK_QUARANTINE_BUCKET": "socialdesk-quarantinebucket-1a2b3c4d5e6f",
        "SOCIALDESK_WEBHOOK_SECRET_ID": SECRET_ARN,
        "SOCIALDESK_MAX_BODY_BYTES": str(template_parameter("MaxWebhookBodyBytes")),
        "SOCIALDESK_SECRET_CACHE_SECONDS": str(template_parameter("WebhookSecretCacheSeconds")),
    }


def as_deployed(request: HttpRequest, requests: int) -> Timing:
    """The whole Lambda handler with its own composition root: real boto3 clients, answered at the HTTP layer."""
    with patch.dict(os.environ, as_deployed_environment()):
        composition.reset()
        try:
            for client in (clients.sqs(), clients.secretsmanager()):
                client.meta.events.register("before-send", answered_in_memory)  # type: ignore[arg-type] # a response ends the send
            module = load_handler()
            event = lambda_event(request)
            with contextlib.redirect_stdout(io.StringIO()):
                answer = module.lambda_handler(event, Context())
                assert answer["statusCode"] == 200, answer
                return per_request_micros(lambda: module.lambda_handler(event, Context()), requests)
        finally:
            composition.reset()


def as_deployed_micros(requests: int) -> float:
    """The median CPU time of `as_deployed` for the benchmark's signed delivery, its log lines written to /dev/null."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    with Path(os.devnull).open("w") as sink:
        stream = handler.setStream(sink)
        try:
            return as_deployed(signed_request(whatsapp_payload(1, 1750)), requests).cpu_median
        finally:
            handler.setStream(stream)


# --- Secrets Manager reads per container-hour -----------------------------------------------


class VirtualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class CountingSecretsClient:
    """Stands in for boto3's Secrets Manager client and counts GetSecretValue calls."""

    def __init__(self) -> None:
        self.calls = 0

    def get_secret_value(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        return {"SecretString": json.dumps(TEST_SECRETS), "VersionStages": [request["VersionStage"]]}


def arrivals(per_second: float, request: HttpRequest) -> Iterator[tuple[float, HttpRequest]]:
    if per_second > 0:
        for index in itertools.count():
            if (at := index / per_second) >= HOUR:
                return
            yield at, request


def secret_reads_per_hour(valid_per_second: float, invalid_per_second: float, body: bytes) -> tuple[int, int]:
    """GetSecretValue calls in one container-hour of this traffic through the real ingest use case and secret cache.

    The cache keeps the secret WebhookSecretCacheSeconds (the template's default), and a signature that matches no
    cached value re-reads it at most once per 30 s (SecretsManagerJsonSecret's min_refresh_seconds).
    """
    clock, client = VirtualClock(), CountingSecretsClient()
    cache = float(template_parameter("WebhookSecretCacheSeconds"))
    secret = SecretsManagerJsonSecret("webhook secret", SECRET_ARN, lambda: client, max_age_seconds=cache, clock=clock)  # type: ignore[arg-type,return-value]
    ingest = WebhookIngest(
        platforms=(MetaWebhook(),),
        secrets=secret,
        events=DiscardQueue(),
        quarantine=DiscardQueue(),
        oversize=DiscardBlobStore(),
        max_message_bytes=MAX_MESSAGE_BYTES,
        max_body_bytes=4 << 20,
    )
    good = signed_request(body)
    bad = HttpRequest(method="POST", path=good.path, headers={**good.headers, "x-hub-signature-256": "sha256=" + "0" * 64}, query={}, body=good.body)
    handled = 0
    expected = {id(good): 200, id(bad): 401}
    level = logger.log_level
    logger.setLevel(logging.ERROR)  # the refusals' warnings are not what is measured here: 100 req/s for an hour is slow enough
    with contextlib.redirect_stdout(io.StringIO()):
        for at, request in heapq.merge(arrivals(valid_per_second, good), arrivals(invalid_per_second, bad), key=lambda arrival: arrival[0]):
            clock.now = at
            assert ingest.handle(request).status == expected[id(request)]
            handled += 1
            if handled % 50 == 0:
                metrics.clear_metrics()
    metrics.clear_metrics()
    logger.setLevel(level)
    return client.calls, handled


# --- main -------------------------------------------------------------------------------------


def warm_rows(requests: int) -> list[tuple[str, str]]:
    """Per-request cost of one signed delivery, from the floor to the request as deployed. Logs go to /dev/null."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(Path(os.devnull).open("w"))  # noqa: SIM115 - lives as long as the process
    body = whatsapp_payload(1, 1750)
    request = signed_request(body)
    secret, signature = TEST_SECRETS["meta_app_secret"], request.headers["x-hub-signature-256"]

    def floor() -> None:
        assert matches_any(signature, ["sha256=" + hmac_sha256(secret, body).hex()])
        json.loads(body)

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
    assert ingest.handle(request).status == 200

    def use_case() -> None:
        ingest.handle(request)
        metrics.clear_metrics()

    handler_module = load_handler()
    handler_module.__dict__["webhook_ingest"] = lambda: ingest  # swap only the composition root: no SQS
    event = lambda_event(request)
    rows = [
        (f"floor: HMAC-SHA256 verification + `json.loads` of the same {len(body)} B body", timed(per_request_micros(floor, requests))),
        (
            f"use case, signed {len(body)} B WhatsApp payload: verify + parse + normalise + encode, in-memory queue (goal < 1 ms)",
            timed(per_request_micros(use_case, requests)),
        ),
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        whole = per_request_micros(lambda: handler_module.lambda_handler(event, Context()), requests)
    rows.append(("same request through the whole Lambda handler (logging + EMF metrics flush), in-memory queue", timed(whole)))
    rows.append(
        (
            "**as deployed**: the whole handler and its composition root, real boto3 SQS client through SqsQueue "
            "(SendMessageBatch signed, sent, parsed; answered at the HTTP layer, no network)",
            timed(as_deployed(request, requests)),
        )
    )
    secrets.reads = 0
    for _ in range(100):
        use_case()
    rows.append(("secret store reads per warm request (cache in front of Secrets Manager)", f"{secrets.reads / 100:.0f} cache lookups"))
    return rows


def secret_rows() -> list[tuple[str, str]]:
    """GetSecretValue calls in one container-hour, on a virtual clock."""
    cache = template_parameter("WebhookSecretCacheSeconds")
    body = whatsapp_payload(1, 1750)
    rows = []
    for valid, invalid, what in ((10, 0, "10 req/s, all signed"), (0, 100, "100 req/s of invalid signatures"), (10, 100, "both at once")):
        calls, handled = secret_reads_per_hour(valid, invalid, body)
        rows.append((f"GetSecretValue calls per container-hour, {what} ({handled:,} requests; cache {cache} s)", str(calls)))
    return rows


def sqs_rows() -> list[tuple[str, str]]:
    """SQS calls per delivery, counted through the real batching adapter."""
    rows = []
    for size in (1, 10, 25, 1000):
        client = CountingSqsClient()
        counted = WebhookIngest(
            platforms=(MetaWebhook(),),
            secrets=StaticSecrets(),
            events=SqsQueue(QUEUE_URL, lambda client=client: client),  # type: ignore[misc]
            quarantine=DiscardQueue(),
            oversize=DiscardBlobStore(),
            max_message_bytes=MAX_MESSAGE_BYTES,
            max_body_bytes=6 << 20,
        )
        assert counted.handle(signed_request(whatsapp_payload(size, 200))).status == 200
        rows.append((f"SendMessageBatch calls for a {size}-message Meta delivery (one message per event)", str(client.calls)))
    metrics.clear_metrics()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="rounds of fresh interpreters for the cold start")
    parser.add_argument("--requests", type=int, default=5000, help="warm requests timed")
    parser.add_argument("--build-dir", type=Path, help="an existing `sam build --build-dir` output (default: build one)")
    parser.add_argument("--warm-only", action="store_true", help="skip the cold start (which needs sam and python3.13)")
    args = parser.parse_args()
    on_313 = sys.version_info >= (3, 13)
    print(f"Command: {rerun('bench.ingest_bench', PYTHON_313 if on_313 or not args.warm_only else UVW)}\n")
    rows: list[tuple[str, str]] = []
    if not args.warm_only:  # cold start of the deployed artifact (goal: the handler's import <= 1.2 x `import boto3`)
        with tempfile.TemporaryDirectory() as folder:
            try:
                rows += measure(deployed_artifact(args.build_dir, Path(folder)), "IngestFunction", args.runs)
            finally:
                make_writable(Path(folder))
    rows += warm_rows(args.requests) + secret_rows() + sqs_rows()
    print(f"Python {platform.python_version()} on {platform.machine()}\n")
    print("| measurement | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(
        "\nGetSecretValue: each read of the secret is two calls (AWSCURRENT and AWSPREVIOUS, so a rotation keeps both valid); "
        "a signature that matches no cached value re-reads it at most once per 30 s."
    )


if __name__ == "__main__":
    main()
