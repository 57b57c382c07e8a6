"""The X sender at the HTTP level: API v2 requests as X documents them, and X's answers read as send outcomes.

Bodies are X API v2's (xdevplatform/docs `x-api/posts/manage-tweets/introduction.mdx`, `x-api/direct-messages/manage/
integrate.mdx`, `x-api/fundamentals/rate-limits.mdx`): a 201 with `data`, or a problem object (`title`, `detail`,
`type`, `status`); a 429 carries `x-rate-limit-reset` in epoch seconds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
import requests
import responses

from socialdesk.model.event import Platform
from socialdesk.model.outbound import Channel, JobKind, OutboundJob
from socialdesk.platforms.oauth1 import OAuth1Credentials
from socialdesk.platforms.send_http import platform_session
from socialdesk.platforms.x_send import XSender
from socialdesk.ports.outbound import (
    SendNotSentError,
    SendNotSummonedError,
    SendRateLimitedError,
    SendRefusedError,
    SendTokenRejectedError,
    SendUncertainError,
)

NOW = 1_796_000_000
CREDENTIALS = OAuth1Credentials(consumer_key="ck", consumer_secret="cs", token="1700000000000000001-tok", token_secret="ts")
TWEETS = "https://api.x.com/2/tweets"
DM = "https://api.x.com/2/dm_conversations/with/1600000000000000001/messages"
REPLY = OutboundJob(
    job_id="ack:x:1880000000000000001:1764871200",
    kind=JobKind.ACKNOWLEDGEMENT,
    platform=Platform.X,
    account_id="1700000000000000001",
    conversation_key="x:1700000000000000001:thread:1880000000000000001",
    channel=Channel.PUBLIC_REPLY,
    recipient_id="1600000000000000001",
    reply_to_id="1880000000000000001",
    text="@customer Thanks, we have your message and will answer soon. (automated)",
)
DIRECT = OutboundJob(**{**{f: getattr(REPLY, f) for f in REPLY.__struct_fields__}, "channel": Channel.DIRECT_MESSAGE, "reply_to_id": None})


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def sender() -> XSender:
    return XSender(CREDENTIALS, platform_session(5), clock=lambda: NOW)


def test_a_public_reply_is_posted_in_reply_to_the_customers_post_signed_as_the_brand(api: responses.RequestsMock) -> None:
    # Given X creates the post (201)
    api.post(TWEETS, status=201, json={"data": {"edit_history_tweet_ids": ["1880000000000000099"], "id": "1880000000000000099", "text": REPLY.text}})
    # When the reply is sent
    sent = sender().send(REPLY)
    # Then it answers the customer's post, with the brand's OAuth 1.0a signature, and X's id is kept
    assert sent.platform_message_id == "1880000000000000099"
    request = api.calls[0].request
    assert json.loads(request.body or b"") == {"text": REPLY.text, "reply": {"in_reply_to_tweet_id": "1880000000000000001"}}
    authorization = str(request.headers["Authorization"])
    assert authorization.startswith("OAuth ")
    assert re.search(r'oauth_token="1700000000000000001-tok"', authorization)
    assert re.search(r'oauth_signature="[^"]+"', authorization)


def test_a_direct_message_goes_to_the_customers_conversation_and_returns_the_dm_event_id(api: responses.RequestsMock) -> None:
    api.post(DM, status=201, json={"data": {"dm_conversation_id": "1600000000000000001-1700000000000000001", "dm_event_id": "1881000000000000042"}})
    assert sender().send(DIRECT).platform_message_id == "1881000000000000042"
    assert json.loads(api.calls[0].request.body or b"") == {"text": REPLY.text}


def test_a_429_is_a_wait_until_the_window_resets(api: responses.RequestsMock) -> None:
    # Given X's per-user window is spent and resets in 7 minutes
    api.post(
        TWEETS,
        status=429,
        json={"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429},
        headers={"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(NOW + 420)},
    )
    # Then nothing was sent and the job waits for the reset
    with pytest.raises(SendRateLimitedError) as limited:
        sender().send(REPLY)
    assert limited.value.retry_after == 420


def test_a_401_is_our_token_rejected(api: responses.RequestsMock) -> None:
    api.post(TWEETS, status=401, json={"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})
    with pytest.raises(SendTokenRejectedError) as rejected:
        sender().send(REPLY)
    assert rejected.value.code == "401"


@pytest.mark.parametrize(
    "detail",
    [
        # Self-serve accounts may reply only when summoned (xdevplatform/docs changelog, 23 Feb 2026); wording as X's 403 for such replies
        "You are not permitted to reply to this post.",
        # The same text twice (v1.1's code 187, "Status is a duplicate")
        "You are not allowed to create a Tweet with duplicate content.",
    ],
)
def test_a_403_is_refused_for_good_with_xs_reason(api: responses.RequestsMock, detail: str) -> None:
    api.post(TWEETS, status=403, json={"detail": detail, "type": "about:blank", "title": "Forbidden", "status": 403})
    with pytest.raises(SendRefusedError) as refused:
        sender().send(REPLY)
    assert detail in refused.value.reason


NOT_SUMMONED = (
    "Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are"
    " replying to."
)


def test_a_403_to_an_unsummoned_public_reply_says_so_and_a_duplicate_does_not(api: responses.RequestsMock) -> None:
    # Given X's 403 to a self-serve app replying where the author did not summon it (the text as quoted in
    # gptme/gptme-contrib PR 811, May 2026), and its 403 to duplicate content
    api.post(TWEETS, status=403, json={"detail": NOT_SUMMONED, "type": "about:blank", "title": "Forbidden", "status": 403})
    api.post(
        TWEETS, status=403, json={"detail": "You are not allowed to create a Tweet with duplicate content.", "title": "Forbidden", "status": 403}
    )
    # Then the first is the refusal outbound may answer by a DM, and says why; the second is an ordinary refusal
    with pytest.raises(SendNotSummonedError) as unsummoned:
        sender().send(REPLY)
    assert "did not mention or quote the brand" in unsummoned.value.reason and NOT_SUMMONED in unsummoned.value.reason
    with pytest.raises(SendRefusedError) as duplicate:
        sender().send(REPLY)
    assert not isinstance(duplicate.value, SendNotSummonedError)


def test_a_server_error_leaves_the_send_unknown(api: responses.RequestsMock) -> None:
    api.post(TWEETS, status=503, json={"title": "Service Unavailable", "detail": "Service Unavailable", "type": "about:blank", "status": 503})
    with pytest.raises(SendUncertainError):
        sender().send(REPLY)


def test_a_read_timeout_leaves_the_send_unknown_but_a_refused_connection_sent_nothing(api: responses.RequestsMock) -> None:
    api.post(TWEETS, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(SendUncertainError):
        sender().send(REPLY)
    api.post(TWEETS, body=requests.ConnectTimeout("connect timed out"))
    with pytest.raises(SendNotSentError):
        sender().send(REPLY)


def test_x_has_no_private_reply_so_the_job_is_refused_without_a_call(api: responses.RequestsMock) -> None:
    private = OutboundJob(**{**{f: getattr(REPLY, f) for f in REPLY.__struct_fields__}, "channel": Channel.PRIVATE_REPLY})
    with pytest.raises(SendRefusedError):
        sender().send(private)
    assert len(api.calls) == 0
