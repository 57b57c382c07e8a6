"""An agent's public comment in Zendesk reaches the customer on the platform: the whole path as deployed.

Webhook → ingest → process (ticket, conversation) → Zendesk's signed event → desk_events → OutboundQueue → outbound →
the Graph API (an HTTP fake) → a note on the ticket. AWS in moto from the template, Zendesk as its HTTP fake.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from socialdesk.composition import clients
from socialdesk.devtools.zendesk_events import comment_added
from socialdesk.platforms.meta_send import GRAPH_API
from socialdesk.store.dynamodb import DynamoDbConversationStore
from tests.support.log_capture import logged_text
from tests.support.process_stack import Flow
from tests.support.webhooks import meta_post, sample, sample_body, to_bytes

PAGE = "448242228374517"
PHONE_NUMBER_ID = "106540352242922"


class Graph:
    """The Graph API's send endpoints: each call recorded, each answered with a new message id."""

    def __init__(self, flow: Flow, path: str, answer: str) -> None:
        self.calls: list[dict[str, Any]] = []
        self._answer = answer
        assert flow.http is not None
        flow.http.add_callback("POST", f"{GRAPH_API}/{path}", callback=self._call)

    def _call(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls.append(json.loads(request.body))
        message_id = f"{self._answer}{len(self.calls)}"
        body = (
            {"messages": [{"id": message_id}]} if self._answer.startswith("wamid") else {"recipient_id": "6789012345678901", "message_id": message_id}
        )
        return 200, {"content-type": "application/json"}, json.dumps(body)


def ticket_of(flow: Flow, sample_name: str, tokens: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    flow.aws.put_secret("PlatformSecret", tokens)
    flow.webhook(sample(sample_name))
    flow.process_all()
    while flow.outbound_once() is not None:  # the automatic acknowledgement, if the rules send one (these do not)
        pass
    [(ticket_id, ticket)] = flow.zendesk.tickets.items()
    return ticket_id, ticket


def agent_comment(ticket_id: int, ticket: dict[str, Any], comment_id: int, body: str, **changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "ticket_id": ticket_id,
        "comment_id": comment_id,
        "body": body,
        "external_id": ticket["external_id"],
        "tags": tuple(ticket["tags"]),
    }
    return comment_added(**{**fields, **changes})


def notes(flow: Flow, ticket_id: int) -> list[str]:
    return [comment["body"] for comment in flow.zendesk.comments(ticket_id) if not comment["public"]]


def test_an_agents_comment_delivered_three_times_reaches_the_customer_once_and_the_ticket_says_so(
    flow: Flow,
    everything_logged: pytest.LogCaptureFixture,
) -> None:
    """Given a WhatsApp customer's ticket, when Zendesk delivers the agent's public comment three times, then one WhatsApp call,
    one note naming the wamid, the conversation answered, and the reply's text in no log line."""
    graph = Graph(flow, f"{PHONE_NUMBER_ID}/messages", "wamid.AGENT")
    ticket_id, ticket = ticket_of(flow, "meta-whatsapp-text", {"whatsapp_tokens": {PHONE_NUMBER_ID: "EAAGwhatsapp"}})
    event = agent_comment(ticket_id, ticket, 901, "Your parcel left our warehouse today.")
    assert [flow.desk_webhook(event) for _ in range(3)] == [200, 200, 200]
    while flow.outbound_once() is not None:
        pass
    assert [(call["type"], call["text"]["body"]) for call in graph.calls] == [("text", "Your parcel left our warehouse today.")]
    assert [note for note in notes(flow, ticket_id) if note.startswith("Agent reply")] == [
        "Agent reply sent on WhatsApp as a direct message (message id wamid.AGENT1): Your parcel left our warehouse today."
    ]
    conversation = DynamoDbConversationStore(flow.aws.resource("StateTable"), clients.dynamodb).conversation(ticket["external_id"])
    assert conversation is not None and conversation.activity.waiting_since is None and conversation.activity.last_brand_at is not None
    logged = logged_text(everything_logged)
    assert "desk event handled" in logged and "Your parcel left" not in logged


def test_the_echo_of_our_reply_adds_no_comment_and_no_ticket(flow: Flow) -> None:
    """Given an agent's Messenger reply sent as m_AGENT1, when Meta echoes it back, then no comment, no note, no new ticket."""
    graph = Graph(flow, f"{PAGE}/messages", "m_AGENT")
    ticket_id, ticket = ticket_of(flow, "meta-messenger-message", {"page_tokens": {PAGE: "EAAGpage"}})
    assert flow.desk_webhook(agent_comment(ticket_id, ticket, 902, "We have found your order.")) == 200
    while flow.outbound_once() is not None:
        pass
    assert len(graph.calls) == 1 and graph.calls[0]["messaging_type"] == "RESPONSE"
    comments_before = len(flow.zendesk.comments(ticket_id))
    echo = sample_body("meta-messenger-echo")
    echo["entry"][0]["messaging"][0]["message"].update(mid="m_AGENT1", text="We have found your order.")
    flow.webhook(meta_post(to_bytes(echo)))
    flow.process_all()
    assert list(flow.zendesk.tickets) == [ticket_id]
    assert len(flow.zendesk.comments(ticket_id)) == comments_before


def test_outside_whatsapps_window_the_agent_gets_a_note_and_nothing_is_sent(flow: Flow) -> None:
    """Given a WhatsApp customer who wrote 25 hours ago and no template configured, when the agent replies, then a note, no call."""
    graph = Graph(flow, f"{PHONE_NUMBER_ID}/messages", "wamid.AGENT")
    ticket_id, ticket = ticket_of(flow, "meta-whatsapp-text", {"whatsapp_tokens": {PHONE_NUMBER_ID: "EAAGwhatsapp"}})
    assert flow.clock is not None
    flow.clock.shift(timedelta(hours=25))
    assert flow.desk_webhook(agent_comment(ticket_id, ticket, 903, "Sorry for the wait!")) == 200
    while flow.outbound_once() is not None:
        pass
    assert graph.calls == []
    [note] = [note for note in notes(flow, ticket_id) if note.startswith("Agent reply")]
    assert "outside WhatsApp's 24-hour window" in note and note.endswith("Not sent: Sorry for the wait!")


def test_a_second_private_reply_to_one_comment_is_refused_with_a_note(flow: Flow) -> None:
    """Given a Facebook comment's ticket tagged socialdesk_private, when the agent replies twice, then one private reply, one note."""
    graph = Graph(flow, f"{PAGE}/messages", "m_PRIVATE")
    ticket_id, ticket = ticket_of(flow, "meta-fb-comment", {"page_tokens": {PAGE: "EAAGpage"}})
    tags = (*ticket["tags"], "socialdesk_private")
    for comment_id, text in ((904, "I sent you a message."), (905, "Did you see my message?")):
        assert flow.desk_webhook(agent_comment(ticket_id, ticket, comment_id, text, tags=tags)) == 200
        while flow.outbound_once() is not None:
            pass
    assert [call["message"]["text"] for call in graph.calls] == ["I sent you a message."]
    assert "recipient" in graph.calls[0] and "comment_id" in graph.calls[0]["recipient"]
    agent_notes = [note for note in notes(flow, ticket_id) if note.startswith("Agent reply")]
    assert len(agent_notes) == 2 and "a private reply to this comment was already sent" in agent_notes[1]


def test_a_reply_whatsapp_fails_later_becomes_a_note_naming_the_agents_reply(flow: Flow) -> None:
    """Given an agent's WhatsApp reply the Cloud API took as wamid.AGENT1, when a `statuses` webhook later says it failed
    with 131047, then the ticket gets a warning note naming that reply's job, and no customer comment."""
    Graph(flow, f"{PHONE_NUMBER_ID}/messages", "wamid.AGENT")
    ticket_id, ticket = ticket_of(flow, "meta-whatsapp-text", {"whatsapp_tokens": {PHONE_NUMBER_ID: "EAAGwhatsapp"}})
    assert flow.desk_webhook(agent_comment(ticket_id, ticket, 906, "Your parcel left today.")) == 200
    while flow.outbound_once() is not None:
        pass
    public_before = [comment for comment in flow.zendesk.comments(ticket_id) if comment["public"]]
    status = sample_body("meta-whatsapp-status-failed")
    status["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = "wamid.AGENT1"
    flow.webhook(meta_post(to_bytes(status)))
    flow.process_all()
    warning = [note for note in notes(flow, ticket_id) if "131047" in note]
    assert len(warning) == 1 and f"(job reply:{ticket_id}:906) was not delivered (131047" in warning[0]
    assert [comment for comment in flow.zendesk.comments(ticket_id) if comment["public"]] == public_before
