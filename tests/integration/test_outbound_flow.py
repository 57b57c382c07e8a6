"""The outbound handler as deployed: AWS in moto from the template, Zendesk and the Graph API as HTTP fakes.

A platform's token is read from PlatformSecret at each batch (within the cache time): a stack deployed without it
notes every job as not delivered and raises the alarm's metric, and the first batch after an admin writes the token
sends through the real Graph adapter.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from socialdesk import composition
from socialdesk.aws.sqs import SqsOutboundJobs
from socialdesk.model.event import Platform
from socialdesk.model.outbound import Channel, JobKind, OutboundJob
from socialdesk.platforms.meta_send import GRAPH_API
from tests.support.process_stack import Flow
from tests.support.webhooks import sample

PHONE_NUMBER_ID = "106540352242922"


def acknowledgement(ticket_id: int, name: str) -> OutboundJob:
    return OutboundJob(
        job_id=f"ack:{name}",
        kind=JobKind.ACKNOWLEDGEMENT,
        platform=Platform.WHATSAPP,
        account_id=PHONE_NUMBER_ID,
        conversation_key=f"whatsapp:{PHONE_NUMBER_ID}:chat:{name}",
        channel=Channel.DIRECT_MESSAGE,
        recipient_id="16505551234",
        text="Gracias, hemos recibido tu mensaje. (automático)",
        ticket_id=ticket_id,
    )


def test_without_a_token_the_job_is_noted_not_delivered_and_once_the_token_is_written_it_is_sent(flow: Flow, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a ticket made from a WhatsApp message, and secrets read afresh at every batch
    monkeypatch.setitem(os.environ, "SOCIALDESK_SECRET_CACHE_SECONDS", "0")
    composition.reset()
    flow.webhook(sample("meta-whatsapp-text"))
    flow.process_all()
    [ticket_id] = flow.zendesk.tickets
    jobs = SqsOutboundJobs(flow.aws.resource("OutboundQueue"), lambda: flow.aws.sqs)
    sent: list[dict[str, Any]] = []

    def whatsapp(request: Any) -> tuple[int, dict[str, str], str]:
        sent.append({"body": json.loads(request.body), "authorization": request.headers["Authorization"]})
        return 200, {"content-type": "application/json"}, json.dumps({"messaging_product": "whatsapp", "messages": [{"id": "wamid.ACK1"}]})

    assert flow.http is not None
    flow.http.add_callback("POST", f"{GRAPH_API}/{PHONE_NUMBER_ID}/messages", callback=whatsapp)
    # When an acknowledgement is sent while PlatformSecret holds no WhatsApp token (as after the first deploy)
    jobs.enqueue(acknowledgement(ticket_id, "before-the-token"))
    assert flow.outbound_once() == {"batchItemFailures": []}
    # Then nothing reached WhatsApp, and the agent reads why and what to do
    assert sent == []
    notes = [comment["body"] for comment in flow.zendesk.comments(ticket_id) if not comment["public"]]
    assert any(
        note.startswith(f"Automatic acknowledgement not delivered: PlatformSecret has no whatsapp_tokens[{PHONE_NUMBER_ID}];") for note in notes
    )
    # When an admin writes the token, and the next acknowledgement is sent
    flow.aws.put_secret("PlatformSecret", {"whatsapp_tokens": {PHONE_NUMBER_ID: "EAAGwhatsapp"}})
    jobs.enqueue(acknowledgement(ticket_id, "after-the-token"))
    assert flow.outbound_once() == {"batchItemFailures": []}
    # Then it goes out through the Cloud API with that token, and the ticket says so with the wamid
    assert [call["authorization"] for call in sent] == ["Bearer EAAGwhatsapp"]
    assert sent[0]["body"]["to"] == "16505551234"
    notes = [comment["body"] for comment in flow.zendesk.comments(ticket_id) if not comment["public"]]
    assert f"Automatic acknowledgement sent on WhatsApp as a direct message (message id wamid.ACK1): {acknowledgement(ticket_id, 'x').text}" in notes
