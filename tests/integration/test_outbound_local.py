"""The outbound function on the local stack: the template's OutboundFunction, fed by OutboundQueue, sends to the sandbox
platforms (PlatformSecret holds no token) and writes the truth on the sandbox ticket."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest

from socialdesk.aws.sqs import SqsOutboundJobs
from socialdesk.desk.sandbox import load_desk_state
from socialdesk.devtools.local_aws import TEMPLATE
from socialdesk.local.gateway import free_port
from socialdesk.local.runner import LocalRunner, RunnerOptions
from socialdesk.local.send import send_event
from socialdesk.model.event import Platform
from socialdesk.model.outbound import Channel, JobKind, OutboundJob
from socialdesk.platforms.sandbox_send import SandboxPlatformState
from socialdesk.sandbox_state import load_state
from socialdesk.store.dynamodb import DynamoDbConversationStore
from tests.support.webhooks import sample

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalRunner]:
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with LocalRunner(RunnerOptions(template=TEMPLATE, port=free_port(), state_dir=tmp_path / "state")) as running:
        yield running


def test_the_local_stack_runs_the_outbound_function_from_the_template(runner: LocalRunner) -> None:
    # Then the runner found the new function and its queue without being told
    assert "OutboundFunction" in runner.aws.stack.functions
    assert any(source.function.logical_id == "OutboundFunction" for source in runner.sources)


def test_a_queued_acknowledgement_reaches_the_sandbox_platform_once_and_is_noted_on_the_ticket(
    runner: LocalRunner, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a WhatsApp customer's message made a sandbox ticket
    status, _ = send_event(runner.url, sample("meta-whatsapp-text"))
    assert status == 200 and runner.wait_until_idle()
    [ticket] = load_desk_state(runner.sandbox_dir / "zendesk.json").tickets.values()
    # When process's acknowledgement policy queues an acknowledgement for it, twice (a retry after a lost answer)
    job = OutboundJob(
        job_id=f"ack:{ticket.external_id}:1764871200",
        kind=JobKind.ACKNOWLEDGEMENT,
        platform=Platform.WHATSAPP,
        account_id="106540352242922",
        conversation_key=ticket.external_id,
        channel=Channel.DIRECT_MESSAGE,
        recipient_id="16505551234",
        text="Gracias, hemos recibido tu mensaje. (respuesta automática)",
        ticket_id=ticket.id,
    )
    jobs = SqsOutboundJobs(runner.aws.resource("OutboundQueue"), lambda: runner.aws.sqs)
    with caplog.at_level(logging.INFO, logger="socialdesk.sandbox"):
        jobs.enqueue(job)
        jobs.enqueue(job)
        assert runner.wait_until_idle()
    # Then the sandbox WhatsApp got it once, said so, and the ticket carries the internal note (beside the acknowledgement
    # process's own policy queued for her message, a job of its own)
    platforms = load_state(runner.sandbox_dir / "platforms.json", SandboxPlatformState)
    [policy_ack] = [found for found in platforms.sent if found.job_id != job.job_id]
    assert policy_ack.recipient_id == "16505551234"
    [sent] = [found for found in platforms.sent if found.job_id == job.job_id]
    assert (sent.platform, sent.recipient_id, sent.text, sent.job_id) == ("whatsapp", "16505551234", job.text, job.job_id)
    assert '[sandbox whatsapp] message to 16505551234: "Gracias, hemos recibido tu mensaje. (respuesta automática)"' in caplog.messages
    [ticket] = load_desk_state(runner.sandbox_dir / "zendesk.json").tickets.values()
    notes = [comment.body for comment in ticket.comments if not comment.public]
    assert f"Automatic acknowledgement sent on WhatsApp as a direct message (message id {sent.id}): {job.text}" in notes
    # And its echo would be recognised as ours
    store = DynamoDbConversationStore(runner.aws.resource("StateTable"), lambda: boto3.client("dynamodb"))
    assert store.find_sent("whatsapp", sent.id) == job.job_id
    assert json.loads((runner.sandbox_dir / "platforms.json").read_text())["next_number"] == 3
