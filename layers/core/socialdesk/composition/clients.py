"""The AWS clients every function shares, built on first use, and the registry `reset()` clears."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, TypeVar

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

# Ingest must answer X within 3 s even cold: short timeouts and a single retry. The same suits
# the other functions: a slow AWS call is better retried through SQS than waited for.
_AWS_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "max_attempts": 2})

BuiltT = TypeVar("BuiltT")
_built: list[Callable[[], None]] = []


def once(build: Callable[[], BuiltT]) -> Callable[[], BuiltT]:
    """`functools.cache` for a builder, remembered so that `reset()` forgets what it built."""
    cached = cache(build)
    _built.append(cached.cache_clear)
    return cached


def forget(clear: Callable[[], None]) -> None:
    """Register another cache for `reset()` to clear."""
    _built.append(clear)


def reset() -> None:
    """Forget every cached client and use case (tests, the local runner)."""
    for clear in _built:
        clear()


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
def dynamodb() -> DynamoDBClient:
    return boto3.client("dynamodb", config=_AWS_CONFIG)
