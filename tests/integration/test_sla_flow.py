"""The response clock through the real handlers on the virtual clock: webhook → process → due → sla_check → level 1 →
level 2 (reassigned, alert on SlaAlertTopic), and a brand reply typed on the platform that stops it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import boto3
import pytest

from tests.support.log_capture import logged_text
from tests.support.process_stack import RULES, Flow, process_stack
from tests.support.sla_world import FLOW_SLA, checks_after_the_message
from tests.support.webhooks import sample


@pytest.fixture
def sla_flow(tmp_path: Path, private_key: str) -> Iterator[Flow]:
    rules = tmp_path / "socialdesk.toml"
    rules.write_text(RULES + FLOW_SLA)
    with process_stack(rules, private_key) as stack:
        yield stack


def subscribe(flow: Flow) -> str:
    """An SQS queue subscribed to SlaAlertTopic, as a person's e-mail would be: what reaches it is what was alerted."""
    queue: str = flow.aws.sqs.create_queue(QueueName="alert-reader")["QueueUrl"]
    arn = flow.aws.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns").subscribe(TopicArn=flow.aws.resource("SlaAlertTopic"), Protocol="sqs", Endpoint=arn)
    return queue


def alerts(flow: Flow, queue: str) -> list[str]:
    return [json.loads(message["Body"])["Subject"] for message in flow.aws.drain(queue)]


def test_an_unanswered_whatsapp_message_is_escalated_level_by_level_exactly_once(sla_flow: Flow) -> None:
    on_call = subscribe(sla_flow)
    # Given a WhatsApp message turned into a ticket
    sla_flow.webhook(sample("meta-whatsapp-text"))
    sla_flow.process_all()
    [ticket] = sla_flow.zendesk.tickets.values()
    # When the check runs 14 minutes after the message, at 16, again, then at 26 and again
    runs = checks_after_the_message(sla_flow, (14, 16, 16, 26, 26))
    # Then level 1 came at the breach and level 2 ten minutes later, each once
    assert runs == [0, 1, 0, 1, 0]
    assert {"sla_breached", "sla_level_2"} <= set(ticket["tags"])
    assert ticket["priority"] == "high" and ticket["group_id"] == 360000000009
    notes = [comment["body"] for comment in ticket["comments"] if not comment["public"] and comment["body"].startswith("Response SLA")]
    assert len(notes) == 2
    assert alerts(sla_flow, on_call) == [f"SLA level 2: ticket {ticket['id']}"]


def test_a_reply_the_brand_typed_on_facebook_stops_the_clock(sla_flow: Flow) -> None:
    assert sla_flow.clock is not None
    # Given a Facebook comment and the Page's own reply to it, typed on Facebook
    sla_flow.webhook(sample("meta-fb-comment"))
    sla_flow.webhook(sample("meta-fb-page-reply"))
    sla_flow.process_all()
    # When the check runs well past the target
    sla_flow.clock.shift(timedelta(minutes=30))
    # Then nothing is due and the ticket carries no breach
    assert sla_flow.sla_check() == {"ran": True, "due": 0, "escalated": 0, "deferred": 0, "windows_flagged": 0}
    [ticket] = sla_flow.zendesk.tickets.values()
    assert "sla_breached" not in ticket["tags"]


def test_escalations_and_their_alerts_carry_no_phone_number_and_no_message_text(sla_flow: Flow, everything_logged: pytest.LogCaptureFixture) -> None:
    on_call = subscribe(sla_flow)
    # Given a WhatsApp message from +1 650 555 1234, its conversation keyed by that number, and every logger at DEBUG
    sla_flow.webhook(sample("meta-whatsapp-text"))
    sla_flow.process_all()
    # When it is escalated to level 1 and level 2 (an alert)
    assert checks_after_the_message(sla_flow, (16, 26)) == [1, 1]
    # Then no log line, and no alert on the topic, holds the number or the customer's words
    alerts = [message["Body"] for message in sla_flow.aws.drain(on_call)]
    assert len(alerts) == 1
    for text in (logged_text(everything_logged), *alerts):
        assert "16505551234" not in text
        assert "Mi pedido no ha llegado" not in text
