"""What the outbound function sends: one message to one customer on one platform, decided elsewhere.

process queues an acknowledgement or a self-service answer; desk_events (next) will queue an agent's reply.
The job carries everything the send and its record need, so outbound never re-reads the conversation to decide.
`job_id` is the job's identity: a send is claimed under it by a conditional write before the platform is called, so a
redelivered or duplicated job is sent at most once (the platforms have no idempotency key for sends).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

import msgspec

from socialdesk.model.event import Platform, PlatformId

UtcTime = Annotated[datetime, msgspec.Meta(tz=True)]


class JobKind(enum.StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    """An automatic "we have your message" in the customer's language, disclosed as automated."""
    SELF_SERVICE = "self_service"
    """An automatic answer chosen by intent (an FAQ), disclosed as automated, with the way to reach a person."""
    AGENT_REPLY = "agent_reply"
    """An agent's public comment in Zendesk, carried to the customer."""


class Channel(enum.StrEnum):
    PUBLIC_REPLY = "public_reply"
    """Under the customer's post or comment, visible to everyone (X reply, Facebook/Instagram comment reply)."""
    PRIVATE_REPLY = "private_reply"
    """A private message in answer to a public comment (Facebook/Instagram private replies: one per comment, 7 days)."""
    DIRECT_MESSAGE = "direct_message"
    """In the customer's DM thread or chat (X DM, Messenger, Instagram DM, WhatsApp)."""


class OutboundJob(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    job_id: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    """Stable for the decision: `ack:<conversation key>:<window start epoch>`, `reply:<ticket id>:<comment id>`."""
    kind: JobKind
    platform: Platform
    account_id: PlatformId
    """The brand's side: X user id, Page id, Instagram account id, WhatsApp phone number id: which token sends."""
    conversation_key: str
    channel: Channel
    recipient_id: PlatformId
    """The customer: X user id, PSID, IGSID, WhatsApp BSUID or phone number."""
    text: str
    reply_to_id: PlatformId | None = None
    """The post, comment or message answered (a public or private reply needs it; a DM may quote it)."""
    ticket_id: int | None = None
    """Where the truth about the send is written as an internal note."""
    language: str | None = None
    customer_message_at: UtcTime | None = None
    """The customer's latest message: Messenger's and WhatsApp's 24-hour windows are counted from it."""
    decided_at: UtcTime | None = None
    template: str | None = None
    """A pre-approved WhatsApp template to send instead of `text` (outside the 24-hour window); `text` stays for the note."""
    template_language: str | None = None
    """The template's WhatsApp language code (`pt_BR`), from the rules' `whatsapp_template_languages`."""
    fallback_channel: Channel | None = None
    """Where to send instead when X refuses the public reply because the customer did not summon the brand (the rules'
    `x_dm_fallback`); unset: the refusal is noted on the ticket."""
    delay_seconds: Annotated[int, msgspec.Meta(ge=0, le=900)] = 0
    """Queued this long (SQS DelaySeconds); a delayed automatic message is cancelled if a person answered meanwhile."""
    messaging_tag: str | None = None
    """A Messenger/Instagram message tag (`HUMAN_AGENT`: an agent's reply 24 hours to 7 days after the customer wrote)."""
    attachment_urls: tuple[str, ...] = ()
    """Files the agent attached in Zendesk, sent by URL where the platform takes one (agent replies)."""


def encode_job(job: OutboundJob) -> str:
    return msgspec.json.encode(job).decode()


def decode_job(body: str | bytes) -> OutboundJob:
    return msgspec.json.decode(body, type=OutboundJob)
