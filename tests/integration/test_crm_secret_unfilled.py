"""The CRM secret as the template creates it (no value at all) until an operator fills it: process fails closed, clearly, and events wait."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from unittest.mock import patch

import pytest
import responses

from functions.ingest.app import lambda_handler as ingest_handler
from functions.process.app import lambda_handler as process_handler
from socialdesk import composition
from socialdesk.devtools.local_aws import AWS_ENVIRONMENT, local_aws
from tests.support.process_stack import RULES
from tests.support.webhooks import FakeLambdaContext, sample

if TYPE_CHECKING:
    from pathlib import Path


def test_an_unfilled_crm_secret_stops_processing_with_a_log_line_naming_every_missing_key(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rules = tmp_path / "socialdesk.toml"
    rules.write_text(RULES)
    with patch.dict(os.environ, AWS_ENVIRONMENT), local_aws() as aws, responses.RequestsMock() as http:
        for function in ("IngestFunction", "ProcessFunction"):
            os.environ.update(aws.environment(function, SOCIALDESK_RULES_FILE=str(rules)))
        composition.reset()
        try:
            # Given the stack just deployed: the CRM secret exists but holds no value, and a WhatsApp message is queued
            versions = aws.secretsmanager.list_secret_version_ids(SecretId=aws.resource("CrmSecret"))["Versions"]
            assert versions == []
            assert ingest_handler(sample("meta-whatsapp-text"), FakeLambdaContext())["statusCode"] == 200
            event = aws.receive_lambda_event(aws.inbound_url)
            assert event is not None
            # When the process function receives it
            response = process_handler(event, FakeLambdaContext(function_name="socialdesk-process"))
            waiting = aws.sqs.get_queue_attributes(QueueUrl=aws.inbound_url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
        finally:
            composition.reset()
    # Then the event waits on the queue as a delayed copy (no failure reported, so SQS counts no receive against it),
    # neither Zendesk nor Salesforce was called, and one error line names every key to fill in
    assert response == {"batchItemFailures": []}
    assert waiting["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"
    assert len(http.calls) == 0
    [line] = [record for record in caplog.records if record.getMessage().startswith("CRM secret incomplete")]
    assert line.levelname == "ERROR"
    assert line.__dict__["missing_keys"] == [
        "zendesk_email",
        "zendesk_api_token",
        "salesforce_consumer_key",
        "salesforce_username",
        "salesforce_private_key",
    ]
