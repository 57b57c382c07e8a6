"""Shared stacks: a moto-backed account with ingest's queues and secret and the real handler wired to it; the whole pipeline (`flow`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest

from bench.process_calls_bench import Result, measure
from functions.ingest.app import lambda_handler
from socialdesk import composition
from socialdesk.devtools.local_aws import AWS_ENVIRONMENT, TEMPLATE, LocalAws, local_aws
from socialdesk.local.gateway import free_port
from socialdesk.local.runner import LocalRunner, RunnerOptions
from socialdesk.observability import THIRD_PARTY_LOGGERS, logger
from tests.support.process_stack import RULES, Flow, private_key_pem, process_stack
from tests.support.webhooks import FakeLambdaContext

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


class Stack(LocalAws):
    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = lambda_handler(event, FakeLambdaContext())
        return response


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    for name, value in AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with local_aws() as aws:
        # Read the secret on every request so rotations show at once.
        for name, value in aws.environment("IngestFunction", SOCIALDESK_SECRET_CACHE_SECONDS="0").items():
            monkeypatch.setenv(name, value)
        composition.reset()
        yield Stack(**vars(aws))
        composition.reset()


@pytest.fixture(scope="session")
def shipped() -> dict[str, Result]:
    """bench/process_calls_bench.py's four deliveries with the shipped rules, by scenario: measured once for the tests that
    pin what a message costs (DynamoDB capacity, log bytes)."""
    return {result.scenario: result for result in measure(context_fields=False)}


@pytest.fixture(scope="session")
def private_key() -> str:
    """One RSA key for every test that logs in to the Salesforce fake (generating one takes a while)."""
    return private_key_pem()


@pytest.fixture
def flow(tmp_path: Path, private_key: str) -> Iterator[Flow]:
    """Webhook to ingest to SQS to process to the Zendesk and Salesforce HTTP fakes, with the default rules."""
    rules = tmp_path / "socialdesk.toml"
    rules.write_text(RULES)
    with process_stack(rules, private_key) as stack:
        yield stack


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalRunner]:
    """`socialdesk local` in this process on a free port, from infra/template.yaml, with its own state directory."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with LocalRunner(RunnerOptions(template=TEMPLATE, port=free_port(), state_dir=tmp_path / "state")) as running:
        yield running


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The root logger at DEBUG, capturing every record; the libraries' loggers as a fresh process has them (unset)."""
    levels = {name: logging.getLogger(name).level for name in THIRD_PARTY_LOGGERS}
    for name in THIRD_PARTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    caplog.set_level(logging.DEBUG)
    logger.setLevel("DEBUG")  # LogLevel=DEBUG
    try:
        yield caplog
    finally:
        logger.setLevel("INFO")
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
