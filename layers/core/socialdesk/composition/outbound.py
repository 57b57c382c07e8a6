"""Builds the outbound use case from the settings, PlatformSecret's tokens and the CRM secret's Zendesk credentials.

The outbound handler imports this module; `outbound_batch()` rebuilds the senders and the helpdesk whenever either
secret's content changes (a renewed token is used within WebhookSecretCacheSeconds, without a deploy).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from socialdesk.aws.secrets import SecretsManagerJsonSecret
from socialdesk.aws.sqs import SqsRedelivery
from socialdesk.composition.clients import build_at_init, dynamodb, forget, once, secretsmanager, sqs
from socialdesk.composition.clock import response_clock
from socialdesk.composition.desk import build_desk
from socialdesk.observability import logger, quiet_third_party_loggers
from socialdesk.outbound.reply_policy import ReplyPolicy
from socialdesk.outbound.send_job import JOBS, SendJob
from socialdesk.platforms.sandbox_send import SandboxPlatforms
from socialdesk.platforms.send_http import platform_session
from socialdesk.platforms.senders import PlatformSenders, PlatformTokens
from socialdesk.ports.secrets import SecretsUnavailableError
from socialdesk.process.sqs_batch import Blocked, SqsBatch
from socialdesk.rules import RulesError, load_rules
from socialdesk.sandbox_state import PLATFORMS_FILE
from socialdesk.settings import OutboundConfig, load_config
from socialdesk.store.clock import DynamoDbClockStore

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

    from socialdesk.desk.port import Desk
    from socialdesk.rules import RulesConfig


@once
def _settings() -> OutboundConfig:
    quiet_third_party_loggers()
    return load_config(OutboundConfig, os.environ)


@once
def _platform_secret() -> SecretsManagerJsonSecret:
    settings = _settings()
    return SecretsManagerJsonSecret("platform secret", settings.platform_secret_id, secretsmanager, max_age_seconds=settings.secret_cache_seconds)


@once
def _crm_secret() -> SecretsManagerJsonSecret:
    settings = _settings()
    return SecretsManagerJsonSecret("CRM secret", settings.crm_secret_id, secretsmanager, max_age_seconds=settings.secret_cache_seconds)


def init() -> None:
    """Lambda INIT (functions/outbound/app.py): the settings, the secrets' reader and the DynamoDB client."""
    build_at_init(_settings, _platform_secret, _crm_secret, secretsmanager, dynamodb)


_built: dict[str, tuple[object, SqsBatch]] = {}
forget(_built.clear)


def outbound_batch() -> SqsBatch:
    """The outbound use case over SQS batches, rebuilt when a secret's content changes; jobs wait while a secret cannot be read."""
    settings = _settings()
    try:
        contents = (_platform_secret().snapshot(), _crm_secret().snapshot())
    except SecretsUnavailableError as exc:
        return SqsBatch(process=Blocked(str(exc), outage=True), redelivery=_redelivery(settings, sqs), messages=JOBS)
    built = _built.get("current")
    if built is None or built[0] != contents:
        try:
            _built["current"] = (contents, build_outbound_batch(settings, _platform_secret(), _crm_secret(), dynamodb, sqs))
        except RulesError as exc:
            return SqsBatch(process=Blocked(str(exc)), redelivery=_redelivery(settings, sqs), messages=JOBS)
    return _built["current"][1]


def _redelivery(settings: OutboundConfig, client: Callable[[], SQSClient]) -> SqsRedelivery:
    return SqsRedelivery(settings.outbound_queue_url, settings.outbound_dead_letter_queue_url, client)


def build_outbound_batch(
    config: OutboundConfig,
    platform_secret: SecretsManagerJsonSecret,
    crm_secret: SecretsManagerJsonSecret,
    dynamodb: Callable[[], DynamoDBClient],
    sqs: Callable[[], SQSClient],
) -> SqsBatch:
    sandbox = Path(config.sandbox_dir) if config.sandbox_dir else None
    platforms = SandboxPlatforms(sandbox / PLATFORMS_FILE) if sandbox is not None else None
    senders = PlatformSenders(
        PlatformTokens.from_secret(platform_secret.snapshot()), platform_session(config.platform_timeout_seconds), sandbox=platforms
    )
    rules = load_rules(Path(config.rules_file))
    store = DynamoDbClockStore(config.state_table_name, dynamodb)
    job = SendJob(
        ledger=store,
        senders=senders,
        desk=_desk(rules, crm_secret, sandbox),
        replies=ReplyPolicy(rules.replies, store),
        answers=response_clock(rules, store) or store,  # an accepted agent reply stops the clock (or is kept as an answer)
        conversations=store,
        state_field=rules.replies.state_field,
    )
    return SqsBatch(process=job, redelivery=_redelivery(config, sqs), messages=JOBS)


def _desk(rules: RulesConfig, crm_secret: SecretsManagerJsonSecret, sandbox: Path | None) -> Desk | None:
    """The helpdesk the notes go to; without Zendesk credentials the sends still go out, and the log says no note will."""
    try:
        return build_desk(rules, crm_secret, sandbox)
    except SecretsUnavailableError as exc:
        logger.error("no Zendesk credentials: replies are sent, but no note about them is written on the tickets", extra={"reason": str(exc)})
        return None
