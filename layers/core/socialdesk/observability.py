"""The one place Powertools' Logger and Metrics are created; everything else imports these."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import Metrics, MetricUnit
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

from socialdesk.privacy import log_trace, log_value

if TYPE_CHECKING:
    from types import TracebackType

    from aws_lambda_powertools.logging.types import LogRecord
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.types import CloudWatchEMFOutput


# Keys CloudWatch already holds for every line, or that say nothing; Logs ingestion is billed per byte (docs/benchmarks.md,
# "Log bytes per delivery"). Each function has its own log group (its name and ARN; `service` is socialdesk in all of
# them), Lambda's REPORT line gives the memory size, and `xray_trace_id` names a trace never recorded: the template turns
# tracing off, yet the runtime hands every invocation a trace header (aws-lambda-python-runtime-interface-client's
# bootstrap sets _X_AMZN_TRACE_ID from Lambda-Runtime-Trace-Id). The request id stays on every line: it finds the
# invocation's REPORT line.
REDUNDANT_KEYS = ("function_arn", "function_name", "function_memory_size", "service", "xray_trace_id")
# Dropped from routine lines (INFO, DEBUG) only: CloudWatch Logs stores each event's own timestamp (Logs Insights'
# @timestamp), and the code's location matters only when something went wrong. WARNING and ERROR lines keep both.
ROUTINE_ONLY_KEYS = ("timestamp", "location")
ROUTINE_LEVELS = frozenset({"DEBUG", "INFO"})


class _PrivateFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON lines, every value through `log_value`, exceptions through `log_trace`, without what CloudWatch already says.

    Values are scrubbed here, for every function's logger, because customer keys hide inside other names (job ids,
    anchors): a call site that forgets `log_key` must not leak a phone number.

    An exception's message is no text of ours: an adapter's error may name a WhatsApp chat key (a phone number), a
    library's an e-mail address. The structured `stack_trace` field (which prints the exception's value as it is) is
    off; the `exception` field keeps the frames and the scrubbed message.
    """

    def serialize(self, log: LogRecord) -> str:
        dropped = REDUNDANT_KEYS + ROUTINE_ONLY_KEYS if log.get("level") in ROUTINE_LEVELS else REDUNDANT_KEYS
        for key in dropped:
            log.pop(key, None)  # type: ignore[misc]  # a TypedDict in Powertools' types, a plain dict at run time
        if log.get("cold_start") is False:  # only a cold start is news (its REPORT line shows an Init Duration too)
            log.pop("cold_start")
        for key, value in log.items():
            log[key] = log_value(value)  # type: ignore[literal-required]  # any key: Powertools' lines carry extra keys
        return super().serialize(log)

    def formatException(self, ei: tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]) -> str:  # noqa: N802
        return log_trace(super().formatException(ei))


class _CompactEmf(AmazonCloudWatchEMFProvider):
    """Powertools' EMF metrics line, a value counted once written as a plain number (`"TicketCreated":1`, not `[1.0]`).

    The EMF specification takes a number or an array of numbers for a metric's value
    (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html);
    4 bytes a metric on every invocation's metrics line, and 2 a value in a batch's arrays.
    """

    def serialize_metric_set(
        self, metrics: dict[str, Any] | None = None, dimensions: dict[str, Any] | None = None, metadata: dict[str, Any] | None = None
    ) -> CloudWatchEMFOutput:
        document = super().serialize_metric_set(metrics, dimensions, metadata)
        values: dict[str, Any] = document  # type: ignore[assignment]  # the TypedDict names `_aws` only; metrics are root members
        for definition in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            numbers = [int(value) if float(value).is_integer() else value for value in values[definition["Name"]]]
            values[definition["Name"]] = numbers[0] if len(numbers) == 1 else numbers
        return document


logger = Logger(logger_formatter=_PrivateFormatter(serialize_stacktrace=False))
metrics = Metrics(provider=_CompactEmf(namespace="Socialdesk"))
# A platform token refused or missing (Graph 190, X 401), by a send or an Instagram mention's lookup: the metric
# ConnectionHealthAlarm watches (infra/template.yaml).
TOKEN_REJECTED_METRIC = "PlatformTokenRejected"

# At DEBUG these print what socialdesk must never log: botocore the request and response bodies (secret values,
# DynamoDB items), urllib3 and requests every URL, zenpy, simple-salesforce and zeep tokens and message text.
THIRD_PARTY_LOGGERS = ("boto3", "botocore", "s3transfer", "urllib3", "requests", "zenpy", "simple_salesforce", "zeep", "aws_lambda_powertools")


def quiet_third_party_loggers() -> None:
    """Keep the libraries' loggers at WARNING whatever LogLevel (POWERTOOLS_LOG_LEVEL) sets for socialdesk's own.

    Called by the composition root before any client is built, and by the local runner; never at import.
    """
    for name in THIRD_PARTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


__all__ = ["THIRD_PARTY_LOGGERS", "TOKEN_REJECTED_METRIC", "MetricUnit", "logger", "metrics", "quiet_third_party_loggers"]
