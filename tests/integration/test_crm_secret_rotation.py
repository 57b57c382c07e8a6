"""The CRM secret through the real process composition: a rotation reaches the next batch, and every secret error names its secret."""

from __future__ import annotations

import base64
import os
from typing import TYPE_CHECKING

from socialdesk import composition
from tests.support.webhooks import sample

if TYPE_CHECKING:
    import pytest

    from tests.integration.conftest import Stack
    from tests.support.process_stack import Flow

CREDENTIALS = {
    "zendesk_email": "socialdesk@acme.example",
    "salesforce_consumer_key": "3MVG9-key",
    "salesforce_username": "socialdesk@acme.example",
}


def _basic(email: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{email}/token:{token}".encode()).decode()


def test_a_rotated_zendesk_token_is_used_by_the_next_batch_without_a_redeploy(flow: Flow, private_key: str) -> None:
    # Given a process function that reads its CRM secret afresh (no cache) and has handled one message with the first token
    os.environ["SOCIALDESK_SECRET_CACHE_SECONDS"] = "0"
    composition.reset()
    flow.webhook(sample("x-dm"))
    flow.process_all()
    assert set(flow.zendesk.authorizations) == {_basic("socialdesk@acme.example", "zendesk-token")}
    # When the operator writes a new Zendesk token into the secret and the customer writes again
    flow.aws.put_secret("CrmSecret", {**CREDENTIALS, "zendesk_api_token": "rotated-token", "salesforce_private_key": private_key})
    seen = len(flow.zendesk.authorizations)
    flow.webhook(sample("x-mention"))
    flow.process_all()
    # Then every Zendesk call of the new batch carries the new token, and the message reached its ticket
    assert set(flow.zendesk.authorizations[seen:]) == {_basic("socialdesk@acme.example", "rotated-token")}
    assert len(flow.zendesk.tickets) == 2


def test_an_unreadable_crm_secret_is_named_as_the_crm_secret_in_the_log(flow: Flow, caplog: pytest.LogCaptureFixture) -> None:
    # Given a CRM secret whose current value is not JSON (an operator's paste went wrong)
    flow.aws.secretsmanager.put_secret_value(SecretId=flow.aws.resource("CrmSecret"), SecretString="zendesk_api_token=abc")
    composition.reset()
    # When a message is processed
    flow.webhook(sample("x-dm"))
    assert flow.process_once() == {"batchItemFailures": []}
    # Then the event waits, and the line that says why names the CRM secret, never the webhook secret
    reasons = [str(record.__dict__.get("reason", "")) for record in caplog.records if record.getMessage() in ("event deferred", "event waiting")]
    assert reasons
    assert all("CRM secret" in reason and "webhook secret" not in reason for reason in reasons)
    assert flow.zendesk.calls.total() == 0


def test_an_unreadable_webhook_secret_is_named_as_the_webhook_secret_in_the_log(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    # Given a webhook secret whose current value is not JSON
    stack.secretsmanager.put_secret_value(SecretId=stack.resource("WebhookSecret"), SecretString="not json")
    # When Meta posts a delivery
    answer = stack.invoke(sample("meta-whatsapp-text"))
    # Then ingest fails closed with 503, and its log line names the webhook secret, never the CRM secret
    assert answer["statusCode"] == 503
    [line] = [record for record in caplog.records if record.getMessage().startswith("webhook refused: verification secret unavailable")]
    assert "webhook secret" in line.__dict__["reason"]
    assert "CRM secret" not in line.__dict__["reason"]
