"""Attack on "an optional delay that is cancelled if a person answered meanwhile" (issue 10) where the person is an agent
answering in Zendesk (issue 12), through the deployed path: process queues the acknowledgement late, desk_events and
outbound deliver the agent's reply first, then the delayed acknowledgement comes due."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from socialdesk.platforms.meta_send import GRAPH_API
from tests.integration.test_acknowledgement_flow import held_back_jobs, shipped_acknowledgement, stack_with_outbound
from tests.integration.test_agent_reply_flow import PHONE_NUMBER_ID, agent_comment, notes
from tests.support.webhooks import sample


def test_a_delayed_acknowledgement_is_not_sent_after_an_agent_answered_from_zendesk_meanwhile(tmp_path: Path, private_key: str) -> None:
    """Given WhatsApp acknowledgements delayed by two minutes,
    When a customer writes, and 30 seconds later an agent answers in Zendesk and WhatsApp accepts the reply,
    And the acknowledgement then comes due,
    Then WhatsApp received only the agent's reply (the customer never gets "a person will answer" after a person did),
    and the ticket says the acknowledgement was cancelled because a person answered first."""
    rules = shipped_acknowledgement().replace("window_hours = 24 ", "delay_seconds = 120\nwindow_hours = 24 ")
    sent: list[dict[str, Any]] = []

    def whatsapp(request: Any) -> tuple[int, dict[str, str], str]:
        sent.append(json.loads(request.body))
        return 200, {"content-type": "application/json"}, json.dumps({"messages": [{"id": f"wamid.SENT{len(sent)}"}]})

    with stack_with_outbound(tmp_path, private_key, acknowledgement=rules) as (flow, _):
        flow.aws.put_secret("PlatformSecret", {"whatsapp_tokens": {PHONE_NUMBER_ID: "EAAGwhatsapp"}})
        assert flow.http is not None and flow.clock is not None
        flow.http.add_callback("POST", f"{GRAPH_API}/{PHONE_NUMBER_ID}/messages", callback=whatsapp)
        delays = held_back_jobs(flow)
        flow.webhook(sample("meta-whatsapp-text"))
        flow.process_all()
        assert delays == [120]
        # The acknowledgement is not visible for two minutes: hold it as SQS would.
        queue = flow.aws.resource("OutboundQueue")
        held = flow.aws.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=3600)["Messages"]
        assert len(held) == 1
        [(ticket_id, ticket)] = flow.zendesk.tickets.items()
        flow.clock.shift(30)
        assert flow.desk_webhook(agent_comment(ticket_id, ticket, 9101, "Your parcel left today.")) == 200
        while flow.outbound_once() is not None:
            pass
        assert [call.get("text", {}).get("body") for call in sent] == ["Your parcel left today."]
        flow.clock.shift(90)
        for message in held:
            flow.aws.sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
        while flow.outbound_once() is not None:
            pass
        assert [call.get("text", {}).get("body") for call in sent] == ["Your parcel left today."]
        assert any(
            note.startswith("Automatic acknowledgement not sent on WhatsApp: a person answered the conversation first")
            for note in notes(flow, ticket_id)
        )
