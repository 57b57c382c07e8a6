"""Deployment config: every setting required, and errors that name the variable an operator must fix."""

from __future__ import annotations

import pytest

from socialdesk.settings import ConfigError, IngestConfig, load_config

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
