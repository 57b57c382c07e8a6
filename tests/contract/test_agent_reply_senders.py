"""Agents' replies at the HTTP level: what they add to the calls acknowledgements make (tests/contract/test_*_sender.py),
and the failures that come back for them.

Messenger's tagged message: developers.facebook.com/docs/messenger-platform/reference/send-api (`messaging_type:
"MESSAGE_TAG"`, `tag: "HUMAN_AGENT"`); WhatsApp's template message: the Cloud API messages reference (`type:
"template"`, `template.name`, `template.language.code`); a Facebook comment with a photo by URL: Graph
`/{object-id}/comments` `attachment_url`. Error bodies as Graph returns them (`error.code`, `error.error_data.details`).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import msgspec
import pytest
import responses

from socialdesk.model.event import Platform
from socialdesk.model.outbound import Channel, JobKind, OutboundJob
from socialdesk.platforms.meta_send import GRAPH_API
from socialdesk.ports.outbound import SendRefusedError, SendTokenRejectedError
from tests.contract.test_graph_sender import COMMENT, PAGE, api, job, sender  # noqa: F401 (the fixture)
from tests.contract.test_whatsapp_sender import JOB, URL, error
from tests.contract.test_whatsapp_sender import sender as whatsapp_sender


def agent(platform: Platform, channel: Channel, **changes: object) -> OutboundJob:
    return job(platform, channel, job_id="reply:4014:77", kind=JobKind.AGENT_REPLY, text="Your parcel left today.", **changes)


def test_a_messenger_reply_after_24_hours_carries_the_human_agent_tag(api: responses.RequestsMock) -> None:  # noqa: F811
    """Given a reply the rules tagged HUMAN_AGENT, when sent, then the Send API gets MESSAGE_TAG with the tag, not RESPONSE."""
    api.post(f"{GRAPH_API}/{PAGE}/messages", json={"recipient_id": "6543210987654321", "message_id": "m_agent_1"})
    sent = sender().send(agent(Platform.MESSENGER, Channel.DIRECT_MESSAGE, messaging_tag="HUMAN_AGENT", ticket_id=4014))
    assert sent.platform_message_id == "m_agent_1"
    body = json.loads(api.calls[0].request.body or b"")
    message = {"text": "Your parcel left today.", "metadata": "reply:ticket-4014"}
    assert (body["messaging_type"], body["tag"], body["message"]) == ("MESSAGE_TAG", "HUMAN_AGENT", message)


def test_a_facebook_comment_reply_carries_the_first_attachment_by_url(api: responses.RequestsMock) -> None:  # noqa: F811
    """Given an agent's reply with an attached photo, when it answers a Facebook comment, then the photo goes as attachment_url."""
    api.post(f"{GRAPH_API}/{COMMENT}/comments", json={"id": f"{COMMENT}_2"})
    sender().send(agent(Platform.FACEBOOK, Channel.PUBLIC_REPLY, attachment_urls=("https://acme.zendesk.com/attachments/token/a/?name=label.png",)))
    assert parse_qs(str(api.calls[0].request.body)) == {
        "message": ["Your parcel left today."],
        "attachment_url": ["https://acme.zendesk.com/attachments/token/a/?name=label.png"],
    }


def test_a_whatsapp_template_is_sent_as_a_template_message(api: responses.RequestsMock) -> None:  # noqa: F811
    """Given a job carrying a template (outside the 24-hour window), when sent, then a template message with its language."""
    api.post(URL, json={"messaging_product": "whatsapp", "contacts": [{"wa_id": "16505551234"}], "messages": [{"id": "wamid.TEMPLATE1"}]})
    template_job = msgspec.structs.replace(JOB, kind=JobKind.AGENT_REPLY, template="agent_follow_up", language="en_US")
    assert whatsapp_sender().send(template_job).platform_message_id == "wamid.TEMPLATE1"
    body = json.loads(api.calls[0].request.body or b"")
    assert (body["type"], body["template"], "text" in body) == (
        "template",
        {"name": "agent_follow_up", "language": {"policy": "deterministic", "code": "en_US"}},
        False,
    )


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (132001, "Template name does not exist in the translation", SendRefusedError),
        (131026, "Message undeliverable", SendRefusedError),
        (190, "Error validating access token: Session has expired", SendTokenRejectedError),
    ],
)
def test_a_template_or_reply_refused_by_the_cloud_api_is_final(api: responses.RequestsMock, code: int, message: str, expected: type) -> None:  # noqa: F811
    """Given the Cloud API refusing the template (unknown), the customer (undeliverable) or our token, then no retry, the reason kept."""
    api.post(URL, status=400 if code != 190 else 401, json=error(code, message, message))
    with pytest.raises(expected):
        whatsapp_sender().send(msgspec.structs.replace(JOB, kind=JobKind.AGENT_REPLY, template="agent_follow_up"))


def test_a_second_private_reply_refused_by_graph_is_final(api: responses.RequestsMock) -> None:  # noqa: F811
    """Given Graph's 10900 (a private reply already sent to this comment), when an agent's private reply is sent, then refused."""
    api.post(
        f"{GRAPH_API}/{PAGE}/messages",
        status=400,
        json={"error": {"message": "Activity already replied to", "type": "OAuthException", "code": 10900, "fbtrace_id": "A1"}},
    )
    with pytest.raises(SendRefusedError, match="one per comment"):
        sender().send(agent(Platform.FACEBOOK, Channel.PRIVATE_REPLY))


PHOTO = "https://acme.zendesk.com/attachments/token/a/?name=label.png"
PDF = "https://acme.zendesk.com/attachments/token/b/?name=invoice.pdf"


def test_a_messenger_reply_sends_its_text_then_each_attachment_by_url(api: responses.RequestsMock) -> None:  # noqa: F811
    """Given an agent's Messenger reply with a photo and a PDF, when sent, then three Send API calls in reading order: the
    text, the image, the file, each by URL (developers.facebook.com/docs/messenger-platform/send-messages, "Sending
    Attachments": `message.attachment.type` image/file, `payload.url`), and every message id is ours."""
    for number in (1, 2, 3):
        api.post(f"{GRAPH_API}/{PAGE}/messages", json={"recipient_id": "6543210987654321", "message_id": f"m_{number}"})
    job = agent(Platform.MESSENGER, Channel.DIRECT_MESSAGE, attachment_urls=(PHOTO, PDF))
    sent = sender().send(job)
    bodies = [json.loads(call.request.body or b"") for call in api.calls]
    # (each carries socialdesk's metadata, handed back on its echo: message_echoes' `metadata`)
    ours = f"reply:ticket-{job.ticket_id}"
    assert [body["message"] for body in bodies] == [
        {"text": "Your parcel left today.", "metadata": ours},
        {"attachment": {"type": "image", "payload": {"url": PHOTO, "is_reusable": False}}, "metadata": ours},
        {"attachment": {"type": "file", "payload": {"url": PDF, "is_reusable": False}}, "metadata": ours},
    ]
    assert {body["messaging_type"] for body in bodies} == {"RESPONSE"}
    assert (sent.platform_message_id, sent.more_message_ids, sent.unsent) == ("m_1", ("m_2", "m_3"), ())


def test_a_whatsapp_reply_of_only_a_photo_sends_the_image_and_no_empty_text(api: responses.RequestsMock) -> None:  # noqa: F811
    """Given an agent's WhatsApp reply that is only a photo, when sent, then one image message by link (Cloud API
    developers.facebook.com/docs/whatsapp/cloud-api/messages/image-messages: `type: "image"`, `image.link`), no text."""
    api.post(URL, json={"messaging_product": "whatsapp", "contacts": [{"wa_id": "16505551234"}], "messages": [{"id": "wamid.IMG1"}]})
    photo_only = msgspec.structs.replace(JOB, kind=JobKind.AGENT_REPLY, text="", attachment_urls=(PHOTO,))
    assert whatsapp_sender().send(photo_only).platform_message_id == "wamid.IMG1"
    [call] = api.calls
    body = json.loads(call.request.body or b"")
    assert (body["type"], body["image"], "text" in body) == ("image", {"link": PHOTO}, False)


def test_an_attachment_refused_after_the_text_went_leaves_the_reply_sent_and_names_it(api: responses.RequestsMock) -> None:  # noqa: F811
    """Given WhatsApp takes the text and refuses the document after it, when sent, then the reply counts as sent (the
    customer has the text) and the refused attachment is named with Graph's reason, never resent."""
    api.post(URL, json={"messaging_product": "whatsapp", "contacts": [{"wa_id": "16505551234"}], "messages": [{"id": "wamid.TXT1"}]})
    api.post(URL, status=400, json=error(131053, "(#131053) Media upload error", "Unable to download the media from the link"))
    sent = whatsapp_sender().send(msgspec.structs.replace(JOB, kind=JobKind.AGENT_REPLY, attachment_urls=(PDF, PHOTO)))
    bodies = [json.loads(call.request.body or b"") for call in api.calls]
    assert [body["type"] for body in bodies] == ["text", "document"]
    assert bodies[1]["document"] == {"link": PDF, "filename": "invoice.pdf"}
    assert sent.platform_message_id == "wamid.TXT1" and sent.unsent[0].startswith(PDF) and sent.unsent[1:] == (PHOTO,)
