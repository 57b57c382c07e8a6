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


def test_a_job_rate_limited_more_times_than_the_dead_letter_limit_still_waits_and_is_sent_once(flow: Flow) -> None:
    # Given WhatsApp answering the pair rate limit (131056: nothing sent) 12 times, more than OutboundQueue's
    # maxReceiveCount of 10, then taking the message
    flow.aws.put_secret("PlatformSecret", {"whatsapp_tokens": {PHONE_NUMBER_ID: "EAAGwhatsapp"}})
    flow.webhook(sample("meta-whatsapp-text"))
    flow.process_all()
    [ticket_id] = flow.zendesk.tickets
    limited = {"error": {"message": "(#131056) (Business Account, Consumer Account) pair rate limit hit", "type": "OAuthException", "code": 131056}}
    answers = iter([(400, limited)] * 12 + [(200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.AFTERWAIT"}]})])
    calls: list[int] = []

    def whatsapp(request: Any) -> tuple[int, dict[str, str], str]:
        status, body = next(answers)
        calls.append(status)
        return status, {"content-type": "application/json"}, json.dumps(body)

    assert flow.http is not None and flow.clock is not None
    flow.http.add_callback("POST", f"{GRAPH_API}/{PHONE_NUMBER_ID}/messages", callback=whatsapp)
    queue = flow.aws.resource("OutboundQueue")
    # (the copies a wait queues again are made visible at once, and the virtual clock moves past each wait)
    composition.clients.sqs().meta.events.register(
        "before-parameter-build.sqs.SendMessage", lambda params, **_: params.update(DelaySeconds=0) if params.get("QueueUrl") == queue else None
    )
    SqsOutboundJobs(queue, lambda: flow.aws.sqs).enqueue(acknowledgement(ticket_id, "pair-rate"))
    # When outbound takes the job again after each wait
    for _ in range(20):
        if flow.outbound_once() is None:
            break
        flow.clock.shift(61)
    # Then it was sent once, after the 12 waits, never dead-lettered, and the ticket says it was sent
    assert calls == [400] * 12 + [200]
    assert flow.aws.drain(flow.aws.resource("OutboundDeadLetterQueue")) == []
    notes = [comment["body"] for comment in flow.zendesk.comments(ticket_id) if not comment["public"]]
    assert sum("sent on WhatsApp" in note and "wamid.AFTERWAIT" in note for note in notes) == 1
