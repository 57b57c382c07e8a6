"""The outbound ports: a sender per platform and what a send can come to (the outbound use case and the platform
senders), the jobs' queue and the messages we sent (process's acknowledgement policy and the outbound function).

Every sender answers in these terms, whatever its platform says, so send_job.py decides once what each outcome means:
- `Sent`: the platform took the message and named it;
- `SendRateLimitedError`: refused for now, nothing sent (X 429, Graph throttling codes, WhatsApp 130429/131056);
- `SendTokenRejectedError`: our token was refused or is missing (Graph 190, X 401): an admin must renew it;
- `SendRefusedError`: refused for good (outside the 24-hour window, not a WhatsApp user, no permission, X 403);
  `SendNotSummonedError` is X's refusal of a public reply to a customer who did not summon the brand;
- `SendUncertainError`: the request may have left (a timeout, a 5xx): it may have been delivered, so it is never resent;
- `SendNotSentError`: the request never left (connection refused, DNS): safe to try again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import msgspec

if TYPE_CHECKING:
    from socialdesk.model.conversation import Conversation
    from socialdesk.model.outbound import OutboundJob


class Sent(msgspec.Struct, frozen=True, kw_only=True):
    platform_message_id: str
    """What the platform calls the message we sent (X post or DM event id, Graph comment or message id, WhatsApp wamid):
    its echo carries it (X `dm.sent` and `post.create`, Messenger `message_echoes`, WhatsApp `statuses[].id`: xdevplatform/docs
    `x-api/activity/event-payloads.mdx`; developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events)."""


class SendError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SendRateLimitedError(SendError):
    """`recipient_only`: the limit is on messages to this one customer (WhatsApp's pair rate, 131056), not the account's:
    only jobs to that customer wait, and `retry_after` is left to the caller's backoff."""

    def __init__(self, retry_after: int, reason: str, *, recipient_only: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = max(1, retry_after)
        self.recipient_only = recipient_only


class SendTokenRejectedError(SendError):
    """`code` is what the platform said (Graph 190, X 401), or "missing" when PlatformSecret holds no token."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


class SendRefusedError(SendError):
    """Refused for good: retrying the same message cannot succeed."""


class SendNotSummonedError(SendRefusedError):
    """X refused a public reply because the customer did not mention or quote the brand (self-serve apps may reply only
    when summoned, since 23 Feb 2026): a direct message may still reach them."""


class SendUncertainError(SendError):
    """The request may have reached the platform: never send it again."""


class SendNotSentError(SendError):
    """The request did not leave: nothing was sent."""


class PlatformSender(Protocol):
    def send(self, job: OutboundJob) -> Sent:
        """Send the job's text on its channel, or raise one of the SendError kinds above."""
        ...


class Senders(Protocol):
    def sender_for(self, job: OutboundJob) -> PlatformSender:
        """The sender of the job's platform and brand account (a sandbox in local runs without a token)."""
        ...


class OutboundJobs(Protocol):
    def enqueue(self, job: OutboundJob) -> None:
        """Queue the job durably (the acknowledgement policy's side), or raise QueueUnavailableError."""
        ...


class SentMessages(Protocol):
    def find_sent(self, platform: str, message_id: str) -> str | None:
        """The job id of a message we sent (its echo is ours), or None."""
        ...


class Conversations(Protocol):
    def conversation(self, key: str) -> Conversation | None:
        """The conversation's record: `activity.last_brand_at` is the brand's latest message written by a person (a reply
        typed in the platform's own app, as its webhook reports it; an agent's reply once the response clock records it);
        our own sends coming back as echoes never move it (process/process_event.py)."""
        ...
