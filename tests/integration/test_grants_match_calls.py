"""The IAM grants in infra/template.yaml are what the code calls: every call is granted, and every grant is called.

Every committed sample webhook runs through the real handlers on the `flow` stack (AWS in moto, created from the
template; Zendesk and Salesforce as HTTP fakes). Each AWS call the functions' own clients make is recorded with the role
of the function making it (ingest while a webhook is handled, process while a batch is), as the IAM action it needs
and the template resource it names. A call the template does not grant would be refused in AWS; a grant nothing calls
is access nobody needs.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import msgspec
import pytest
from botocore.exceptions import ClientError

from socialdesk.aws.sqs import SqsOutboundJobs
from socialdesk.composition import clients
from socialdesk.composition.clock import response_clock
from socialdesk.devtools.local_aws import REGION, TEMPLATE
from socialdesk.devtools.template_stack import load_template
from socialdesk.devtools.zendesk_events import comment_added
from socialdesk.model.event import Platform, SocialEvent, make_event
from socialdesk.model.outbound import Channel, JobKind, OutboundJob, encode_job
from socialdesk.platforms.meta_send import GRAPH_API
from socialdesk.rules import load_rules
from socialdesk.store.clock import DynamoDbClockStore
from tests.support.iam import statements
from tests.support.process_stack import RULES, Flow, process_stack
from tests.support.sla_world import FLOW_SLA, checks_after_the_message
from tests.support.webhooks import SAMPLE_NAMES, meta_post, sample, sample_body, to_bytes

# The parameter naming the resource of each service's calls, and the action a call needs where it is not its own name
# (SendMessageBatch is authorised by sqs:SendMessage: SQS Developer Guide, "Amazon SQS API permissions").
TARGET_PARAMETER = {"sqs": "QueueUrl", "dynamodb": "TableName", "secretsmanager": "SecretId", "s3": "Bucket", "sns": "TopicArn"}
ACTION_OF = {"sqs:SendMessageBatch": "sqs:SendMessage"}
# What Lambda's SQS event source mapping polls with, on the function's own role (Lambda Developer Guide, "Using Lambda
# with Amazon SQS", execution role permissions): granted to ProcessRole, called by Lambda, not by the code.
EVENT_SOURCE_MAPPING = {(action, "InboundQueue") for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")}
OUTBOUND_EVENT_SOURCE_MAPPING = {(action, "OutboundQueue") for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")}
PHONE_NUMBER_ID = "106540352242922"
ROLES = ("IngestRole", "ProcessRole")


def granted(role: str) -> set[tuple[str, str]]:
    """(action, template resource) of every statement of `role` but its log writes, read from infra/template.yaml."""
    template = load_template(TEMPLATE)
    grants: set[tuple[str, str]] = set()
    for statement in statements(template["Resources"][role]):  # as deployed by default (ComprehendSentiment=false)
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        grants |= {(action, logical_name(resource)) for action in actions for resource in resources if not action.startswith("logs:")}
    return grants


def logical_name(resource: dict[str, Any]) -> str:
    """The template resource a grant names: itself (`Ref`, `GetAtt .Arn`) or, for S3, its objects (`${Bucket.Arn}/*`).

    Anything else (an index, a wildcard) is not understood: the test fails rather than guess what it grants.
    """
    if "Ref" in resource:
        return str(resource["Ref"])
    if "Fn::GetAtt" in resource and resource["Fn::GetAtt"][1] == "Arn":
        return str(resource["Fn::GetAtt"][0])
    objects = re.fullmatch(r"\$\{(\w+)\.Arn\}/\*", str(resource.get("Fn::Sub")))
    assert objects is not None, f"a grant this test cannot read: {resource}"
    return objects.group(1)


@dataclass
class AwsCalls:
    """Every call of the functions' AWS clients: (role, action, template resource)."""

    flow: Flow
    role: str | None = None
    made: set[tuple[str, str, str]] = field(default_factory=set)
    unattributed: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        template = load_template(TEMPLATE)
        self.names = {self.flow.aws.resource(name): name for name in template["Resources"] if name in self.flow.aws.stack.resources}
        for service in TARGET_PARAMETER:
            client = getattr(clients, service)()
            client.meta.events.register(f"before-parameter-build.{service}", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.signing_name
        action = f"{service}:{model.name}"
        target = str(params.get(TARGET_PARAMETER[service]))
        if self.role is None:
            self.unattributed.append(action)
            return
        self.made.add((self.role, ACTION_OF.get(action, action), self.names.get(target, target)))

    @contextmanager
    def by(self, role: str) -> Iterator[None]:
        self.role = role
        try:
            yield
        finally:
            self.role = None

    def of(self, role: str) -> set[tuple[str, str]]:
        return {(action, target) for made_by, action, target in self.made if made_by == role}

    def webhook(self, event: dict[str, Any]) -> None:
        with self.by("IngestRole"):
            self.flow.webhook(event)

    def process_all(self) -> None:
        with self.by("ProcessRole"):
            self.flow.process_all()

    def process_once(self) -> None:
        with self.by("ProcessRole"):
            self.flow.process_once()


def every_sample_through(calls: AwsCalls) -> None:
    for name in SAMPLE_NAMES:
        calls.webhook(sample(name))
    calls.process_all()


def test_the_process_role_grants_exactly_the_dynamodb_actions_the_code_calls(flow: Flow) -> None:
    # Given the DynamoDB actions the template grants the process function
    grants = {action for action, _ in granted("ProcessRole") if action.startswith("dynamodb:")}
    calls = AwsCalls(flow)
    # When every sample webhook runs through ingest and process
    every_sample_through(calls)
    made = {"dynamodb:" + name for name in flow.dynamodb_calls}
    # Then each DynamoDB call made is granted, and each granted action is called
    assert made <= grants, f"called but not granted: {made - grants}"
    assert grants <= made, f"granted but never called: {grants - made}"
    # And every call is the process function's, on the state table itself (no index: the table has none)
    assert {(role, target) for role, action, target in calls.made if action.startswith("dynamodb:")} == {("ProcessRole", "StateTable")}
    assert calls.unattributed == []


def test_each_role_grants_exactly_the_sqs_s3_and_secrets_calls_its_function_makes(flow: Flow) -> None:
    # Given what the template grants each function's role beyond logs and DynamoDB
    grants = {role: {grant for grant in granted(role) if not grant[0].startswith("dynamodb:")} for role in ROLES}
    calls = AwsCalls(flow)
    # And an X edit whose post has not arrived, whose delayed copy SQS refuses (the message waits through its visibility)
    calls.webhook(sample("x-activity-edit"))
    refused = {"count": 0}

    def refuse_one_requeue(model: Any, **_: Any) -> None:
        if calls.role == "ProcessRole" and model.name == "SendMessage" and not refused["count"]:
            refused["count"] += 1
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "refused by the test"}}, "SendMessage")

    clients.sqs().meta.events.register("before-call.sqs.SendMessage", refuse_one_requeue)
    calls.process_once()
    assert refused["count"] == 1 and flow.visibility_changes
    # When every sample webhook runs through, with a delivery holding an item too large for SQS (kept in S3, a pointer on
    # the quarantine queue) and a queued body that is not an event (dead-lettered)
    every_sample_through(calls)
    calls.webhook(meta_post(to_bytes(oversize_delivery())))
    flow.aws.sqs.send_message(QueueUrl=flow.aws.inbound_url, MessageBody='{"not": "an event"}')
    calls.process_all()
    # And an acknowledgement queued for the outbound function through the process function's client, as the
    # acknowledgement policy queues it (socialdesk.aws.sqs.SqsOutboundJobs)
    with calls.by("ProcessRole"):
        SqsOutboundJobs(flow.aws.resource("OutboundQueue"), clients.sqs).enqueue(whatsapp_job("grant-check"))
    # Then each function's calls are granted to its role, and each grant is called (by the function, or for the process
    # role's polling of the inbound queue, by Lambda's event source mapping)
    made = {role: {grant for grant in calls.of(role) if not grant[0].startswith("dynamodb:")} for role in ROLES}
    assert made["IngestRole"] <= grants["IngestRole"], f"called but not granted: {made['IngestRole'] - grants['IngestRole']}"
    assert made["ProcessRole"] <= grants["ProcessRole"], f"called but not granted: {made['ProcessRole'] - grants['ProcessRole']}"
    assert grants["IngestRole"] <= made["IngestRole"], f"granted but never called: {grants['IngestRole'] - made['IngestRole']}"
    unused = grants["ProcessRole"] - made["ProcessRole"]
    assert unused == EVENT_SOURCE_MAPPING, f"granted but never called: {unused - EVENT_SOURCE_MAPPING}"
    assert calls.unattributed == []


def oversize_delivery() -> dict[str, Any]:
    """A Messenger delivery whose one message is larger than an SQS message (about 300 KB)."""
    payload = sample_body("meta-messenger-message")
    entry = copy.deepcopy(payload["entry"][0])
    entry["messaging"][0]["sender"]["id"] = "6789012345678999"
    entry["messaging"][0]["message"].update(mid="m_oversize", text="Mi pedido no ha llegado. " * 12_000)
    return {"object": "page", "entry": [entry]}


def whatsapp_job(name: str, **changes: Any) -> OutboundJob:
    return OutboundJob(
        job_id=f"ack:{name}",
        kind=JobKind.ACKNOWLEDGEMENT,
        platform=Platform.WHATSAPP,
        account_id=PHONE_NUMBER_ID,
        conversation_key=f"whatsapp:{PHONE_NUMBER_ID}:chat:{name}",
        channel=Channel.DIRECT_MESSAGE,
        recipient_id="16505551234",
        text="Gracias (automático)",
        **changes,
    )


@pytest.fixture
def sla_flow(tmp_path: Path, private_key: str) -> Iterator[Flow]:
    """The whole stack with the response clock on (rules with an `[sla]` section)."""
    rules = tmp_path / "socialdesk.toml"
    rules.write_text(RULES + FLOW_SLA)
    with process_stack(rules, private_key) as flow:
        yield flow


def test_the_outbound_role_grants_exactly_the_calls_the_outbound_function_makes(sla_flow: Flow) -> None:
    # Given what the template grants the outbound function, the response clock on, and a WhatsApp token in PlatformSecret
    flow = sla_flow
    grants = granted("OutboundRole")
    calls = AwsCalls(flow)
    flow.aws.put_secret("PlatformSecret", {"whatsapp_tokens": {PHONE_NUMBER_ID: "EAAGwhatsapp"}})
    # And WhatsApp taking the first job, then answering the pair rate limit (131056: nothing sent, the jobs wait)
    assert flow.http is not None
    answers = iter(
        [(200, {"messages": [{"id": "wamid.sent"}]})] + [(400, {"error": {"message": "(#131056) pair rate limit hit", "code": 131056}})] * 2
    )

    def whatsapp(request: Any) -> tuple[int, dict[str, str], str]:
        # The batch's conversations run side by side: the agent's reply is taken whenever it comes, the others in turn
        agent = json.loads(request.body)["text"]["body"] == AGENT_TEXT
        status, body = (200, {"messages": [{"id": "wamid.agent"}]}) if agent else next(answers)
        return status, {"content-type": "application/json"}, json.dumps(body)

    flow.http.add_callback("POST", f"{GRAPH_API}/{PHONE_NUMBER_ID}/messages", callback=whatsapp)
    # And SQS refusing one delayed copy (the job then waits through its visibility timeout)
    refused = {"count": 0}

    def refuse_one_requeue(model: Any, **_: Any) -> None:
        if calls.role == "OutboundRole" and model.name == "SendMessage" and not refused["count"]:
            refused["count"] += 1
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "refused by the test"}}, "SendMessage")

    clients.sqs().meta.events.register("before-call.sqs.SendMessage", refuse_one_requeue)
    # When jobs and a body that is no job go through one outbound batch: a delayed acknowledgement (outbound reads its
    # conversation first: its delay is over when it arrives here), an agent's reply to a customer who wrote before and
    # after it (its answer is recorded out of order: a Query), and two jobs that wait
    delayed = whatsapp_job("sent", delay_seconds=60, customer_message_at=datetime.now(UTC))
    flow.aws.sqs.send_message(QueueUrl=flow.aws.resource("OutboundQueue"), MessageBody=encode_job(delayed))
    # (the customer waits: their messages started the response clock, which the accepted reply moves)
    reply = agent_reply_job("agent")
    store = DynamoDbClockStore(flow.aws.resource("StateTable"), lambda: boto3.client("dynamodb", region_name=REGION))
    clock = response_clock(load_rules(Path(os.environ["SOCIALDESK_RULES_FILE"])), store)
    assert clock is not None
    for offset in (-3600, 3600):
        message = customer_message(reply, offset)
        store.record_activity(reply.conversation_key, message, customer_key=None)
        clock.customer_wrote(reply.conversation_key, at=message.created_at, platform="whatsapp", kind="direct_message", priority=None)
    for job in (reply, whatsapp_job("waits-1"), whatsapp_job("waits-2")):
        SqsOutboundJobs(flow.aws.resource("OutboundQueue"), lambda: flow.aws.sqs).enqueue(job)
    flow.aws.sqs.send_message(QueueUrl=flow.aws.resource("OutboundQueue"), MessageBody='{"not": "a job"}')
    with calls.by("OutboundRole"):
        flow.outbound_once()
    assert refused["count"] == 1
    # Then each call is granted, and each grant is called (polling by Lambda's event source mapping)
    made = calls.of("OutboundRole")
    assert made <= grants, f"called but not granted: {made - grants}"
    unused = grants - made
    assert unused == OUTBOUND_EVENT_SOURCE_MAPPING, f"granted but never called: {unused - OUTBOUND_EVENT_SOURCE_MAPPING}"
    assert calls.unattributed == []


AGENT_TEXT = "Hola Dana, soy Ana."


def agent_reply_job(name: str) -> OutboundJob:
    return msgspec.structs.replace(
        whatsapp_job(name),
        job_id=f"reply:4014:{name}",
        kind=JobKind.AGENT_REPLY,
        text=AGENT_TEXT,
        customer_message_at=datetime.now(UTC) - timedelta(hours=1),
    )


def customer_message(job: OutboundJob, offset_seconds: int) -> SocialEvent:
    return make_event(
        platform="whatsapp",
        kind="direct_message",
        event_id=f"wamid.customer{offset_seconds}",
        message_id=f"wamid.customer{offset_seconds}",
        conversation_key=job.conversation_key,
        account_id=PHONE_NUMBER_ID,
        created_at=datetime.now(UTC) + timedelta(seconds=offset_seconds),
        from_brand=False,
        author={"id": job.recipient_id},
        text="¿Dónde está mi pedido?",
    )


def test_the_desk_events_role_grants_exactly_the_calls_the_desk_events_function_makes(sla_flow: Flow) -> None:
    # Given what the template grants the desk_events function, the response clock on, and a WhatsApp customer's ticket
    flow = sla_flow
    grants = granted("DeskEventsRole")
    calls = AwsCalls(flow)
    calls.webhook(sample("meta-whatsapp-text"))
    calls.process_all()
    [(ticket_id, ticket)] = flow.zendesk.tickets.items()
    # When Zendesk delivers an agent's public comment on it, twice, then the ticket solved and reopened
    event = comment_added(ticket_id=ticket_id, comment_id=1, body="Hola Dana", external_id=ticket["external_id"], tags=tuple(ticket["tags"]))
    solved = {**event, "id": "solved-1", "type": "zen:event-type:ticket.status_changed", "event": {"current": "SOLVED", "previous": "OPEN"}}
    later = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    reopened = {**solved, "id": "reopened-1", "time": later, "event": {"current": "OPEN", "previous": "SOLVED"}}
    with calls.by("DeskEventsRole"):
        assert [flow.desk_webhook(payload) for payload in (event, event, solved, reopened)] == [200] * 4
    # Then each call is granted, and each grant is called
    made = calls.of("DeskEventsRole")
    assert made <= grants, f"called but not granted: {made - grants}"
    assert grants <= made, f"granted but never called: {grants - made}"
    assert calls.unattributed == []


def test_the_sla_check_role_grants_exactly_the_calls_the_sla_check_makes(tmp_path: Path, private_key: str) -> None:
    # Given what the template grants the sla_check function, and rules with an SLA ladder (level 2 alerts)
    grants = granted("SlaCheckRole")
    rules = tmp_path / "socialdesk.toml"
    rules.write_text(RULES + FLOW_SLA)
    with process_stack(rules, private_key) as flow:
        calls = AwsCalls(flow)
        calls.webhook(sample("meta-whatsapp-text"))
        calls.process_all()
        # When the check runs past the breach and past level 2
        assert checks_after_the_message(flow, (16, 26), each=lambda: calls.by("SlaCheckRole")) == [1, 1]
    # Then each call is granted and each grant is called
    made = calls.of("SlaCheckRole")
    assert made <= grants, f"called but not granted: {made - grants}"
    assert grants <= made, f"granted but never called: {grants - made}"
