"""Which sender sends a job: the platform's API with PlatformSecret's token; without one, the sandbox locally, or a
"no token" refusal in a deployed stack."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import msgspec
import pytest

from socialdesk.model.event import Platform
from socialdesk.model.outbound import Channel, JobKind, OutboundJob
from socialdesk.platforms.meta_send import GraphSender, WhatsAppSender
from socialdesk.platforms.sandbox_send import SandboxPlatforms, SandboxPlatformState
from socialdesk.platforms.send_http import platform_session
from socialdesk.platforms.senders import PlatformSenders, PlatformTokens
from socialdesk.platforms.x_send import XSender
from socialdesk.ports.outbound import SendRefusedError, SendTokenRejectedError
from socialdesk.sandbox_state import load_state

PAGE, PHONE = "448242228374517", "106540352242922"
FULL = {
    "x_api_key": "ck",
    "x_api_secret": "cs",
    "x_access_token": "1700-tok",
    "x_access_token_secret": "ts",
    "page_tokens": {PAGE: "EAAGpage"},
    "instagram_token": "IGtoken",
    "whatsapp_tokens": json.dumps({PHONE: "EAAGwa"}),  # a map may also be stored as a string holding JSON
}


def job(platform: Platform, account_id: str, channel: Channel = Channel.DIRECT_MESSAGE, reply_to_id: str | None = None) -> OutboundJob:
    return OutboundJob(
        job_id=f"ack:{platform}:1",
        kind=JobKind.ACKNOWLEDGEMENT,
        platform=platform,
        account_id=account_id,
        conversation_key=f"{platform}:{account_id}:chat:1",
        channel=channel,
        recipient_id="16505551234",
        reply_to_id=reply_to_id,
        text="Thanks! (automated)",
    )


@pytest.mark.parametrize(
    ("platform", "account", "kind"),
    [
        (Platform.X, "1700", XSender),
        (Platform.FACEBOOK, PAGE, GraphSender),
        (Platform.MESSENGER, PAGE, GraphSender),
        (Platform.INSTAGRAM, "17841400000000000", GraphSender),
        (Platform.WHATSAPP, PHONE, WhatsAppSender),
    ],
)
def test_a_platform_with_its_token_is_sent_through_its_api(platform: Platform, account: str, kind: type, tmp_path: Path) -> None:
    senders = PlatformSenders(PlatformTokens.from_secret(FULL), platform_session(5), sandbox=SandboxPlatforms(tmp_path / "platforms.json"))
    assert isinstance(senders.sender_for(job(platform, account)), kind)


def test_locally_a_platform_without_a_token_is_the_sandbox_which_keeps_and_reports_the_send(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Given PlatformSecret holds only the WhatsApp token of another number, and a local sandbox
    sandbox = SandboxPlatforms(tmp_path / "platforms.json")
    senders = PlatformSenders(PlatformTokens.from_secret({"whatsapp_tokens": {"999": "EAAGwa"}}), platform_session(5), sandbox=sandbox)
    # When an X public reply is sent
    sender = senders.sender_for(job(Platform.X, "1700", Channel.PUBLIC_REPLY, reply_to_id="1880000000000000001"))
    assert sender is sandbox
    with caplog.at_level(logging.INFO, logger="socialdesk.sandbox"):
        sent = sender.send(job(Platform.X, "1700", Channel.PUBLIC_REPLY, reply_to_id="1880000000000000001"))
    # Then the sandbox keeps it on disk with an id, and prints what a person would see
    [kept] = load_state(tmp_path / "platforms.json", SandboxPlatformState).sent
    assert (kept.id, kept.platform, kept.reply_to_id, kept.text) == (sent.platform_message_id, "x", "1880000000000000001", "Thanks! (automated)")
    assert caplog.messages == ['[sandbox x] reply to 1880000000000000001: "Thanks! (automated)"']


def test_the_sandbox_reports_a_whatsapp_template_as_the_template_the_customer_would_get(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Given a WhatsApp acknowledgement outside the 24-hour window, carrying the rules' template
    template = msgspec.structs.replace(job(Platform.WHATSAPP, PHONE), template="ticket_received", language="es")
    # When the sandbox sends it
    with caplog.at_level(logging.INFO, logger="socialdesk.sandbox"):
        SandboxPlatforms(tmp_path / "platforms.json").send(template)
    # Then it keeps and prints the template, not our free text (which WhatsApp would not deliver there)
    [kept] = load_state(tmp_path / "platforms.json", SandboxPlatformState).sent
    assert kept.template == "ticket_received"
    assert caplog.messages == ["[sandbox whatsapp] message to 16505551234: the template ticket_received (es)"]


def test_the_sandbox_keeps_the_files_an_agent_attached_with_the_message(tmp_path: Path) -> None:
    """Given an agent's WhatsApp reply with a photo (the real sender sends it after the text), when the sandbox sends it,
    then the kept message carries the photo's URL: the note's "attachment(s) sent" is true locally too."""
    photo = "https://acme.zendesk.com/attachments/token/a/?name=label.png"
    SandboxPlatforms(tmp_path / "platforms.json").send(msgspec.structs.replace(job(Platform.WHATSAPP, PHONE), attachment_urls=(photo,)))
    [kept] = load_state(tmp_path / "platforms.json", SandboxPlatformState).sent
    assert kept.attachment_urls == (photo,)


def test_the_sandbox_refuses_a_reply_without_the_message_it_answers(tmp_path: Path) -> None:
    with pytest.raises(SendRefusedError):
        SandboxPlatforms(tmp_path / "platforms.json").send(job(Platform.FACEBOOK, PAGE, Channel.PUBLIC_REPLY))


@pytest.mark.parametrize(
    ("platform", "account", "key"),
    [
        (Platform.X, "1700", "x_access_token"),
        (Platform.FACEBOOK, "999999", "page_tokens[999999]"),
        (Platform.INSTAGRAM, "1784", "instagram_token"),
        (Platform.WHATSAPP, "555", "whatsapp_tokens[555]"),
    ],
)
def test_deployed_a_platform_without_a_token_is_a_missing_token_naming_the_key(platform: Platform, account: str, key: str) -> None:
    # Given a deployed stack (no sandbox) whose PlatformSecret lacks this platform's token (or has it blank)
    senders = PlatformSenders(PlatformTokens.from_secret({**FULL, "x_access_token": " ", "instagram_token": ""}), platform_session(5))
    # Then the send is reported as a token problem for an admin, naming the key to fill
    with pytest.raises(SendTokenRejectedError) as missing:
        senders.sender_for(job(platform, account)).send(job(platform, account))
    assert missing.value.code == "missing"
    assert key in missing.value.reason
