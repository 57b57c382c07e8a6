"""Builds the desk_events use case: Zendesk's webhook, verified and handed to each sink. Imports no Zendesk SDK:
agent replies are queued for the outbound function, which writes the notes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from socialdesk.aws.secrets import SecretsManagerJsonSecret
from socialdesk.aws.sqs import SqsOutboundJobs
from socialdesk.composition.clients import build_at_init, dynamodb, once, secretsmanager, sqs
from socialdesk.composition.clock import response_clock
from socialdesk.desk_events.agent_reply import AgentReplySink
from socialdesk.desk_events.receiver import DeskEventsWebhook
from socialdesk.observability import quiet_third_party_loggers
from socialdesk.rules import load_rules
from socialdesk.settings import DeskEventsConfig, load_config
from socialdesk.sla.clock import ClockDeskEvents
from socialdesk.store.clock import DynamoDbClockStore

if TYPE_CHECKING:
    from socialdesk.model.desk_event import DeskEventSink


@once
def desk_events() -> DeskEventsWebhook:
    quiet_third_party_loggers()
    config = load_config(DeskEventsConfig, os.environ)
    store = DynamoDbClockStore(config.state_table_name, dynamodb)
    return DeskEventsWebhook(
        secrets=SecretsManagerJsonSecret(
            "Zendesk webhook secret", config.desk_webhook_secret_id, secretsmanager, max_age_seconds=config.secret_cache_seconds
        ),
        ledger=store,
        sinks=sinks(config, store),
        max_body_bytes=config.max_body_bytes,
    )


def sinks(config: DeskEventsConfig, store: DynamoDbClockStore) -> list[DeskEventSink]:
    """Every consumer of desk events, in order: agents' replies queued for outbound, and (with `[sla]` in the rules) the
    response clock, which a solved ticket stops and a reopened one restarts."""
    found: list[DeskEventSink] = [AgentReplySink(conversations=store, jobs=SqsOutboundJobs(config.outbound_queue_url, sqs))]
    if (clock := response_clock(load_rules(Path(config.rules_file)), store)) is not None:
        found.append(ClockDeskEvents(clock))
    return found


def init() -> None:
    """Lambda INIT (functions/desk_events/app.py): the use case and its Secrets Manager, DynamoDB and SQS clients."""
    build_at_init(desk_events, secretsmanager, dynamodb, sqs)
