"""Builds the scheduled SLA check from the settings, the rules file's `[sla]` and the CRM secret's Zendesk credentials.

The sla_check handler imports this module; `sla_check()` rebuilds the helpdesk when the CRM secret's content changes.
A run that cannot be built (no `[sla]`, unreadable secret) does nothing and says why: the next minute's run tries again,
and every due clock stays in the index until then.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from socialdesk.aws.secrets import SecretsManagerJsonSecret
from socialdesk.aws.sns import SnsAlerts
from socialdesk.composition.clients import build_at_init, dynamodb, forget, once, secretsmanager, sns
from socialdesk.composition.clock import response_clock
from socialdesk.composition.desk import build_desk
from socialdesk.observability import quiet_third_party_loggers
from socialdesk.rules import load_rules
from socialdesk.settings import SlaCheckConfig, load_config
from socialdesk.sla.check import SlaCheck
from socialdesk.sla.metrics import EmfClockMetrics
from socialdesk.sla.policy import Policies
from socialdesk.store.clock import DynamoDbClockStore

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sns import SNSClient


class SlaNotConfiguredError(Exception):
    """The rules file has no `[sla]` section: there is nothing to check."""


@once
def _settings() -> SlaCheckConfig:
    quiet_third_party_loggers()
    return load_config(SlaCheckConfig, os.environ)


@once
def _crm_secret() -> SecretsManagerJsonSecret:
    settings = _settings()
    return SecretsManagerJsonSecret("CRM secret", settings.crm_secret_id, secretsmanager, max_age_seconds=settings.secret_cache_seconds)


def init() -> None:
    """Lambda INIT (functions/sla_check/app.py): the settings, the secret's reader and the DynamoDB client."""
    build_at_init(_settings, _crm_secret, secretsmanager, dynamodb)


_built: dict[str, tuple[object, SlaCheck]] = {}
forget(_built.clear)


def sla_check() -> SlaCheck:
    """The check, rebuilt when the CRM secret's content changes; raises SecretsUnavailableError or RulesError when it cannot be built."""
    settings = _settings()
    contents = _crm_secret().snapshot()
    built = _built.get("current")
    if built is None or built[0] != contents:
        _built["current"] = (contents, build_sla_check(settings, _crm_secret(), dynamodb, sns))
    return _built["current"][1]


def scheduled_time(event: Mapping[str, Any]) -> datetime | None:
    """The `time` EventBridge Scheduler puts in its event (`2026-12-04T10:00:00Z`); None when absent or unreadable."""
    try:
        at = datetime.fromisoformat(str(event["time"]))
    except (KeyError, ValueError):
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def build_sla_check(
    config: SlaCheckConfig,
    crm_secret: SecretsManagerJsonSecret,
    dynamodb: Callable[[], DynamoDBClient],
    sns: Callable[[], SNSClient],
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SlaCheck:
    rules = load_rules(Path(config.rules_file))
    policies = Policies.of(rules)
    store = DynamoDbClockStore(config.state_table_name, dynamodb)
    clock = response_clock(rules, store)
    if policies is None or clock is None:
        raise SlaNotConfiguredError("the rules file has no [sla] section: nothing to check")
    sandbox = Path(config.sandbox_dir) if config.sandbox_dir else None
    return SlaCheck(
        store=store,
        policies=policies,
        clock=clock,
        desk=build_desk(rules, crm_secret, sandbox),
        alerts=SnsAlerts(config.sla_alert_topic_arn, sns),
        metrics=EmfClockMetrics(),
        now=now,
    )
