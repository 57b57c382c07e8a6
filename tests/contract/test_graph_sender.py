"""The Graph sender (Facebook, Instagram, Messenger) at the HTTP level: the documented calls, Graph's answers.

Error bodies are Graph's `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`
(developers.facebook.com/docs/graph-api/guides/error-handling).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
import responses

from socialdesk.model.event import Platform
from socialdesk.model.outbound import Channel, JobKind, OutboundJob
from socialdesk.platforms.meta_send import GRAPH_API, GraphSender
from socialdesk.platforms.send_http import platform_session
from socialdesk.ports.outbound import SendRateLimitedError, SendRefusedError, SendTokenRejectedError, SendUncertainError

PAGE = "448242228374517"
COMMENT = "448242228374517_1221316769125949"
TOKEN = "EAAGpagetoken"


def job(platform: Platform, channel: Channel, **changes: object) -> OutboundJob:
    fields: dict[str, object] = {
        "job_id": f"ack:{platform}:{COMMENT}:1764871200",
        "kind": JobKind.ACKNOWLEDGEMENT,
        "platform": platform,
        "account_id": PAGE,
        "conversation_key": f"{platform}:{PAGE}:post:{COMMENT}",
        "channel": channel,
        "recipient_id": "6543210987654321",
        "reply_to_id": COMMENT,
        "text": "Thanks, we have your message. (automated)",
    }
    return OutboundJob(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def sender() -> GraphSender:
    return GraphSender(TOKEN, platform_session(5))


def test_a_facebook_public_reply_comments_on_the_comment_with_the_page_token_in_a_header(api: responses.RequestsMock) -> None:
    api.post(f"{GRAPH_API}/{COMMENT}/comments", json={"id": f"{COMMENT}_1221316769125999"})
    sent = sender().send(job(Platform.FACEBOOK, Channel.PUBLIC_REPLY))
    assert sent.platform_message_id == f"{COMMENT}_1221316769125999"
    request = api.calls[0].request
    assert parse_qs(str(request.body)) == {"message": ["Thanks, we have your message. (automated)"]}
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in str(request.url)


def test_an_instagram_public_reply_uses_the_replies_edge(api: responses.RequestsMock) -> None:
    api.post(f"{GRAPH_API}/17858893269000001/replies", json={"id": "17858893269000099"})
    sent = sender().send(job(Platform.INSTAGRAM, Channel.PUBLIC_REPLY, reply_to_id="17858893269000001"))
    assert sent.platform_message_id == "17858893269000099"


def test_a_private_reply_is_sent_to_the_comment_through_the_pages_messages(api: responses.RequestsMock) -> None:
    api.post(f"{GRAPH_API}/{PAGE}/messages", json={"recipient_id": "6543210987654321", "message_id": "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM"})
    sent = sender().send(job(Platform.FACEBOOK, Channel.PRIVATE_REPLY))
    assert sent.platform_message_id == "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM"
    assert json.loads(api.calls[0].request.body or b"") == {
        "recipient": {"comment_id": COMMENT},
        "message": {"text": "Thanks, we have your message. (automated)"},
    }


def test_a_messenger_reply_is_a_response_inside_the_window_marked_as_ours_for_its_echo(api: responses.RequestsMock) -> None:
    """Given an acknowledgement for ticket 4014, when sent on Messenger, then it is a RESPONSE carrying socialdesk's
    `metadata`, which Meta hands back on the echo (message_echoes) so the echo is known as ours."""
    api.post(f"{GRAPH_API}/{PAGE}/messages", json={"recipient_id": "6543210987654321", "message_id": "m_1"})
    sender().send(job(Platform.MESSENGER, Channel.DIRECT_MESSAGE, reply_to_id=None, ticket_id=4014))
    assert json.loads(api.calls[0].request.body or b"") == {
        "recipient": {"id": "6543210987654321"},
        "message": {"text": "Thanks, we have your message. (automated)", "metadata": "autoack:ticket-4014"},
        "messaging_type": "RESPONSE",
    }


def test_an_expired_page_token_is_code_190(api: responses.RequestsMock) -> None:
    api.post(
        f"{GRAPH_API}/{COMMENT}/comments",
        status=400,
        json={
            "error": {
                "message": "Error validating access token: Session has expired on Friday, 04-Dec-26 10:00:00 PST.",
                "type": "OAuthException",
                "code": 190,
                "error_subcode": 463,
                "fbtrace_id": "A1b2C3d4E5f",
            }
        },
    )
    with pytest.raises(SendTokenRejectedError) as rejected:
        sender().send(job(Platform.FACEBOOK, Channel.PUBLIC_REPLY))
    assert rejected.value.code == "190"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (4, "(#4) Application request limit reached"),
        (32, "(#32) Page request limit reached"),
        (613, "(#613) Calls to this api have exceeded the rate limit."),
        (80001, "There have been too many calls to this Page account. Wait a bit and try again."),
    ],
)
def test_graph_throttling_is_a_wait(api: responses.RequestsMock, code: int, message: str) -> None:
    api.post(
        f"{GRAPH_API}/{COMMENT}/comments",
        status=400,
        json={"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "x"}},
        headers={"x-business-use-case-usage": json.dumps({PAGE: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 12}]})},
    )
    with pytest.raises(SendRateLimitedError) as limited:
        sender().send(job(Platform.FACEBOOK, Channel.PUBLIC_REPLY))
    # The usage header says when access returns (12 minutes)
    assert limited.value.retry_after == 12 * 60


@pytest.mark.parametrize(
    ("code", "message"),
    [(10, "(#10) This message is sent outside of allowed window."), (200, "(#200) Permissions error"), (10900, "Activity already replied to")],
)
def test_permission_window_and_already_replied_refusals_are_final(api: responses.RequestsMock, code: int, message: str) -> None:
    api.post(
        f"{GRAPH_API}/{PAGE}/messages", status=400, json={"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "x"}}
    )
    with pytest.raises(SendRefusedError):
        sender().send(job(Platform.MESSENGER, Channel.DIRECT_MESSAGE, reply_to_id=None))


def test_a_graph_server_error_leaves_the_send_unknown(api: responses.RequestsMock) -> None:
    api.post(
        f"{GRAPH_API}/{COMMENT}/comments",
        status=500,
        json={"error": {"message": "An unknown error has occurred.", "type": "OAuthException", "code": 1, "fbtrace_id": "x"}},
    )
    with pytest.raises(SendUncertainError):
        sender().send(job(Platform.FACEBOOK, Channel.PUBLIC_REPLY))
