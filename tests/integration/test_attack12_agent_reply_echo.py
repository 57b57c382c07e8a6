"""Attacks on "exactly once" for agents' replies (issue 12): an echo that outruns the send's answer, and one comment delivered
under two Zendesk event ids. The whole deployed path: moto from the template, Zendesk and the Graph API as HTTP fakes."""

from __future__ import annotations

import json
from typing import Any

from socialdesk.platforms.meta_send import GRAPH_API
from tests.integration.test_agent_reply_flow import PAGE, agent_comment, notes, ticket_of
from tests.support.process_stack import Flow
from tests.support.webhooks import meta_post, sample_body, to_bytes


class EchoingGraph:
    """Meta's Send API as it behaves in production: the `message_echoes` webhook for the message is delivered (and processed)
    while the send call is still waiting for its answer: Meta documents no order between the two."""

    def __init__(self, flow: Flow, text: str) -> None:
        self.calls: list[dict[str, Any]] = []
        self._flow = flow
        self._text = text
        assert flow.http is not None
        flow.http.add_callback("POST", f"{GRAPH_API}/{PAGE}/messages", callback=self._call)

    def _call(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls.append(json.loads(request.body))
        message_id = f"m_AGENT{len(self.calls)}"
        echo = sample_body("meta-messenger-echo")
        echo["entry"][0]["messaging"][0]["message"].update(mid=message_id, text=self._text)
        self._flow.webhook(meta_post(to_bytes(echo)))
        self._flow.process_all()
        return 200, {"content-type": "application/json"}, json.dumps({"recipient_id": "6789012345678901", "message_id": message_id})


def test_the_echo_of_our_reply_arriving_before_metas_answer_adds_no_comment(flow: Flow) -> None:
    """Given a Messenger ticket, when the agent's reply is sent and Meta's echo of it is processed before the Send API's
    answer reaches outbound (the echo outruns the answer), then the ticket gets only outbound's "Agent reply sent" note:
    no "brand replied" comment for our own reply."""
    text = "We have found your order."
    graph = EchoingGraph(flow, text)
    ticket_id, ticket = ticket_of(flow, "meta-messenger-message", {"page_tokens": {PAGE: "EAAGpage"}})
    before = len(flow.zendesk.comments(ticket_id))
    assert flow.desk_webhook(agent_comment(ticket_id, ticket, 902, text)) == 200
    while flow.outbound_once() is not None:
        pass
    flow.process_all()
    assert len(graph.calls) == 1
    added = [comment["body"] for comment in flow.zendesk.comments(ticket_id)[before:]]
    assert list(flow.zendesk.tickets) == [ticket_id]
    assert added == [f"Agent reply sent on Messenger as a direct message (message id m_AGENT1): {text}"], added


def test_one_comment_delivered_under_two_event_ids_is_sent_once(flow: Flow) -> None:
    """Given two Zendesk webhooks subscribed to the same events (an admin ran step 9 twice), when both deliver the agent's
    one comment, each under its own event id, then the customer receives it once and the ticket gets one note."""
    graph = EchoingGraph.__new__(EchoingGraph)  # a plain Graph that does not echo
    graph.calls = []
    assert flow.http is not None

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        graph.calls.append(json.loads(request.body))
        return 200, {"content-type": "application/json"}, json.dumps({"recipient_id": "6789012345678901", "message_id": f"m_AGENT{len(graph.calls)}"})

    flow.http.add_callback("POST", f"{GRAPH_API}/{PAGE}/messages", callback=answer)
    ticket_id, ticket = ticket_of(flow, "meta-messenger-message", {"page_tokens": {PAGE: "EAAGpage"}})
    for event_id in ("01HZZZWEBHOOKAEVENT000000001", "01HZZZWEBHOOKBEVENT000000001"):
        assert flow.desk_webhook(agent_comment(ticket_id, ticket, 907, "Your refund is on its way.", event_id=event_id)) == 200
    while flow.outbound_once() is not None:
        pass
    assert [call["message"]["text"] for call in graph.calls] == ["Your refund is on its way."]
    assert len([note for note in notes(flow, ticket_id) if note.startswith("Agent reply")]) == 1


def test_a_whatsapp_reply_that_failed_later_leaves_the_customer_waiting(flow: Flow) -> None:
    """Given an agent's WhatsApp reply the Cloud API took (wamid.AGENT1), when a `statuses` webhook later says it was never
    delivered (131047), then the conversation is waiting for an answer again: the response clock must not stay stopped by
    a reply the customer never received."""
    from socialdesk.composition import clients
    from socialdesk.store.dynamodb import DynamoDbConversationStore
    from tests.integration.test_agent_reply_flow import PHONE_NUMBER_ID, Graph

    Graph(flow, f"{PHONE_NUMBER_ID}/messages", "wamid.AGENT")
    ticket_id, ticket = ticket_of(flow, "meta-whatsapp-text", {"whatsapp_tokens": {PHONE_NUMBER_ID: "EAAGwhatsapp"}})
    assert flow.desk_webhook(agent_comment(ticket_id, ticket, 908, "Your parcel left today.")) == 200
    while flow.outbound_once() is not None:
        pass
    store = DynamoDbConversationStore(flow.aws.resource("StateTable"), clients.dynamodb)
    answered = store.conversation(ticket["external_id"])
    assert answered is not None and answered.activity.waiting_since is None
    status = sample_body("meta-whatsapp-status-failed")
    status["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = "wamid.AGENT1"
    flow.webhook(meta_post(to_bytes(status)))
    flow.process_all()
    assert any("131047" in note for note in notes(flow, ticket_id))
    after = store.conversation(ticket["external_id"])
    assert after is not None and after.activity.waiting_since is not None, "the clock stays stopped by an undelivered reply"


def test_a_blocked_customer_makes_a_note_and_leaves_the_clock_running(flow: Flow) -> None:
    """Given a Messenger customer who blocked the Page (Send API 400, code 551 "This person isn't available right now"),
    when the agent replies, then one call, a note that it was not delivered, and the conversation still waiting."""
    from socialdesk.composition import clients
    from socialdesk.store.dynamodb import DynamoDbConversationStore

    calls: list[dict[str, Any]] = []

    def refuse(request: Any) -> tuple[int, dict[str, str], str]:
        calls.append(json.loads(request.body))
        error = {"message": "(#551) This person isn't available right now.", "type": "OAuthException", "code": 551, "fbtrace_id": "A1"}
        return 400, {"content-type": "application/json"}, json.dumps({"error": error})

    assert flow.http is not None
    flow.http.add_callback("POST", f"{GRAPH_API}/{PAGE}/messages", callback=refuse)
    ticket_id, ticket = ticket_of(flow, "meta-messenger-message", {"page_tokens": {PAGE: "EAAGpage"}})
    assert flow.desk_webhook(agent_comment(ticket_id, ticket, 909, "Are you still there?")) == 200
    while flow.outbound_once() is not None:
        pass
    assert len(calls) == 1
    [note] = [note for note in notes(flow, ticket_id) if note.startswith("Agent reply")]
    assert note.startswith("Agent reply not delivered on Messenger") and note.endswith("Not sent: Are you still there?")
    conversation = DynamoDbConversationStore(flow.aws.resource("StateTable"), clients.dynamodb).conversation(ticket["external_id"])
    assert conversation is not None and conversation.activity.waiting_since is not None


def test_the_messaging_window_is_shown_on_the_ticket_before_the_agent_writes(flow: Flow) -> None:
    """Given a WhatsApp customer's new ticket, when the agent opens it (before writing anything), then the ticket says until
    when the 24-hour window is open (a note, a tag or a field), as issue 12 asks."""
    ticket_id, ticket = ticket_of(flow, "meta-whatsapp-text", {"whatsapp_tokens": {"106540352242922": "EAAGwhatsapp"}})
    shown = [*flow.zendesk.tickets[ticket_id].get("tags", ()), *notes(flow, ticket_id), json.dumps(ticket.get("custom_fields", []))]
    assert any("window" in str(item).lower() for item in shown), shown
