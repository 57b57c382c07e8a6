"""The AWS clients every function shares, built on first use, and the registry `reset()` clears.

In Lambda, each handler module also builds what every request needs while it is imported, during INIT
(`build_at_init`): INIT runs before the first request reaches the handler, and on a full CPU, where the first
request would otherwise build them at the fraction of a CPU that the function's memory buys. Anywhere else (tests,
the local runner, benchmarks) importing a handler builds nothing.
"""

from __future__ import annotations

import os
import threading
from functools import cache, update_wrapper
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import boto3
from botocore.config import Config

from socialdesk.observability import logger, quiet_third_party_loggers

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_comprehend import ComprehendClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

# Ingest must answer X within 3 s even cold: short timeouts and a single retry. The same suits
# the other functions: a slow AWS call is better retried through SQS than waited for.
_AWS_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "max_attempts": 2})

BuiltT = TypeVar("BuiltT")
_built: list[Callable[[], None]] = []


class _Once(Generic[BuiltT]):
    """`functools.cache` for a builder, under a lock: a batch's records run in threads, and the first two to need a lazy
    client (SQS) would otherwise both build one, through boto3's default session, which is not safe to share while it
    creates clients."""

    def __init__(self, build: Callable[[], BuiltT]) -> None:
        self._cached = cache(build)
        self._lock = threading.Lock()
        update_wrapper(self, build)

    def __call__(self) -> BuiltT:
        with self._lock:
            return self._cached()

    def cache_info(self) -> Any:
        return self._cached.cache_info()

    def cache_clear(self) -> None:
        self._cached.cache_clear()


def once(build: Callable[[], BuiltT]) -> _Once[BuiltT]:
    """Build on first use, then reuse; remembered so that `reset()` forgets what it built."""
    built = _Once(build)
    _built.append(built.cache_clear)
    return built


def forget(clear: Callable[[], None]) -> None:
    """Register another cache for `reset()` to clear."""
    _built.append(clear)


def reset() -> None:
    """Forget every cached client and use case (tests, the local runner)."""
    for clear in _built:
        clear()


def in_lambda() -> bool:
    """True in a Lambda execution environment, which sets AWS_LAMBDA_FUNCTION_NAME for every runtime (Lambda Developer
    Guide, "Defined runtime environment variables"); the tests, the local runner and the benchmarks leave it unset."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def build_at_init(*builders: Callable[[], object]) -> None:
    """Run each builder now (Lambda INIT). One that fails is logged and left to the first request, which builds it
    again and fails as it would have without this: a configuration error surfaces where it always did."""
    quiet_third_party_loggers()  # before any client, whichever builder fails first
    for build in builders:
        try:
            build()
        except Exception:  # logged here, raised again by the request that needs it
            logger.warning("could not build %s during INIT; the first request builds it", getattr(build, "__name__", build), exc_info=True)


@once
def sqs() -> SQSClient:
    return boto3.client("sqs", config=_AWS_CONFIG)


@once
def secretsmanager() -> SecretsManagerClient:
    return boto3.client("secretsmanager", config=_AWS_CONFIG)


@once
def s3() -> S3Client:
    """Built on the first oversize item only (S3BlobStore asks for it at put time), never during ingest's INIT."""
    return boto3.client("s3", config=_AWS_CONFIG)


@once
def comprehend() -> ComprehendClient:
    """Built on the first message classified in comprehend mode only."""
    return boto3.client("comprehend", config=_AWS_CONFIG)


@once
def dynamodb() -> DynamoDBClient:
    return boto3.client("dynamodb", config=_AWS_CONFIG)


@once
def sns() -> SNSClient:
    """The SLA check's alerts (aws/sns.py); built on the first alert, not at INIT: most runs send none."""
    return boto3.client("sns", config=_AWS_CONFIG)
