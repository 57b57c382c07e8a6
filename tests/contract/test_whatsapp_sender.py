"""The WhatsApp sender at the HTTP level: a Cloud API text message, and its error codes.

Error bodies as the Cloud API returns them (`error.code`, `error.error_data.details`: the codes and texts as in
`david-lev/pywa` `pywa/errors.py`, which mirrors Meta's table).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import msgspec
import pytest
import responses

from socialdesk.model.event import Platform
from socialdesk.model.outbound import Channel, JobKind, OutboundJob
from socialdesk.platforms.meta_send import GRAPH_API, WhatsAppSender
from socialdesk.platforms.send_http import platform_session
from socialdesk.ports.outbound import SendRateLimitedError, SendRefusedError, SendTokenRejectedError

PHONE_NUMBER_ID = "106540352242922"
URL = f"{GRAPH_API}/{PHONE_NUMBER_ID}/messages"
JOB = OutboundJob(
    job_id="ack:whatsapp:16505551234:1764871200",
    kind=JobKind.ACKNOWLEDGEMENT,
    platform=Platform.WHATSAPP,
    account_id=PHONE_NUMBER_ID,
    conversation_key=f"whatsapp:{PHONE_NUMBER_ID}:chat:16505551234",
    channel=Channel.DIRECT_MESSAGE,
    recipient_id="16505551234",
    text="Thanks, we have your message. (automated)",
)


def error(code: int, message: str, details: str) -> dict[str, object]:
    return {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "AazKDDpeUXxIdSSqsXOhQm8",
        }
    }


PAIR_RATE_DETAILS = " ".join(
    ["Message failed to send because there were too many messages sent from this phone number", "to the same phone number in a short period of time."]
)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def sender() -> WhatsAppSender:
    return WhatsAppSender("EAAGwhatsapptoken", platform_session(5))


def test_a_text_message_is_sent_from_the_brands_number_and_its_wamid_kept(api: responses.RequestsMock) -> None:
    api.post(
        URL,
        json={
            "messaging_product": "whatsapp",
            "contacts": [{"input": "16505551234", "wa_id": "16505551234"}],
            "messages": [{"id": "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"}],
        },
    )
    sent = sender().send(JOB)
    assert sent.platform_message_id == "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
    assert json.loads(api.calls[0].request.body or b"") == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "16505551234",
        "type": "text",
        "text": {"preview_url": False, "body": JOB.text},
    }


def test_outside_the_window_the_configured_template_is_sent_in_the_customers_language(api: responses.RequestsMock) -> None:
    # Given a job for a customer who wrote over 24 hours ago, with the rules' template (type "template", template.name,
    # language.code: whatsapp.github.io/WhatsApp-Nodejs-SDK/api-reference/types/TemplateObject)
    api.post(
        URL, json={"messaging_product": "whatsapp", "contacts": [{"input": "16505551234", "wa_id": "16505551234"}], "messages": [{"id": "wamid.TPL"}]}
    )
    job = msgspec.structs.replace(JOB, template="ticket_received", language="es")
    # When it is sent
    sent = sender().send(job)
    # Then the template goes, not our free text, and its wamid is kept
    assert sent.platform_message_id == "wamid.TPL"
    assert json.loads(api.calls[0].request.body or b"") == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "16505551234",
        "type": "template",
        "template": {"name": "ticket_received", "language": {"policy": "deterministic", "code": "es"}},
    }


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (132001, "(#132001) Template name does not exist in the translation"),
        (132000, "(#132000) Number of parameters does not match the expected number of params"),
        (132015, "(#132015) Template is Paused"),
        (132016, "(#132016) Template is Disabled"),
    ],
)
def test_a_template_the_platform_does_not_take_is_refused_for_good_saying_what_to_check(api: responses.RequestsMock, code: int, message: str) -> None:
    api.post(URL, status=400, json=error(code, message, "template error"))
    with pytest.raises(SendRefusedError) as refused:
        sender().send(msgspec.structs.replace(JOB, template="ticket_received", language="ko"))
    assert str(code) in refused.value.reason and "template" in refused.value.reason


def test_outside_the_24_hour_window_is_refused_for_good(api: responses.RequestsMock) -> None:
    api.post(
        URL,
        status=400,
        json=error(
            131047,
            "(#131047) Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
        ),
    )
    with pytest.raises(SendRefusedError) as refused:
        sender().send(JOB)
    assert "131047" in refused.value.reason


def test_an_undeliverable_number_is_refused_for_good(api: responses.RequestsMock) -> None:
    api.post(URL, status=400, json=error(131026, "(#131026) Message undeliverable", "Message Undeliverable."))
    with pytest.raises(SendRefusedError) as refused:
        sender().send(JOB)
    assert "131026" in refused.value.reason


@pytest.mark.parametrize(
    ("code", "message", "details"),
    [
        (
            131056,
            "(#131056) (Business Account, Consumer Account) pair rate limit hit",
            PAIR_RATE_DETAILS,
        ),
        (130429, "(#130429) Rate limit hit", "Cloud API message throughput has been reached."),
    ],
)
def test_pair_rate_and_throughput_limits_are_waits(api: responses.RequestsMock, code: int, message: str, details: str) -> None:
    api.post(URL, status=400, json=error(code, message, details))
    with pytest.raises(SendRateLimitedError) as limited:
        sender().send(JOB)
    assert limited.value.retry_after >= 6  # the pair rate allows about one message per 6 s to one customer


def test_an_invalid_token_is_code_190(api: responses.RequestsMock) -> None:
    api.post(
        URL,
        status=401,
        json={
            "error": {
                "message": "Error validating access token: The session has been invalidated because the user changed their password.",
                "type": "OAuthException",
                "code": 190,
                "error_subcode": 460,
                "fbtrace_id": "x",
            }
        },
    )
    with pytest.raises(SendTokenRejectedError):
        sender().send(JOB)
