"""Attack (issue 7, item 7): waiting for an operator is not a failure; only real repeated failures dead-letter.

README (Deploying, step 5): "Until the CRM secret is written, the process function ... processes nothing and leaves
the events in the queue." It does so by failing the whole invocation, so SQS counts a receive each time the
visibility timeout (360 s) ends: after maxReceiveCount (10) receives, about an hour, the redrive policy moves every
waiting event to the dead-letter queue. The same holds for a blanked key during a rotation and an invalid rules file.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING
from unittest.mock import patch

import responses

from functions.ingest.app import lambda_handler as ingest_handler
from functions.process.app import lambda_handler as process_handler
from socialdesk import composition
from socialdesk.composition import clients
from socialdesk.devtools.local_aws import AWS_ENVIRONMENT, local_aws
from tests.support.process_stack import RULES
from tests.support.webhooks import FakeLambdaContext, sample

if TYPE_CHECKING:
    from pathlib import Path

VISIBILITY_TIMEOUTS = 12  # 72 minutes of waiting for the operator


def test_events_received_before_the_crm_secret_is_filled_stay_on_the_inbound_queue(tmp_path: Path) -> None:
    rules = tmp_path / "socialdesk.toml"
    rules.write_text(RULES)
    with patch.dict(os.environ, AWS_ENVIRONMENT), local_aws() as aws, responses.RequestsMock():
        for function in ("IngestFunction", "ProcessFunction"):
            os.environ.update(aws.environment(function, SOCIALDESK_RULES_FILE=str(rules)))
        composition.reset()
        try:
            # Given the stack just deployed, its CRM secret not yet filled, and a WhatsApp message received
            assert ingest_handler(sample("meta-whatsapp-text"), FakeLambdaContext())["statusCode"] == 200
            # When the operator takes a little over an hour to fill the secret: SQS hands the message to the function each
            # time its visibility timeout ends, and the function refuses to process anything
            # (moto waits out a copy's delay in real time: the copies are made visible at once instead)
            clients.sqs().meta.events.register("before-parameter-build.sqs.SendMessage", lambda params, **_: params.update(DelaySeconds=0))
            received = 0
            for _ in range(VISIBILITY_TIMEOUTS):
                event = aws.receive_lambda_event(aws.inbound_url)
                if event is None:
                    break
                received += 1
                response = process_handler(event, FakeLambdaContext(function_name="socialdesk-process"))
                # As the event source mapping does: what the function reported done is deleted, the rest returns
                failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
                for record in event["Records"]:
                    if record["messageId"] in failed:  # its visibility timeout (360 s) ends: SQS counts another receive
                        aws.sqs.change_message_visibility(QueueUrl=aws.inbound_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0)
                    else:
                        aws.sqs.delete_message(QueueUrl=aws.inbound_url, ReceiptHandle=record["receiptHandle"])
            # Then the message still waits on the inbound queue for the secret (README: "leaves the events in the queue"),
            # and nothing was dead-lettered: waiting for an operator is not a failure
            dead = aws.drain(aws.dead_letter_url)
            waiting = aws.drain(aws.inbound_url)
        finally:
            composition.reset()
    assert received == VISIBILITY_TIMEOUTS
    assert dead == []
    assert len(waiting) == 1
    # And it is the same event, marked as waiting with no failure counted against it
    retry = json.loads(waiting[0]["MessageAttributes"]["socialdesk_retry"]["StringValue"])
    assert retry.get("failures", 0) == 0
