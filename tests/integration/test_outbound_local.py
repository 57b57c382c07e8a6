"""The outbound function on the local stack: the template's OutboundFunction, fed by OutboundQueue, sends to the sandbox
platforms (PlatformSecret holds no token) and writes the truth on the sandbox ticket."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import boto3
import pytest

from socialdesk.aws.sqs import SqsOutboundJobs
from socialdesk.desk.sandbox import load_desk_state
from socialdesk.local.runner import LocalRunner
from socialdesk.local.send import send_event
from socialdesk.model.event import Platform
from socialdesk.model.outbound import Channel, JobKind, OutboundJob
from socialdesk.platforms.sandbox_send import SandboxPlatformState
from socialdesk.sandbox_state import load_state
from socialdesk.store.dynamodb import DynamoDbConversationStore
from tests.support.webhooks import sample

if TYPE_CHECKING:
    pass

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


def test_the_local_stack_runs_the_outbound_function_from_the_template(runner: LocalRunner) -> None:
    # Then the runner found the new function and its queue without being told
    assert "OutboundFunction" in runner.aws.stack.functions
    assert any(source.function.logical_id == "OutboundFunction" for source in runner.sources)


def test_a_customers_message_is_acknowledged_on_the_sandbox_platform_once_and_noted_on_the_ticket(
    runner: LocalRunner, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a Spanish WhatsApp customer's message, through the whole local stack with the shipped rules
    with caplog.at_level(logging.INFO, logger="socialdesk.sandbox"):
        status, _ = send_event(runner.url, sample("meta-whatsapp-text"))
        assert status == 200 and runner.wait_until_idle()
    # Then process's policy queued one acknowledgement, and the outbound function sent it to the sandbox WhatsApp once
    platforms = load_state(runner.sandbox_dir / "platforms.json", SandboxPlatformState)
    [sent] = platforms.sent
    [ticket] = load_desk_state(runner.sandbox_dir / "zendesk.json").tickets.values()
    assert (sent.platform, sent.recipient_id) == ("whatsapp", "16505551234")
    assert sent.job_id.startswith(f"ack:{ticket.external_id}:")
    assert f"#{ticket.id}" in sent.text and sent.text.endswith("Respuesta automática")
    assert any(line.startswith("[sandbox whatsapp] message to 16505551234: ") for line in caplog.messages)
    # And the ticket carries the internal note with the text and the platform's message id, and is tagged
    notes = [comment.body for comment in ticket.comments if not comment.public]
    assert f"Automatic acknowledgement sent on WhatsApp as a direct message (message id {sent.id}): {sent.text}" in notes
    assert "auto_acknowledged" in ticket.tags
    # When the same job is queued again (process retried after a lost answer from SQS)
    job = OutboundJob(
        job_id=sent.job_id,
        kind=JobKind.ACKNOWLEDGEMENT,
        platform=Platform.WHATSAPP,
        account_id="106540352242922",
        conversation_key=ticket.external_id,
        channel=Channel.DIRECT_MESSAGE,
        recipient_id="16505551234",
        text=sent.text,
        ticket_id=ticket.id,
    )
    SqsOutboundJobs(runner.aws.resource("OutboundQueue"), lambda: runner.aws.sqs).enqueue(job)
    assert runner.wait_until_idle()
    # Then nothing more is sent, and its echo would be recognised as ours
    assert len(load_state(runner.sandbox_dir / "platforms.json", SandboxPlatformState).sent) == 1
    store = DynamoDbConversationStore(runner.aws.resource("StateTable"), lambda: boto3.client("dynamodb"))
    assert store.find_sent("whatsapp", sent.id) == sent.job_id
    assert json.loads((runner.sandbox_dir / "platforms.json").read_text())["next_number"] == 2
