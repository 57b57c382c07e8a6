"""The whole pipeline on one machine: moto from the template, Zendesk and Salesforce as HTTP fakes, the real handlers.

Used by the integration tests and by bench/process_calls_bench.py.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

import responses
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from functions.desk_events.app import lambda_handler as desk_events_handler
from functions.ingest.app import lambda_handler as ingest_handler
from functions.outbound.app import lambda_handler as outbound_handler
from functions.process.app import lambda_handler as process_handler
from functions.sla_check.app import lambda_handler as sla_check_handler
from socialdesk import composition
from socialdesk.composition import clients
from socialdesk.devtools.local_aws import AWS_ENVIRONMENT, LocalAws, local_aws
from socialdesk.devtools.zendesk_events import apigw_event, signed_request
from tests.support.http_fakes import FakeSalesforce, FakeZendesk
from tests.support.webhooks import FakeLambdaContext

RULES = """
[zendesk]
subdomain = "acme"

[salesforce]
login_domain = "acme.my"
contact_external_id_field = "Social_Handle__c"
task_event_key_field = "Socialdesk_Event_Key__c"
"""


def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


@dataclass
class Flow:
    aws: LocalAws
    zendesk: FakeZendesk
    salesforce: FakeSalesforce
    visibility_changes: list[int]
    requeued: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    """(delay asked for, event body) of every copy the process function queued again; the copies are visible at once."""
    dynamodb_calls: Counter[str] = field(default_factory=Counter)
    last_event: dict[str, Any] | None = None
    clock: time_machine.Traveller | None = None
    """The virtual clock the whole stack reads (moto included): `process_all` moves it on by each wait it skips."""
    http: responses.RequestsMock | None = None
    """Every HTTP call the functions make (the Zendesk and Salesforce fakes answer theirs; a test adds the platforms')."""

    def webhook(self, event: dict[str, Any]) -> None:
        status = ingest_handler(event, FakeLambdaContext())["statusCode"]
        assert status == 200, status

    def desk_webhook(self, payload: dict[str, Any]) -> int:
        """Zendesk's signed delivery of one ticket event to desk_events; its answer's status."""
        body, headers = signed_request(payload)
        return int(desk_events_handler(apigw_event(body, headers), FakeLambdaContext(function_name="socialdesk-desk-events"))["statusCode"])

    def process_once(self, *, max_messages: int = 10) -> dict[str, Any] | None:
        """Receive one batch and run the process handler on it; the handler's answer, or None when the queue is empty."""
        event = self.aws.receive_lambda_event(self.aws.inbound_url, max_messages=max_messages)
        if event is None:
            return None
        self.last_event = event
        response: dict[str, Any] = process_handler(event, FakeLambdaContext(function_name="socialdesk-process"))
        return response

    def outbound_once(self) -> dict[str, Any] | None:
        """Receive one batch of outbound jobs and run the outbound handler on it (None when the queue is empty)."""
        event = self.aws.receive_lambda_event(self.aws.resource("OutboundQueue"), max_messages=10)
        if event is None:
            return None
        response: dict[str, Any] = outbound_handler(event, FakeLambdaContext(function_name="socialdesk-outbound"))
        return response

    def sla_check(self) -> dict[str, Any]:
        """One scheduled run of the sla_check handler (EventBridge Scheduler's event), on the virtual clock."""
        response: dict[str, Any] = sla_check_handler({"source": "aws.scheduler"}, FakeLambdaContext(function_name="socialdesk-sla-check"))
        return response

    def process_all(self, *, max_batches: int = 500) -> list[dict[str, Any]]:
        """Run batches until the queue is empty. A copy queued again with a delay is visible at once (`skip_delay`), so
        the clock moves on by the longest delay each batch asked for: an event waiting 12 minutes for a parent post sees
        12 minutes pass in about 24 batches, not in 12 real minutes. A queue that never drains fails the test."""
        answers: list[dict[str, Any]] = []
        for _ in range(max_batches):
            asked = len(self.requeued)
            if (answer := self.process_once()) is None:
                return answers
            answers.append(answer)
            if self.clock is not None and (delays := [delay for delay, _ in self.requeued[asked:]]):
                self.clock.shift(max(delays))
        raise AssertionError(f"the inbound queue did not drain in {max_batches} batches: {len(self.requeued)} copies re-queued")

    def skip_delay(self, params: dict[str, Any], **_: Any) -> None:
        """Record the delay of a re-queued copy and drop it (moto waits in real time), to see what happens next."""
        if params.get("QueueUrl") == self.aws.inbound_url:
            self.requeued.append((int(params.get("DelaySeconds", 0)), json.loads(params["MessageBody"])))
            params["DelaySeconds"] = 0

    def make_visible(self, receipt_handle: str) -> None:
        """Skip a wait SQS would impose (a retry delay), to see what happens next."""
        self.aws.sqs.change_message_visibility(QueueUrl=self.aws.inbound_url, ReceiptHandle=receipt_handle, VisibilityTimeout=0)


@contextmanager
def process_stack(rules_file: Path, private_key: str) -> Iterator[Flow]:
    """Everything wired as the template wires it, with the rules in `rules_file`."""
    with (
        time_machine.travel(datetime.now(UTC), tick=True) as clock,
        patch.dict(os.environ, AWS_ENVIRONMENT),
        local_aws() as aws,
        responses.RequestsMock(assert_all_requests_are_fired=False) as http,
    ):
        for function in ("IngestFunction", "ProcessFunction", "OutboundFunction", "DeskEventsFunction", "SlaCheckFunction"):
            os.environ.update(aws.environment(function, SOCIALDESK_RULES_FILE=str(rules_file)))
        aws.put_secret(
            "CrmSecret",
            {
                "zendesk_email": "socialdesk@acme.example",
                "zendesk_api_token": "zendesk-token",
                "salesforce_consumer_key": "3MVG9-key",
                "salesforce_username": "socialdesk@acme.example",
                "salesforce_private_key": private_key,
            },
        )
        composition.reset()
        flow = Flow(aws=aws, zendesk=FakeZendesk(http), salesforce=FakeSalesforce(http), visibility_changes=[], clock=clock, http=http)
        clients.sqs().meta.events.register(
            "before-parameter-build.sqs.ChangeMessageVisibility", lambda params, **_: flow.visibility_changes.append(params["VisibilityTimeout"])
        )
        clients.sqs().meta.events.register("before-parameter-build.sqs.SendMessage", flow.skip_delay)
        clients.dynamodb().meta.events.register("before-call.dynamodb", lambda model, **_: flow.dynamodb_calls.update([model.name]))
        try:
            yield flow
        finally:
            composition.reset()
