"""Attack on attachments in agents' replies (issue 12: "sent where the platform allows, otherwise a note"): Messenger's
Send API and WhatsApp's Cloud API both take an image by URL (`attachment.payload.url`; `image.link`), so a photo the
agent attaches in Zendesk should reach the customer there rather than be listed as not sent."""

from __future__ import annotations

import json
from typing import Any

import pytest

from socialdesk.platforms.meta_send import GRAPH_API
from tests.integration.test_agent_reply_flow import PAGE, PHONE_NUMBER_ID, agent_comment, notes, ticket_of
from tests.support.process_stack import Flow

PHOTO = "https://acme.zendesk.com/attachments/token/Zx9/?name=label.png"


@pytest.mark.parametrize(
    ("sample_name", "path", "tokens", "answer"),
    [
        ("meta-messenger-message", f"{PAGE}/messages", {"page_tokens": {PAGE: "EAAGpage"}}, {"recipient_id": "1", "message_id": "m_A"}),
        (
            "meta-whatsapp-text",
            f"{PHONE_NUMBER_ID}/messages",
            {"whatsapp_tokens": {PHONE_NUMBER_ID: "EAAGwhatsapp"}},
            {"messages": [{"id": "wamid.A"}]},
        ),
    ],
    ids=["messenger", "whatsapp"],
)
def test_a_photo_the_agent_attaches_reaches_a_chat_that_takes_images_by_url(
    flow: Flow, sample_name: str, path: str, tokens: dict[str, Any], answer: dict[str, Any]
) -> None:
    """Given a Messenger or WhatsApp customer's ticket, when the agent replies with a photo attached, then the platform is
    asked to send the photo by its URL (both APIs take one), and no note says it was not sent."""
    calls: list[dict[str, Any]] = []

    def take(request: Any) -> tuple[int, dict[str, str], str]:
        calls.append(json.loads(request.body))
        return 200, {"content-type": "application/json"}, json.dumps(answer)

    assert flow.http is not None
    flow.http.add_callback("POST", f"{GRAPH_API}/{path}", callback=take)
    ticket_id, ticket = ticket_of(flow, sample_name, tokens)
    assert flow.desk_webhook(agent_comment(ticket_id, ticket, 911, "Here is your return label.", attachment_urls=(PHOTO,))) == 200
    while flow.outbound_once() is not None:
        pass
    assert any(PHOTO in json.dumps(call) for call in calls), calls
    assert not any("not sent" in note and PHOTO in note for note in notes(flow, ticket_id)), notes(flow, ticket_id)
