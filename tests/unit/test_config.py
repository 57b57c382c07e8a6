"""Deployment config: every setting required, and errors that name the variable an operator must fix."""

from __future__ import annotations

import pytest

from socialdesk.settings import ConfigError, IngestConfig, OutboundConfig, ProcessConfig, load_config

VALID = {
    "SOCIALDESK_INBOUND_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/inbound",
    "SOCIALDESK_QUARANTINE_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/quarantine",
    "SOCIALDESK_QUARANTINE_BUCKET": "socialdesk-quarantine",
    "SOCIALDESK_WEBHOOK_SECRET_ID": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhooks",
    "SOCIALDESK_MAX_BODY_BYTES": "4194304",
    "SOCIALDESK_SECRET_CACHE_SECONDS": "300",
    "PATH": "/usr/bin",
}


def test_environment_strings_become_typed_settings() -> None:
    config = load_config(IngestConfig, VALID)
    assert (config.max_body_bytes, config.secret_cache_seconds) == (4194304, 300)
    assert config.webhook_secret_id.endswith(":secret:webhooks")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"SOCIALDESK_INBOUND_QUEUE_URL": None}, "missing required field `SOCIALDESK_INBOUND_QUEUE_URL`"),
        ({"SOCIALDESK_WEBHOOK_SECRET_ID": ""}, "`$.SOCIALDESK_WEBHOOK_SECRET_ID`"),
        ({"SOCIALDESK_MAX_BODY_BYTES": "lots"}, "`$.SOCIALDESK_MAX_BODY_BYTES`"),
        ({"SOCIALDESK_MAX_BODY_BYTES": "10485760"}, "<= 6291456 - at `$.SOCIALDESK_MAX_BODY_BYTES`"),
        ({"SOCIALDESK_SECRET_CACHE_SECONDS": "-1"}, "`$.SOCIALDESK_SECRET_CACHE_SECONDS`"),
    ],
    ids=["missing", "empty", "not-a-number", "over-lambda-limit", "negative"],
)
def test_invalid_environment_is_refused_naming_the_variable(change: dict[str, str | None], named: str) -> None:
    environ = {key: value for key, value in {**VALID, **change}.items() if value is not None}
    with pytest.raises(ConfigError) as raised:
        load_config(IngestConfig, environ)
    assert named in str(raised.value)
    assert str(raised.value).startswith("IngestConfig: ")


OUTBOUND = {
    "SOCIALDESK_OUTBOUND_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/outbound",
    "SOCIALDESK_OUTBOUND_DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/outbound-dlq",
    "SOCIALDESK_STATE_TABLE_NAME": "socialdesk-state",
    "SOCIALDESK_PLATFORM_SECRET_ID": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:platforms",
    "SOCIALDESK_CRM_SECRET_ID": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:crm",
    "SOCIALDESK_RULES_FILE": "/opt/socialdesk.toml",
    "SOCIALDESK_SECRET_CACHE_SECONDS": "300",
    "SOCIALDESK_PLATFORM_TIMEOUT_SECONDS": "10",
}


def test_the_outbound_settings_are_typed_and_have_no_sandbox_unless_a_local_run_sets_one() -> None:
    config = load_config(OutboundConfig, OUTBOUND)
    assert (config.platform_timeout_seconds, config.secret_cache_seconds, config.sandbox_dir) == (10.0, 300, None)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"SOCIALDESK_PLATFORM_SECRET_ID": None}, "missing required field `SOCIALDESK_PLATFORM_SECRET_ID`"),
        ({"SOCIALDESK_OUTBOUND_DEAD_LETTER_QUEUE_URL": ""}, "`$.SOCIALDESK_OUTBOUND_DEAD_LETTER_QUEUE_URL`"),
        ({"SOCIALDESK_PLATFORM_TIMEOUT_SECONDS": "0"}, "`$.SOCIALDESK_PLATFORM_TIMEOUT_SECONDS`"),
        ({"SOCIALDESK_PLATFORM_TIMEOUT_SECONDS": "120"}, "`$.SOCIALDESK_PLATFORM_TIMEOUT_SECONDS`"),
    ],
    ids=["missing-secret", "empty-dead-letter-queue", "no-timeout", "timeout-past-the-function"],
)
def test_invalid_outbound_environment_is_refused_naming_the_variable(change: dict[str, str | None], named: str) -> None:
    environ = {key: value for key, value in {**OUTBOUND, **change}.items() if value is not None}
    with pytest.raises(ConfigError) as raised:
        load_config(OutboundConfig, environ)
    assert named in str(raised.value)
    assert str(raised.value).startswith("OutboundConfig: ")


PROCESS = {
    "SOCIALDESK_INBOUND_QUEUE_URL": VALID["SOCIALDESK_INBOUND_QUEUE_URL"],
    "SOCIALDESK_SECRET_CACHE_SECONDS": "300",
    "SOCIALDESK_DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/inbound-dlq",
    "SOCIALDESK_STATE_TABLE_NAME": "socialdesk-state",
    "SOCIALDESK_CRM_SECRET_ID": "crm",
    "SOCIALDESK_RULES_FILE": "/opt/socialdesk.toml",
}


def test_process_needs_the_outbound_queue_to_queue_acknowledgements() -> None:
    process = PROCESS
    with pytest.raises(ConfigError, match="SOCIALDESK_OUTBOUND_QUEUE_URL"):
        load_config(ProcessConfig, {**process, "SOCIALDESK_PLATFORM_SECRET_ID": "platforms"})
    assert load_config(
        ProcessConfig,
        {**process, "SOCIALDESK_OUTBOUND_QUEUE_URL": OUTBOUND["SOCIALDESK_OUTBOUND_QUEUE_URL"], "SOCIALDESK_PLATFORM_SECRET_ID": "platforms"},
    ).outbound_queue_url.endswith("/outbound")


def test_process_needs_the_platform_secret_to_read_instagram_mentions() -> None:
    # Given process's environment without the platform secret (an Instagram mention's words are fetched with its token)
    process = {**PROCESS, "SOCIALDESK_OUTBOUND_QUEUE_URL": OUTBOUND["SOCIALDESK_OUTBOUND_QUEUE_URL"]}
    # Then it is refused, naming the variable (no silent default)
    with pytest.raises(ConfigError, match="SOCIALDESK_PLATFORM_SECRET_ID"):
        load_config(ProcessConfig, process)
