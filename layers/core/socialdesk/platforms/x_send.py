"""Replies on X through API v2, signed with OAuth 1.0a user context (xdevplatform/docs
`x-api/posts/manage-tweets/integrate.mdx`, `x-api/direct-messages/manage/integrate.mdx`; signing: platforms/oauth1.py).

- public reply: `POST /2/tweets` `{"text", "reply": {"in_reply_to_tweet_id"}}`, answered `{"data": {"id", "text"}}`;
- direct message: `POST /2/dm_conversations/with/{participant_id}/messages` `{"text"}`, answered
  `{"data": {"dm_conversation_id", "dm_event_id"}}` (the echo, XAA `dm.sent`, carries `dm_event_id`: `x-api/activity/event-payloads.mdx`).

Answers read (xdevplatform/docs `x-api/fundamentals/rate-limits.mdx`, `response-codes-and-errors.mdx`): 429 with
`x-rate-limit-reset` (epoch seconds when the window resets) is a wait, nothing sent; 401 is our token refused; 403 is a
refusal for good (self-serve replies only when summoned since 23 Feb 2026, xdevplatform/docs `changelog.mdx`; "You are not permitted to
reply…"; duplicate content, v1.1 code 187; DMs the recipient does not accept); other 4xx refusals; 5xx unknown.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from socialdesk.model.outbound import Channel, OutboundJob
from socialdesk.platforms.oauth1 import OAuth1Credentials, authorization_header
from socialdesk.platforms.send_http import json_body, post
from socialdesk.ports.outbound import (
    SendNotSummonedError,
    SendRateLimitedError,
    SendRefusedError,
    SendTokenRejectedError,
    SendUncertainError,
    Sent,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import requests

X_API = "https://api.x.com"
# When a 429 says nothing of its reset: X's windows are 15 minutes (rate-limits.mdx).
DEFAULT_X_WAIT_SECONDS = 15 * 60
# X's 403 to a reply the author did not summon: "Reply to this conversation is not allowed because you have not been
# mentioned or otherwise engaged by the author of the post you are replying to." (as quoted in gptme/gptme-contrib
# PR 811, May 2026), or "You are not permitted to reply to this post."
NOT_SUMMONED = re.compile(r"not been mentioned or otherwise engaged|not (?:permitted|allowed) to reply", re.IGNORECASE)


class XSender:
    def __init__(
        self, credentials: OAuth1Credentials, session: requests.Session, *, base_url: str = X_API, clock: Callable[[], float] = time.time
    ) -> None:
        self._credentials = credentials
        self._session = session
        self._base = base_url.rstrip("/")
        self._clock = clock

    def send(self, job: OutboundJob) -> Sent:
        if job.channel == Channel.PUBLIC_REPLY:
            if not job.reply_to_id:
                raise SendRefusedError("a public reply on X needs the post it answers")
            url = f"{self._base}/2/tweets"
            body: dict[str, object] = {"text": job.text, "reply": {"in_reply_to_tweet_id": job.reply_to_id}}
            key = "id"
        elif job.channel == Channel.DIRECT_MESSAGE:
            url = f"{self._base}/2/dm_conversations/with/{job.recipient_id}/messages"
            body, key = {"text": job.text}, "dm_event_id"
        else:
            raise SendRefusedError("X has no private reply to a post; send a direct message instead")
        headers = {"Authorization": authorization_header("POST", url, self._credentials, clock=self._clock)}
        response = post(self._session, url, json=body, headers=headers)
        answer = json_body(response)
        if response.status_code in (200, 201):
            message_id = (answer.get("data") or {}).get(key)
            if not message_id:
                raise SendUncertainError(f"X answered {response.status_code} without data.{key}")
            return Sent(platform_message_id=str(message_id))
        failure = self._failure(response.status_code, answer, response.headers)
        if response.status_code == 403 and job.channel == Channel.PUBLIC_REPLY and NOT_SUMMONED.search(str(failure)):
            said = "the customer did not mention or quote the brand (self-serve apps reply only when summoned)"
            raise SendNotSummonedError(f"X refused a public reply because {said}: {failure}")
        raise failure

    def _failure(self, status: int, answer: dict[str, object], headers: requests.structures.CaseInsensitiveDict[str]) -> Exception:
        detail = str(answer.get("detail") or answer.get("title") or _first_error(answer) or f"HTTP {status}")
        if status == 429:
            reset = headers.get("x-rate-limit-reset")
            wait = int(reset) - int(self._clock()) if reset and reset.isdigit() else DEFAULT_X_WAIT_SECONDS
            return SendRateLimitedError(wait, f"X 429 (rate limit; window resets in {max(1, wait)} s)")
        if status == 401:
            return SendTokenRejectedError("401", f"X 401: {detail}")
        if status >= 500:
            return SendUncertainError(f"X {status}: {detail}")
        return SendRefusedError(f"X refused it ({status}): {detail}")


def _first_error(answer: dict[str, object]) -> str | None:
    errors = answer.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or errors[0].get("detail") or "")
    return None
