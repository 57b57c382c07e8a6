"""Deployment settings, injected by infra/template.yaml as environment variables and validated once.

Every setting is required: the template sets each one explicitly, so nothing falls
back to a value nobody chose. Names are `SOCIALDESK_<FIELD>`; the README's config
reference lists them. msgspec rather than pydantic keeps the ingest cold start light
(docs/benchmarks.md); its errors name the variable at fault.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, TypeVar

import msgspec

if TYPE_CHECKING:
    from collections.abc import Mapping

NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]


def _env_name(field: str) -> str:
    return f"SOCIALDESK_{field.upper()}"


class ConfigError(Exception):
    """The environment does not describe a valid deployment; the message names the variable."""


class _SharedConfig(msgspec.Struct, frozen=True, kw_only=True, rename=_env_name):
    inbound_queue_url: NonEmpty
    secret_cache_seconds: Annotated[int, msgspec.Meta(ge=0, le=3600)]
    """How long a container reuses a secret (and the clients built from it) before reading it again."""


class IngestConfig(_SharedConfig, frozen=True, kw_only=True, rename=_env_name):
    quarantine_queue_url: NonEmpty
    quarantine_bucket: NonEmpty
    """Where items too large for an SQS message are kept whole; the quarantine queue gets a pointer to them."""
    webhook_secret_id: NonEmpty
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024, le=6 * 1024 * 1024)]
    """Larger webhook bodies get 413 before any parsing; Lambda's own payload cap is 6 MB."""


class ProcessConfig(_SharedConfig, frozen=True, kw_only=True, rename=_env_name):
    dead_letter_queue_url: NonEmpty
    state_table_name: NonEmpty
    crm_secret_id: NonEmpty
    rules_file: NonEmpty
    """The rules file (config/socialdesk.toml), deployed at /opt/socialdesk.toml by the config layer."""
    outbound_queue_url: NonEmpty
    """Where automatic acknowledgements are queued for the outbound function (OutboundJobs)."""
    platform_secret_id: NonEmpty
    """For the Instagram token: a mention arrives with ids only, and its words are fetched through the Graph API."""
    sandbox_dir: str | None = None
    """Local runs only (the template never sets it): Zendesk and Salesforce without credentials become sandboxes kept here."""


class OutboundConfig(msgspec.Struct, frozen=True, kw_only=True, rename=_env_name):
    """The outbound function: jobs from OutboundQueue, sent through the platforms' APIs with PlatformSecret's tokens."""

    outbound_queue_url: NonEmpty
    outbound_dead_letter_queue_url: NonEmpty
    """Its own name (not DEAD_LETTER_QUEUE_URL, process's): the local runner hosts every function in one environment."""
    state_table_name: NonEmpty
    platform_secret_id: NonEmpty
    crm_secret_id: NonEmpty
    """For the Zendesk credentials: the truth about each send is written on its ticket as an internal note."""
    rules_file: NonEmpty
    secret_cache_seconds: Annotated[int, msgspec.Meta(ge=0, le=3600)]
    platform_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=30)]
    """Connect and read timeout of each platform call; after a read timeout the send's fate is unknown and it is never repeated."""
    sandbox_dir: str | None = None
    """Local runs only: platforms without a token in PlatformSecret become sandboxes kept in `<sandbox_dir>/platforms.json`."""


class DeskEventsConfig(msgspec.Struct, frozen=True, kw_only=True, rename=_env_name):
    """The desk_events function: Zendesk's signed webhook, each event handed once to the sinks (agent replies, the clock)."""

    desk_webhook_secret_id: NonEmpty
    """ZendeskWebhookSecret: `zendesk_webhook_signing_secret`, the webhook's signing secret."""
    state_table_name: NonEmpty
    outbound_queue_url: NonEmpty
    """Where agent replies are queued for the outbound function."""
    rules_file: NonEmpty
    """The rules file: its `[sla]` section turns on the response clock that solved and reopened tickets move."""
    secret_cache_seconds: Annotated[int, msgspec.Meta(ge=0, le=3600)]
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024, le=6 * 1024 * 1024)]


class SlaCheckConfig(msgspec.Struct, frozen=True, kw_only=True, rename=_env_name):
    """The sla_check function: every minute, escalates the response clocks that are due (sla/check.py)."""

    state_table_name: NonEmpty
    crm_secret_id: NonEmpty
    """For the Zendesk credentials: escalations are written on the tickets."""
    rules_file: NonEmpty
    secret_cache_seconds: Annotated[int, msgspec.Meta(ge=0, le=3600)]
    sla_alert_topic_arn: NonEmpty
    """Where ladder levels with `alert = true` publish (SlaAlertTopic)."""
    sandbox_dir: str | None = None
    """Local runs only: without Zendesk credentials, escalations go to the sandbox helpdesk kept here."""


ConfigT = TypeVar("ConfigT", bound=msgspec.Struct)


def load_config(model: type[ConfigT], environ: Mapping[str, str]) -> ConfigT:
    try:
        return msgspec.convert(dict(environ), model, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{model.__name__}: {exc}") from exc
