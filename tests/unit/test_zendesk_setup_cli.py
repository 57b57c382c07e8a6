"""`socialdesk zendesk webhook`: the webhook a Zendesk admin creates, printed as the body of Zendesk's Create Webhook call."""

from __future__ import annotations

import json

import pytest

from socialdesk.cli import main
from socialdesk.desk_events.parse import KINDS

ENDPOINT = "https://abc123.execute-api.eu-west-1.amazonaws.com/webhooks/zendesk"


def test_the_printed_webhook_subscribes_to_exactly_the_events_desk_events_reads(capsys: pytest.CaptureFixture[str]) -> None:
    """Given the stack's ZendeskWebhookUrl, when the command runs, then a POST/JSON event webhook for the parsed event types."""
    assert main(["zendesk", "webhook", ENDPOINT]) == 0
    webhook = json.loads(capsys.readouterr().out)["webhook"]
    assert (webhook["endpoint"], webhook["http_method"], webhook["request_format"], webhook["status"]) == (ENDPOINT, "POST", "json", "active")
    assert sorted(webhook["subscriptions"]) == sorted(KINDS)


@pytest.mark.parametrize("endpoint", ["http://abc123.example/webhooks/zendesk", "https://abc123.example/webhooks/meta", "not a url"])
def test_anything_but_the_stacks_https_zendesk_route_is_a_usage_error(endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Given an http:// address, another route or no URL, when the command runs, then exit 2 and one line saying why."""
    assert main(["zendesk", "webhook", endpoint]) == 2
    assert capsys.readouterr().out == ""
