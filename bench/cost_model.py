"""Dollars per million inbound messages, from measured counts and AWS's published prices.

Run: ./uvw run python -m bench.cost_model [--process-memory MB] [--batch N] [--zendesk-ms MS] ...

What is measured here (by running the other benchmarks' code, not copied from their last printout):
- per delivery, by scenario (bench/process_calls_bench.py): Zendesk, Salesforce, DynamoDB calls, read and write request
  units, the functions' SQS requests, their log bytes, the bytes sent to Zendesk and Salesforce, the API's answer, and
  the table storage each delivery leaves (item size + 100 B, times its TTL);
- the ingest request's CPU as deployed (bench/ingest_bench.py: the handler with the real boto3 SQS client, answered
  at the HTTP layer) and the process function's CPU per message (bench/process_memory_bench.py, fakes excluded);
- memory size, architecture, batch size, tracing and log retention, read from infra/template.yaml.

What is assumed, and printed as such: the mix of scenarios, the latency of each Zendesk, Salesforce, DynamoDB and SQS
call (no network here: the function waits for them, and Lambda bills the wait), how full the batches are, the share
of invocations that are cold starts, and the INIT durations (docs/benchmarks.md, cold start as deployed).

Prices: us-east-1, on-demand, beyond the free tiers, as published on the AWS pricing pages named beside each one
(checked on PRICES_CHECKED). Tiered prices use the first paid tier. A GB is 2^30 bytes, as AWS bills it.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import astuple, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from bench import rerun
from socialdesk.devtools.template_stack import load_template
from socialdesk.process.sqs_batch import MAX_WORKERS
from socialdesk.store.dynamodb import RECORD_RETENTION

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "infra" / "template.yaml"
GB = 2**30
MILLION = 1_000_000
FULL_VCPU_MB = 1769
DAYS_PER_MONTH = 365.25 / 12
GOAL_PER_MILLION = 10.0
RECORD_DAYS = RECORD_RETENTION.days

PRICES_CHECKED = "2026-12-04"


@dataclass(frozen=True)
class Prices:
    """us-east-1, on-demand; each figure in dollars per the unit its name says."""

    api_request: float = 1.00 / MILLION
    lambda_request: float = 0.20 / MILLION
    lambda_gb_second_arm64: float = 0.0000133334
    lambda_gb_second_x86: float = 0.0000166667
    sqs_request: float = 0.40 / MILLION
    dynamodb_rru: float = 0.125 / MILLION
    dynamodb_wru: float = 0.625 / MILLION
    dynamodb_storage_gb_month: float = 0.25
    dynamodb_pitr_gb_month: float = 0.20
    logs_ingest_gb: float = 0.50
    logs_storage_gb_month: float = 0.03
    data_out_gb: float = 0.09
    xray_trace: float = 5.00 / MILLION
    secrets_call: float = 0.05 / 10_000
    secret_month: float = 0.40


SOURCES: dict[str, tuple[str, str]] = {
    "api_request": (
        "$1.00 per million HTTP API requests (first 300 M a month; each 512 KB of a request is one)",
        "aws.amazon.com/api-gateway/pricing",
    ),
    "lambda_request": ("$0.20 per million requests", "aws.amazon.com/lambda/pricing"),
    "lambda_gb_second_arm64": (
        "$0.0000133334 per GB-second, arm64 (first 7.5 billion GB-s a month); INIT billed too since 2025-08-01",
        "aws.amazon.com/lambda/pricing",
    ),
    "lambda_gb_second_x86": ("$0.0000166667 per GB-second, x86_64 (for comparison)", "aws.amazon.com/lambda/pricing"),
    "sqs_request": ("$0.40 per million standard-queue requests; each 64 KB chunk of a payload is one request", "aws.amazon.com/sqs/pricing"),
    "dynamodb_rru": ("$0.125 per million read request units (on-demand, since the 2024-11-01 cut)", "aws.amazon.com/dynamodb/pricing/on-demand"),
    "dynamodb_wru": ("$0.625 per million write request units (on-demand)", "aws.amazon.com/dynamodb/pricing/on-demand"),
    "dynamodb_storage_gb_month": (
        "$0.25 per GB-month of table storage (Standard class; first 25 GB free)",
        "aws.amazon.com/dynamodb/pricing/on-demand",
    ),
    "dynamodb_pitr_gb_month": (
        "$0.20 per GB-month of continuous backups (point-in-time recovery, on in the template)",
        "aws.amazon.com/dynamodb/pricing/on-demand",
    ),
    "logs_ingest_gb": ("$0.50 per GB ingested (Standard class; Lambda logs: the first 10 TB tier)", "aws.amazon.com/cloudwatch/pricing"),
    "logs_storage_gb_month": ("$0.03 per GB-month archived", "aws.amazon.com/cloudwatch/pricing"),
    "data_out_gb": (
        "$0.09 per GB out to the internet (first 10 TB a month; 100 GB a month free account-wide)",
        "aws.amazon.com/ec2/pricing/on-demand (data transfer)",
    ),
    "xray_trace": ("$5.00 per million traces recorded (tracing is off in the template)", "aws.amazon.com/xray/pricing"),
    "secrets_call": ("$0.05 per 10,000 API calls", "aws.amazon.com/secrets-manager/pricing"),
    "secret_month": ("$0.40 per secret per month", "aws.amazon.com/secrets-manager/pricing"),
}


@dataclass(frozen=True)
class Latencies:
    """ASSUMED time the function waits for each call (ms). Nothing here reaches a network; a deployment's REPORT lines tell."""

    zendesk_ms: float = 250.0
    salesforce_ms: float = 250.0
    dynamodb_ms: float = 5.0
    sqs_ms: float = 10.0
    platform_ms: float = 300.0
    """A send to the platform (WhatsApp Cloud API, Graph, X): the outbound function's one call to it per job."""


# ASSUMED mix, per inbound customer message: a conversation of five messages on average (one opens it), one in two new
# conversations from a customer never seen, and 5 % of deliveries coming twice (platform or SQS redelivery).
MIX: dict[str, float] = {
    "new customer, new conversation": 0.10,
    "known customer, new conversation": 0.10,
    "known customer, follow-up in the same conversation": 0.80,
    "the same message delivered again": 0.05,
}
# ASSUMED: AWS found INIT in under 1 % of invocations of production workloads (AWS Compute Blog, "AWS Lambda standardizes
# billing for INIT phase", 2025); the INIT durations are docs/benchmarks.md's, as deployed, at INIT's full CPU.
COLD_START_SHARE = 0.01
# The outbound function's INIT: import and init() of the built artifact, 494 ms (docs/benchmarks.md, "outbound and sla_check
# without simple-salesforce").
INIT_SECONDS = {"IngestFunction": 0.318, "ProcessFunction": 0.664, "OutboundFunction": 0.494}


@dataclass(frozen=True)
class FunctionConfig:
    memory_mb: int
    architecture: str
    timeout_s: int
    tracing: bool


def template_function(logical_id: str) -> FunctionConfig:
    """A function's memory, architecture, timeout and tracing as infra/template.yaml sets them (its own, else Globals)."""
    template = load_template(TEMPLATE)
    defaults = template.get("Globals", {}).get("Function", {})
    own = template["Resources"][logical_id]["Properties"]

    def setting(name: str, fallback: Any) -> Any:
        return own.get(name, defaults.get(name, fallback))

    tracing = setting("Tracing", "PassThrough") == "Active"
    return FunctionConfig(int(setting("MemorySize", 128)), setting("Architectures", ["x86_64"])[0], int(setting("Timeout", 3)), tracing)


def template_batch_size() -> int:
    process = load_template(TEMPLATE)["Resources"]["ProcessFunction"]["Properties"]
    return int(process["Events"]["Inbound"]["Properties"].get("BatchSize", 10))


def template_pitr() -> bool:
    """The PointInTimeRecovery parameter's default: the state table's continuous backups."""
    return bool(load_template(TEMPLATE)["Parameters"]["PointInTimeRecovery"]["Default"] == "true")


def log_retention_days() -> int:
    return int(load_template(TEMPLATE)["Parameters"]["LogRetentionDays"]["Default"])


def lambda_price(architecture: str = "arm64", prices: Prices = Prices()) -> float:
    return prices.lambda_gb_second_arm64 if architecture == "arm64" else prices.lambda_gb_second_x86


# --- the arithmetic (tests/unit/test_cost_model.py checks it by hand) ------------------------------


def run_ms(cpu_ms: float, io_ms: float, memory_mb: int) -> float:
    """Lambda gives CPU in proportion to memory, a full vCPU at 1,769 MB: the CPU part stretches below that, waits do not."""
    return cpu_ms * max(1.0, FULL_VCPU_MB / memory_mb) + io_ms


def billed_ms_per_message(ms_per_message: float, messages_per_invocation: int) -> float:
    """Lambda bills each invocation's duration rounded up to the millisecond."""
    return math.ceil(ms_per_message * messages_per_invocation) / messages_per_invocation


MEMORY_AND_RETENTION = ("ingest_memory_mb", "process_memory_mb", "outbound_memory_mb", "log_retention_months")


@dataclass(frozen=True)
class Usage:
    """What one delivery uses, averaged over the mix. Lambda durations are billed ms per delivery."""

    api_requests: float = 0.0
    api_bytes_out: float = 0.0
    ingest_invocations: float = 0.0
    ingest_billed_ms: float = 0.0
    ingest_memory_mb: int = 512
    process_invocations: float = 0.0
    process_billed_ms: float = 0.0
    process_memory_mb: int = 1024
    outbound_invocations: float = 0.0
    outbound_billed_ms: float = 0.0
    outbound_memory_mb: int = 512
    init_gb_seconds: float = 0.0
    sqs_requests: float = 0.0
    rru: float = 0.0
    wru: float = 0.0
    stored_gb_months: float = 0.0
    backed_up_gb_months: float = 0.0
    """The same bytes under point-in-time recovery (0 with PointInTimeRecovery off)."""
    log_bytes: float = 0.0
    log_retention_months: float = 1.0
    egress_bytes: float = 0.0
    traces: float = 0.0

    def scaled(self, weight: float) -> Usage:
        return replace(self, **{name: getattr(self, name) * weight for name in self._additive()})

    def plus(self, other: Usage) -> Usage:
        return replace(self, **{name: getattr(self, name) + getattr(other, name) for name in self._additive()})

    def _additive(self) -> list[str]:
        """Every field but the settings (memory sizes, log retention), which a mix keeps as they are."""
        return [f.name for f in fields(self) if f.name not in MEMORY_AND_RETENTION]


def cost_per_million(usage: Usage, prices: Prices = Prices(), architecture: str = "arm64") -> dict[str, float]:
    """Dollars per million of `usage`, by component."""
    gb_second = lambda_price(architecture, prices)
    return {
        "API Gateway HTTP API requests": usage.api_requests * prices.api_request * MILLION,
        "API Gateway data out (answers)": usage.api_bytes_out / GB * prices.data_out_gb * MILLION,
        "Lambda ingest: requests": usage.ingest_invocations * prices.lambda_request * MILLION,
        "Lambda ingest: duration": usage.ingest_billed_ms / 1000 * usage.ingest_memory_mb / 1024 * gb_second * MILLION,
        "Lambda process: requests": usage.process_invocations * prices.lambda_request * MILLION,
        "Lambda process: duration": usage.process_billed_ms / 1000 * usage.process_memory_mb / 1024 * gb_second * MILLION,
        "Lambda outbound: requests": usage.outbound_invocations * prices.lambda_request * MILLION,
        "Lambda outbound: duration": usage.outbound_billed_ms / 1000 * usage.outbound_memory_mb / 1024 * gb_second * MILLION,
        "Lambda INIT (cold starts)": usage.init_gb_seconds * gb_second * MILLION,
        "SQS requests": usage.sqs_requests * prices.sqs_request * MILLION,
        "DynamoDB reads (RRU)": usage.rru * prices.dynamodb_rru * MILLION,
        "DynamoDB writes (WRU)": usage.wru * prices.dynamodb_wru * MILLION,
        "DynamoDB storage over the records' life": usage.stored_gb_months * prices.dynamodb_storage_gb_month * MILLION,
        "DynamoDB PITR (continuous backups) over the same": usage.backed_up_gb_months * prices.dynamodb_pitr_gb_month * MILLION,
        "CloudWatch Logs ingestion": usage.log_bytes / GB * prices.logs_ingest_gb * MILLION,
        "CloudWatch Logs storage": usage.log_bytes / GB * usage.log_retention_months * prices.logs_storage_gb_month * MILLION,
        "data out to Zendesk and Salesforce": usage.egress_bytes / GB * prices.data_out_gb * MILLION,
        "X-Ray": usage.traces * prices.xray_trace * MILLION,
    }


# --- from measurements to usage ---------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """Everything this model takes from the benchmarks' code."""

    scenarios: dict[str, Any]  # scenario -> process_calls_bench.Reading (socialdesk), for the chosen rules
    ingest_cpu_ms: float
    process_cpu_ms: dict[int, float]  # messages per batch -> CPU ms per message at a full core
    platform_log_bytes: dict[str, int]  # Lambda's START/END/REPORT lines per invocation, the API's access log line
    process_peak_mb: float = 0.0  # bench/process_memory_bench.py's estimate of the process function's peak RSS
    outbound: dict[str, Any] = field(default_factory=dict)  # scenario -> the outbound function's Reading for its jobs
    outbound_cpu_ms: float = 0.0  # the outbound function's CPU per job at a full core (bench/process_memory_bench.py)


@dataclass(frozen=True)
class Options:
    """The settings and assumptions a cost is computed under."""

    latencies: Latencies = Latencies()
    process_memory_mb: int | None = None
    """None: the template's MemorySize."""
    batch: int = 1
    """Messages per process invocation: 1 when traffic is quiet, up to the event source's BatchSize when busy."""
    workers: int = MAX_WORKERS
    """The batch driver's threads (process/sqs_batch.py)."""
    groups: int = 1
    """ASSUMED independent groups in a batch: the driver runs all of one WhatsApp number's events in order, so a brand
    whose traffic is one WhatsApp number (this mix) gets 1; several numbers, pages and accounts get more."""
    pitr: bool = True
    """The template's PointInTimeRecovery parameter (main() reads its default)."""
    cold_share: float = COLD_START_SHARE
    record_days: int | None = None
    """None: the store's retention of conversations, messages and customers (400 days); else that many days."""


def waits_ms(reading: Any, latencies: Latencies) -> float:
    """What one delivery (or job) waits for: its Zendesk, Salesforce, platform and DynamoDB calls times the assumed latencies.

    Salesforce calls made beside Zendesk's (process/sides.py: the Task, once the words are on a ticket) wait at the same
    time as the Zendesk calls made after that one: they add only what outlasts those (overlapping nothing else)."""
    zendesk = reading.zendesk * latencies.zendesk_ms
    alongside = reading.salesforce_alongside * latencies.salesforce_ms
    overlapped = reading.zendesk_after_words * latencies.zendesk_ms if reading.salesforce_alongside else 0.0
    helpdesk: float = zendesk + (reading.salesforce - reading.salesforce_alongside) * latencies.salesforce_ms + max(0.0, alongside - overlapped)
    platform: float = reading.platform * latencies.platform_ms
    store: float = sum(reading.dynamodb.values()) * latencies.dynamodb_ms
    return helpdesk + platform + store


def batch_ms_per_message(cpu_ms: float, io_ms: float, memory_mb: int, batch: int, *, workers: int, groups: int) -> float:
    """One message's share of a batch of `batch` messages in `groups` independent groups (the batch driver runs a group's
    messages in order: one conversation's, or all of one WhatsApp number's) on `workers` threads. The waits of different
    groups overlap, so the critical path is ceil(batch / min(workers, groups)) messages one after another (groups of
    even size), but the CPU does not (one interpreter, one share of a vCPU): the batch lasts at least all its CPU."""
    cpu = run_ms(cpu_ms, 0.0, memory_mb)
    rounds = math.ceil(batch / max(1, min(workers, groups, batch)))
    return max(batch * cpu, rounds * (cpu + io_ms)) / batch


def process_io_ms(latencies: Latencies, measured: Measured | None = None) -> float:
    """The waits of one process delivery, averaged over the mix (calls counted by process_calls_bench)."""
    scenarios = measured.scenarios if measured else measure_scenarios(context_fields=False)[0]
    return sum(weight * waits_ms(scenarios[name], latencies) for name, weight in MIX.items()) / sum(MIX.values())


def usage_of(reading: Any, measured: Measured, options: Options, *, ingest: FunctionConfig, process: FunctionConfig) -> Usage:
    """One delivery of one scenario."""
    latencies, batch = options.latencies, options.batch
    ingest_ms = run_ms(measured.ingest_cpu_ms, reading.sqs_requests * latencies.sqs_ms, ingest.memory_mb)
    cpu = measured.process_cpu_ms[1 if batch == 1 else 10]
    process_ms = batch_ms_per_message(cpu, waits_ms(reading, latencies), process.memory_mb, batch, workers=options.workers, groups=options.groups)
    logs = measured.platform_log_bytes
    # The functions' lines (+26 B each), Lambda's platform lines for ingest's invocation and the batch's share of process's,
    # and the API's access line.
    log_bytes = reading.log_bytes + reading.log_events * 26 + logs["ingest_invocation"] + logs["process_invocation"] / batch + logs["api_access"]
    init = options.cold_share * (
        INIT_SECONDS["IngestFunction"] * ingest.memory_mb / 1024 + INIT_SECONDS["ProcessFunction"] * process.memory_mb / 1024 / batch
    )
    record_days = RECORD_DAYS if options.record_days is None else options.record_days
    # Records kept RECORD_DAYS after their last write, or IN_USE_RETENTION (a month more, store/dynamodb.py) for those kept
    # in use, are what `record_days` shortens; the others keep their own retention.
    byte_days = sum((days * record_days / RECORD_DAYS if days >= RECORD_DAYS else days) * size for days, size in reading.stored_bytes.items())
    stored = byte_days / DAYS_PER_MONTH / GB
    return Usage(
        api_requests=1,
        api_bytes_out=reading.api_response_bytes,
        ingest_invocations=1,
        ingest_billed_ms=math.ceil(ingest_ms),
        ingest_memory_mb=ingest.memory_mb,
        process_invocations=1 / batch,
        process_billed_ms=billed_ms_per_message(process_ms, batch),
        process_memory_mb=process.memory_mb,
        init_gb_seconds=init,
        # The functions' own requests (billed by 64 KB chunk), then the event source mapping's ReceiveMessage and
        # DeleteMessageBatch, one each per batch (a batch of 10 small messages is far under 64 KB).
        sqs_requests=reading.sqs_billed + 2 / batch,
        rru=reading.units["RRU"],
        wru=reading.units["WRU"],
        stored_gb_months=stored,
        backed_up_gb_months=stored if options.pitr else 0.0,
        log_bytes=log_bytes,
        log_retention_months=log_retention_days() / DAYS_PER_MONTH,
        egress_bytes=reading.sent_bytes,
        traces=1.0 if ingest.tracing else 0.0,
    )


def outbound_usage_of(reading: Any, measured: Measured, options: Options, *, outbound: FunctionConfig) -> Usage:
    """The outbound function's work for one delivery's jobs (`reading.platform` sends), one job per invocation: the
    jobs are a fraction of the messages (a new conversation's acknowledgement), so their batches are ASSUMED to hold one."""
    jobs = reading.platform
    if not jobs:
        return Usage(outbound_memory_mb=outbound.memory_mb)
    per_job_ms = run_ms(measured.outbound_cpu_ms, waits_ms(reading, options.latencies) / jobs, outbound.memory_mb)
    logs = measured.platform_log_bytes
    byte_days = sum(days * size for days, size in reading.stored_bytes.items())
    stored = byte_days / DAYS_PER_MONTH / GB
    return Usage(
        outbound_invocations=jobs,
        outbound_billed_ms=jobs * math.ceil(per_job_ms),
        outbound_memory_mb=outbound.memory_mb,
        init_gb_seconds=options.cold_share * jobs * INIT_SECONDS["OutboundFunction"] * outbound.memory_mb / 1024,
        sqs_requests=reading.sqs_billed + 2 * jobs,  # its own requests, and the event source's receive and delete per job
        rru=reading.units["RRU"],
        wru=reading.units["WRU"],
        stored_gb_months=stored,
        backed_up_gb_months=stored if options.pitr else 0.0,
        log_bytes=reading.log_bytes + reading.log_events * 26 + jobs * logs["process_invocation"],
        log_retention_months=log_retention_days() / DAYS_PER_MONTH,
        egress_bytes=reading.sent_bytes,
    )


def mixed_usage(measured: Measured, options: Options) -> Usage:
    """Per inbound message: the scenarios' usage weighted by MIX (1.05 deliveries per message with the redeliveries),
    the outbound function's for the jobs they queued included."""
    ingest, process, outbound = (template_function(name) for name in ("IngestFunction", "ProcessFunction", "OutboundFunction"))
    if options.process_memory_mb:
        process = replace(process, memory_mb=options.process_memory_mb)
    total = Usage(
        ingest_memory_mb=ingest.memory_mb,
        process_memory_mb=process.memory_mb,
        outbound_memory_mb=outbound.memory_mb,
        log_retention_months=log_retention_days() / DAYS_PER_MONTH,
    )
    for name, weight in MIX.items():
        total = total.plus(usage_of(measured.scenarios[name], measured, options, ingest=ingest, process=process).scaled(weight))
        if name in measured.outbound:
            total = total.plus(outbound_usage_of(measured.outbound[name], measured, options, outbound=outbound).scaled(weight))
    return total


def costs(measured: Measured, options: Options) -> dict[str, float]:
    return cost_per_million(mixed_usage(measured, options), architecture=template_function("ProcessFunction").architecture)


# --- measuring ------------------------------------------------------------------------------------------


def measure_scenarios(*, context_fields: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per scenario, the process side's reading and the outbound function's (bench/process_calls_bench.py)."""
    from bench.process_calls_bench import measure

    results = measure(context_fields=context_fields)
    return {result.scenario: result.socialdesk for result in results}, {result.scenario: result.outbound for result in results}


def platform_log_bytes() -> dict[str, int]:
    """Sizes of the lines CloudWatch Logs gets besides the functions' own: Lambda's per invocation, the API's per request."""
    request_id = "8f5a3c1e-9c1b-4a7e-b1d2-3c4d5e6f7a8b"
    lines = {
        "ingest_invocation": [
            f"START RequestId: {request_id} Version: $LATEST\n",
            f"END RequestId: {request_id}\n",
            f"REPORT RequestId: {request_id}\tDuration: 14.21 ms\tBilled Duration: 15 ms\tMemory Size: 512 MB\tMax Memory Used: 98 MB\t\n",
        ],
        "process_invocation": [
            f"START RequestId: {request_id} Version: $LATEST\n",
            f"END RequestId: {request_id}\n",
            f"REPORT RequestId: {request_id}\tDuration: 812.45 ms\tBilled Duration: 813 ms\tMemory Size: 1024 MB\tMax Memory Used: 187 MB\t\n",
        ],
    }
    api = load_template(TEMPLATE)["Resources"]["WebhookApi"]["Properties"]["AccessLogSettings"]["Format"]
    values = {
        "$context.requestId": "JPNjHgBSoAMEbTA=",
        "$context.identity.sourceIp": "173.252.127.1",
        "$context.httpMethod": "POST",
        "$context.path": "/webhooks/meta",
        "$context.status": "200",
        "$context.responseLatency": "23",
        "$context.integrationErrorMessage": "-",
        "$context.identity.userAgent": "facebookexternalua",
    }
    for name in sorted(values, key=len, reverse=True):
        api = api.replace(name, values[name])
    assert "$context" not in api, api
    sizes = {name: sum(len(line.encode()) + 26 for line in group) for name, group in lines.items()}
    # PutLogEvents counts each event's UTF-8 bytes plus 26 (CloudWatch Logs API reference); counted here as ingested.
    sizes["api_access"] = len(api.encode()) + 26
    return sizes


def measure_all(*, context_fields: bool, quick: bool = False) -> Measured:
    from bench.ingest_bench import as_deployed_micros
    from bench.process_memory_bench import measure as sizing

    size = sizing(6, 2) if quick else sizing(30, 3)
    scenarios, outbound = measure_scenarios(context_fields=context_fields)
    return Measured(
        scenarios=scenarios,
        ingest_cpu_ms=as_deployed_micros(300 if quick else 2000) / 1000,
        process_cpu_ms={10: size.batch_of_10.cpu_ms_per_message, 1: size.batch_of_1.cpu_ms_per_message},
        platform_log_bytes=platform_log_bytes(),
        process_peak_mb=size.peak_estimate_mb,
        outbound=outbound,
        outbound_cpu_ms=size.outbound.cpu_ms_per_message,
    )


def cheapest_memory(measured: Measured, options: Options) -> int:
    """Lambda Power Tuning's idea on the whole bill: the size whose total is lowest, among those that hold the measured
    peak with headroom (bench/process_memory_bench.py)."""
    from bench.process_memory_bench import HEADROOM, MEMORY_SIZES

    fitting = [size for size in MEMORY_SIZES if size >= measured.process_peak_mb * HEADROOM]
    return min(fitting, key=lambda size: (round(sum(costs(measured, replace(options, process_memory_mb=size)).values()), 2), -size))


# --- printing ---------------------------------------------------------------------------------------------


def print_costs(columns: dict[str, dict[str, float]]) -> None:
    names = list(next(iter(columns.values())))
    print("| component | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for name in names:
        print(f"| {name} | " + " | ".join(f"{costs[name]:.2f}" for costs in columns.values()) + " |")
    print("| **total** | " + " | ".join(f"**{sum(costs.values()):.2f}**" for costs in columns.values()) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--process-memory", type=int, help="MemorySize for the process function (default: the template's)")
    parser.add_argument("--batch", type=int, default=1, help="messages per process invocation (1: quiet traffic; at most the template's BatchSize)")
    parser.add_argument("--zendesk-ms", type=float, default=Latencies.zendesk_ms)
    parser.add_argument("--salesforce-ms", type=float, default=Latencies.salesforce_ms)
    parser.add_argument("--dynamodb-ms", type=float, default=Latencies.dynamodb_ms)
    parser.add_argument("--sqs-ms", type=float, default=Latencies.sqs_ms)
    parser.add_argument("--platform-ms", type=float, default=Latencies.platform_ms, help="a send to the platform (the outbound function)")
    parser.add_argument("--workers", type=int, default=MAX_WORKERS, help="the batch driver's threads (default: process/sqs_batch.py's)")
    parser.add_argument("--groups", type=int, default=1, help="independent groups per batch (1: one WhatsApp number's traffic)")
    parser.add_argument("--cold-start-share", type=float, default=COLD_START_SHARE)
    parser.add_argument("--quick", action="store_true", help="fewer timed requests and messages")
    args = parser.parse_args()
    latencies = Latencies(args.zendesk_ms, args.salesforce_ms, args.dynamodb_ms, args.sqs_ms, args.platform_ms)
    batch = min(args.batch, template_batch_size())
    options = Options(
        latencies, args.process_memory, batch, workers=args.workers, groups=args.groups, pitr=template_pitr(), cold_share=args.cold_start_share
    )
    ingest, process = template_function("IngestFunction"), template_function("ProcessFunction")
    shipped = measure_all(context_fields=False, quick=args.quick)
    fields_scenarios, fields_outbound = measure_scenarios(context_fields=True)
    with_fields = replace(shipped, scenarios=fields_scenarios, outbound=fields_outbound)
    print(f"Command: {rerun('bench.cost_model')}\n")
    print_inputs(shipped, options, ingest, process)

    memory = options.process_memory_mb or process.memory_mb
    columns = {
        f"shipped rules, process {memory} MB": costs(shipped, options),
        f"the same, PointInTimeRecovery {'off' if options.pitr else 'on'}": costs(shipped, replace(options, pitr=not options.pitr)),
        f"context fields on, process {memory} MB": costs(with_fields, options),
    }
    print(f"\n$ per million inbound messages ({sum(MIX.values()):.2f} million deliveries):\n")
    print_costs(columns)
    total = sum(next(iter(columns.values())).values())
    verdict = "within" if total <= GOAL_PER_MILLION else "OVER"
    print(f"\nShipped rules: ${total:.2f} per million inbound messages, {verdict} the ${GOAL_PER_MILLION:.0f} goal.")

    cheapest = cheapest_memory(shipped, options)
    at_cheapest = replace(options, process_memory_mb=cheapest)
    batched = replace(at_cheapest, batch=template_batch_size())
    levers = {
        f"as above ({memory} MB, {options.batch} per batch)": costs(shipped, options),
        f"process {cheapest} MB": costs(shipped, at_cheapest),
        f"{cheapest} MB, batches of {template_batch_size()} of one WhatsApp number": costs(shipped, batched),
        f"{cheapest} MB, batches of {template_batch_size()} in {template_batch_size()} groups, {options.workers} threads": costs(
            shipped, replace(batched, groups=template_batch_size())
        ),
        f"{cheapest} MB, batches of {template_batch_size()}, records kept 90 days": costs(shipped, replace(batched, record_days=90)),
        f"{template_batch_size()} groups, PITR off, records kept 90 days": costs(
            shipped, replace(batched, groups=template_batch_size(), pitr=False, record_days=90)
        ),
        f"{cheapest} MB, waits x 2": costs(shipped, replace(at_cheapest, latencies=Latencies(*(2 * value for value in astuple(latencies))))),
    }
    print(f"\nLevers (shipped rules), $ per million inbound messages; {cheapest} MB is the cheapest size that holds the measured peak x 1.5:\n")
    print_costs(levers)
    print_fullness(shipped, options)
    print(
        "\nNot per message (fixed, or per container): 2 secrets x $0.40 a month; GetSecretValue 24 calls per container-hour per "
        "function at 300 s caching, 240 under a bad-signature flood (bench/ingest_bench.py), $0.05 per 10,000; the event source "
        "mapping's empty long polls while the queue is idle; CloudWatch alarms and the EMF custom metrics (billed per metric "
        "per month); S3 and KMS for quarantined items only."
    )


def print_fullness(measured: Measured, options: Options) -> None:
    """The total by batch fullness, independent groups and memory: traffic's doing (and the brand's accounts), not the code's."""
    sizes = sorted({1, 2, 5, template_batch_size()})
    settings = [(256, 1, options.workers), (256, template_batch_size(), 4), (256, template_batch_size(), options.workers)]
    settings += [(512, template_batch_size(), options.workers)]
    print("\nTotal by messages per process invocation, shipped rules (groups: independent groups in a batch; threads):\n")
    print("| messages per batch | " + " | ".join(f"{size} MB, {groups} group(s), {workers} threads" for size, groups, workers in settings) + " |")
    print("|---|" + "---|" * len(settings))
    for batch in sizes:
        totals = [
            sum(costs(measured, replace(options, batch=batch, process_memory_mb=size, groups=groups, workers=workers)).values())
            for size, groups, workers in settings
        ]
        print(f"| {batch} | " + " | ".join(f"{total:.2f}" for total in totals) + " |")


def print_inputs(measured: Measured, options: Options, ingest: FunctionConfig, process: FunctionConfig) -> None:
    print(f"Prices: us-east-1, on-demand, checked {PRICES_CHECKED}\n\n| price | source |\n|---|---|")
    for text, source in SOURCES.values():
        print(f"| {text} | {source} |")
    print("\nFrom infra/template.yaml and the measurements:\n\n| input | value |\n|---|---|")
    print(f"| ingest function | {ingest.memory_mb} MB, {ingest.architecture}, tracing {'on' if ingest.tracing else 'off'} |")
    print(f"| process function | {process.memory_mb} MB, {process.architecture}, event source BatchSize {template_batch_size()} |")
    print(f"| ingest CPU per request as deployed, at a full core (bench/ingest_bench.py) | {measured.ingest_cpu_ms:.2f} ms |")
    for size, cpu in sorted(measured.process_cpu_ms.items()):
        print(f"| process CPU per message, batches of {size}, at a full core (bench/process_memory_bench.py) | {cpu:.1f} ms |")
    print(f"| process function's peak resident memory, estimated (bench/process_memory_bench.py) | {measured.process_peak_mb:.0f} MB |")
    outbound = template_function("OutboundFunction")
    print(f"| outbound function | {outbound.memory_mb} MB, {outbound.architecture}; one job per invocation (ASSUMED) |")
    print(f"| outbound CPU per job, at a full core (bench/process_memory_bench.py) | {measured.outbound_cpu_ms:.1f} ms |")
    logs = measured.platform_log_bytes
    platform_lines = f"{logs['ingest_invocation']} / {logs['process_invocation']} B"
    print(f"| Lambda START/END/REPORT lines per invocation, +26 B each: ingest / process | {platform_lines} |")
    print(f"| API access log line per request (+26 B) | {logs['api_access']} B |")
    print(f"| log retention (LogRetentionDays) / conversation, message and customer records (store) | {log_retention_days()} / {RECORD_DAYS} days |")
    latencies = options.latencies
    mix = ", ".join(f"{name} {weight:.0%}" for name, weight in MIX.items())
    print(f"\nASSUMED: mix per inbound message: {mix}.")
    print(
        f"ASSUMED: waits per call: Zendesk {latencies.zendesk_ms:.0f} ms, Salesforce {latencies.salesforce_ms:.0f} ms, "
        f"DynamoDB {latencies.dynamodb_ms:.0f} ms, SQS {latencies.sqs_ms:.0f} ms, a platform send {latencies.platform_ms:.0f} ms; "
        f"{options.batch} message(s) per process invocation in {options.groups} independent group(s) (WhatsApp numbers, other "
        f"platforms' conversations) on {options.workers} threads; "
        f"{options.cold_share:.0%} of invocations cold (INIT ingest {INIT_SECONDS['IngestFunction'] * 1000:.0f} ms, "
        f"process {INIT_SECONDS['ProcessFunction'] * 1000:.0f} ms)."
    )
    print("\nPer delivery, by scenario (shipped rules):\n")
    print(
        "| scenario | Zendesk + Salesforce | DynamoDB calls | RRU / WRU | process duration | SQS requests (functions + event source) "
        "| log bytes | bytes out | table GB-months x 1e6 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in MIX:
        reading = measured.scenarios[name]
        one = usage_of(reading, measured, options, ingest=ingest, process=process)
        calls = f"{reading.zendesk} + {reading.salesforce} | {sum(reading.dynamodb.values())} | {reading.units['RRU']} / {reading.units['WRU']}"
        print(
            f"| {name} | {calls} | {one.process_billed_ms:.0f} ms | {one.sqs_requests:.1f} | {one.log_bytes:.0f} | {one.egress_bytes:.0f} "
            f"| {one.stored_gb_months * MILLION:.2f} |"
        )
    print("\nThe outbound function's work for the jobs a delivery queued (shipped rules):\n")
    print(
        "| scenario | jobs | platform + Zendesk calls | DynamoDB calls | RRU / WRU | outbound duration | SQS requests | log bytes "
        "| table GB-months x 1e6 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in MIX:
        reading = measured.outbound.get(name)
        if reading is None or not reading.platform:
            continue
        one = outbound_usage_of(reading, measured, options, outbound=outbound)
        calls = f"{reading.platform} + {reading.zendesk} | {sum(reading.dynamodb.values())} | {reading.units['RRU']} / {reading.units['WRU']}"
        print(
            f"| {name} | {reading.platform} | {calls} | {one.outbound_billed_ms:.0f} ms | {one.sqs_requests:.1f} | {one.log_bytes:.0f} "
            f"| {one.stored_gb_months * MILLION:.2f} |"
        )


if __name__ == "__main__":
    main()
