"""Builds the process use case and its adapters from the settings, the rules file and the CRM secret.

The process handler imports this module at module level, so zenpy (through composition/desk.py, the helpdesk builder
outbound and sla_check share) and simple-salesforce load during Lambda INIT (which runs at full CPU), and in Lambda
calls `init()` to build the AWS clients there too; no other function imports it. `process_batch()` rebuilds the use case whenever the CRM
secret's content changes (a rotation).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from socialdesk.acknowledge import policy
from socialdesk.aws.comprehend import ComprehendSentiment
from socialdesk.aws.secrets import SecretsManagerJsonSecret
from socialdesk.aws.sqs import SqsOutboundJobs, SqsQueue, SqsRedelivery
from socialdesk.classify import Classifier
from socialdesk.composition.clients import build_at_init, comprehend, dynamodb, forget, once, secretsmanager, sqs
from socialdesk.composition.clock import response_clock
from socialdesk.composition.desk import build_desk, missing_desk_credentials
from socialdesk.crm.salesforce import SalesforceConnection, SalesforceCredentials, SalesforceCrm
from socialdesk.crm.sandbox import SandboxCrm
from socialdesk.observability import logger, quiet_third_party_loggers
from socialdesk.platforms.instagram_mentions import GraphMentionLookup
from socialdesk.platforms.send_http import platform_session
from socialdesk.ports.secrets import SecretsUnavailableError, optional, require
from socialdesk.process.process_event import ProcessEvent
from socialdesk.process.sqs_batch import Blocked, SqsBatch
from socialdesk.rules import RulesError, load_rules
from socialdesk.sandbox_state import CRM_FILE
from socialdesk.settings import ProcessConfig, load_config
from socialdesk.store.clock import DynamoDbClockStore

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

    from socialdesk.crm.port import Crm
    from socialdesk.ports.secrets import Secrets
    from socialdesk.rules import RulesConfig


# Connect and read timeout of the Graph API call that fetches an Instagram mention's words (a GET: safe to repeat).
MENTION_TIMEOUT_SECONDS = 10.0
# The CRM secret's Salesforce key whose presence makes a local run use the real Salesforce instead of its sandbox
# (composition/desk.py holds Zendesk's).
SALESFORCE_CREDENTIAL = "salesforce_consumer_key"


class CrmSecretIncompleteError(SecretsUnavailableError):
    """The CRM secret lacks keys the rules need (e.g. never filled in after the first deploy): nothing is processed."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__(f"the CRM secret has no value for {', '.join(keys)}")
        self.keys = keys


@once
def _settings() -> ProcessConfig:
    quiet_third_party_loggers()  # first thing the process function builds, before any client
    return load_config(ProcessConfig, os.environ)


@once
def _crm_secret() -> SecretsManagerJsonSecret:
    settings = _settings()
    return SecretsManagerJsonSecret("CRM secret", settings.crm_secret_id, secretsmanager, max_age_seconds=settings.secret_cache_seconds)


@once
def _platform_secret() -> SecretsManagerJsonSecret:
    settings = _settings()
    return SecretsManagerJsonSecret("platform secret", settings.platform_secret_id, secretsmanager, max_age_seconds=settings.secret_cache_seconds)


def init() -> None:
    """What every batch needs, built during Lambda INIT (functions/process/app.py): the settings, the Secrets Manager
    client (the CRM secret is checked at every batch) and the DynamoDB client (every event). The SQS client stays lazy
    (only retries and dead-lettering use it); the secret is read, and the Zendesk and Salesforce clients built from
    it, by the first batch: that is network work, which gains nothing from INIT's CPU.

    The one module the CRM libraries import at their first request is imported here: requests reads ~/.netrc through
    the standard library's `netrc`, imported inside requests.utils.get_netrc_auth.
    """
    build_at_init(_settings, _crm_secret, secretsmanager, dynamodb, _netrc, _rules_at_init)


def _netrc() -> object:
    return importlib.import_module("netrc")


def _rules_at_init() -> object:
    """What the rules make the first batch load, loaded here instead: the language model and VADER's lexicon (with
    `[classification]`) and the acknowledgement calendar's holidays import and this year's table (with
    `[acknowledgement]`): local files and CPU, ~1 s together, which INIT's full CPU does best and no customer waits for."""
    rules = load_rules(Path(_settings().rules_file))
    if rules.classification is not None:
        Classifier.warm()
    if rules.acknowledgement is not None:
        policy.calendar_of(rules).is_open()
    return rules


_built: dict[str, tuple[object, SqsBatch]] = {}
forget(_built.clear)


def process_batch() -> SqsBatch:
    """The process use case over SQS batches, rebuilt when the CRM secret's content changes (a rotation).

    While it cannot be built for want of an operator's fix (the CRM secret, the rules file), every event waits on the
    queue instead (`Blocked`); the build is tried again on the next invocation.
    """
    settings = _settings()
    try:
        credentials = _crm_secret().snapshot()
    except SecretsUnavailableError as exc:
        return SqsBatch(process=Blocked(str(exc), outage=True), redelivery=_redelivery(settings, sqs))
    built = _built.get("current")
    if built is None or built[0] != credentials:
        try:
            _built["current"] = (credentials, build_process_batch(settings, _crm_secret(), dynamodb, sqs))
        except (CrmSecretIncompleteError, RulesError) as exc:
            return SqsBatch(process=Blocked(str(exc)), redelivery=_redelivery(settings, sqs))
    return _built["current"][1]


def _redelivery(settings: ProcessConfig, client: Callable[[], SQSClient]) -> SqsRedelivery:
    return SqsRedelivery(settings.inbound_queue_url, settings.dead_letter_queue_url, client)


def build_process_batch(
    config: ProcessConfig, secret: SecretsManagerJsonSecret, dynamodb: Callable[[], DynamoDBClient], sqs: Callable[[], SQSClient]
) -> SqsBatch:
    rules = load_rules(Path(config.rules_file))
    sandbox = Path(config.sandbox_dir) if config.sandbox_dir else None
    # Every missing key at once, before any client is built: the operator fills the secret in one go.
    if missing := missing_credentials(rules, secret, sandbox):
        logger.error(
            "CRM secret incomplete: no event is processed until these keys are filled in; events wait in the queue",
            extra={"missing_keys": missing, "secret": config.crm_secret_id},
        )
        raise CrmSecretIncompleteError(missing)
    store = DynamoDbClockStore(config.state_table_name, dynamodb)
    process = ProcessEvent(
        store=store,
        desk=build_desk(rules, secret, sandbox),
        crm=_crm(rules, secret, sandbox),
        rules=rules,
        events=SqsQueue(config.inbound_queue_url, sqs),
        classifier=_classifier(rules),
        outbound=SqsOutboundJobs(config.outbound_queue_url, sqs),  # automatic messages, when the rules enable them
        sent=store,  # what the outbound function sent: its echoes are ours
        mentions=GraphMentionLookup(_platform_secret(), platform_session(MENTION_TIMEOUT_SECONDS)),
        response_clock=response_clock(rules, store),
    )
    return SqsBatch(process=process, redelivery=_redelivery(config, sqs))


def _classifier(rules: RulesConfig) -> Classifier | None:
    """The rules' classifier; in comprehend mode with Amazon Comprehend's DetectSentiment (its client built on first use)."""
    if rules.classification is None:
        return None
    service = ComprehendSentiment(comprehend) if rules.classification.sentiment == "comprehend" else None
    return Classifier(rules.classification, influencer=rules.zendesk.influencer, service=service)


def _crm(rules: RulesConfig, secret: Secrets, sandbox: Path | None) -> Crm | None:
    if rules.salesforce is None:
        return None
    if (folder := _crm_sandbox_in_use(secret, sandbox)) is not None:
        logger.info("no Salesforce credentials: using the sandbox CRM", extra={"sandbox": str(folder)})
        return SandboxCrm(folder / CRM_FILE)
    jwt = rules.salesforce.auth == "jwt"
    credentials = SalesforceCredentials(
        consumer_key=require(secret, SALESFORCE_CREDENTIAL)[0],
        username=require(secret, "salesforce_username")[0] if jwt else None,
        private_key=require(secret, "salesforce_private_key")[0] if jwt else None,
        consumer_secret=None if jwt else require(secret, "salesforce_consumer_secret")[0],
    )
    return SalesforceCrm(SalesforceConnection(rules.salesforce, credentials), rules.salesforce)


def missing_credentials(rules: RulesConfig, secret: Secrets, sandbox: Path | None) -> list[str]:
    """The CRM secret's keys that the rules need and that are blank or absent (a sandbox needs none)."""
    needed = missing_desk_credentials(secret, sandbox)
    if rules.salesforce is not None and _crm_sandbox_in_use(secret, sandbox) is None:
        jwt = rules.salesforce.auth == "jwt"
        salesforce = [SALESFORCE_CREDENTIAL, *(("salesforce_username", "salesforce_private_key") if jwt else ("salesforce_consumer_secret",))]
        needed += [key for key in salesforce if not optional(secret, key)]
    return needed


def _crm_sandbox_in_use(secret: Secrets, sandbox: Path | None) -> Path | None:
    """The sandbox folder when the CRM is its sandbox: a local run (deployed, there is none) without Salesforce credentials."""
    return sandbox if sandbox is not None and not optional(secret, SALESFORCE_CREDENTIAL) else None
