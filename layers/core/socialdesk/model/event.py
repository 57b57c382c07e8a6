"""The canonical social event: what ingest queues and every later function consumes.

msgspec rather than pydantic: ingest sits on the platforms' acknowledgement path and
pydantic's import alone would add ~40 % to its cold start (see docs/benchmarks.md).
Structs are typed and validated whenever they are built through `make_event` or
decoded with `decode_event`.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any

import msgspec

SCHEMA_VERSION = 1

PlatformId = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
UtcTime = Annotated[datetime, msgspec.Meta(tz=True)]


class Platform(enum.StrEnum):
    X = "x"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    MESSENGER = "messenger"
    WHATSAPP = "whatsapp"


class EventKind(enum.StrEnum):
    POST = "post"
    REPLY = "reply"
    COMMENT = "comment"
    DIRECT_MESSAGE = "direct_message"
    EDIT = "edit"
    DELETE = "delete"
    DELIVERY_STATUS = "delivery_status"


class Author(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Who wrote the item, as far as the platform tells in the webhook itself.

    A WhatsApp customer's `id` is their business-scoped user id (BSUID) when the webhook carries
    one, else their phone number; `phone` is the phone number whenever the webhook carries it (it may
    not, for customers who adopted a username), and `handle` their username.
    """

    id: PlatformId
    handle: str | None = None
    display_name: str | None = None
    follower_count: Annotated[int, msgspec.Meta(ge=0)] | None = None
    verified: bool | None = None
    phone: str | None = None


class Attachment(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A media item or structured payload; `id` is the platform media id where no URL is given."""

    type: str
    id: str | None = None
    url: str | None = None
    mime_type: str | None = None
    name: str | None = None


class Delivery(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Outcome of one of the brand's own outbound messages (WhatsApp statuses)."""

    status: str
    error_code: int | None = None
    error_title: str | None = None


class SocialEvent(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One thing that happened on a platform, normalised.

    `event_id` is the platform's id for this happening (unique per platform and
    brand account), `message_id` the id of the item it is about: for an edit or a
    delete that is the item first seen, so consumers find it again.

    `conversation_key` is the thread as far as the payload alone tells:
    `<platform>:<brand account>:<scope>:<id>`. X replies delivered by the Account
    Activity API carry no thread root, so their key names the parent post; the
    processor follows `in_reply_to` to the conversation it already knows.

    `conversation_alias` is another key the payload names the same thread by: a WhatsApp
    chat keyed by the customer's business-scoped user id, when the webhook also carries
    their phone number, is also `whatsapp:<phone number id>:chat:<phone>`, the key chats
    had before Meta added those ids (April 2026). The processor continues such a chat.
    """

    platform: Platform
    kind: EventKind
    event_id: PlatformId
    message_id: PlatformId
    conversation_key: PlatformId
    account_id: PlatformId
    created_at: UtcTime
    from_brand: bool
    author: Author | None = None
    text: str | None = None
    content_type: str = "text"
    attachments: tuple[Attachment, ...] = ()
    permalink: str | None = None
    in_reply_to: str | None = None
    language: str | None = None
    source_app_id: str | None = None
    sent_by_us: bool = False
    """An echo whose platform-side metadata says socialdesk sent it (platforms/send_metadata.py)."""
    standby: bool = False
    delivery: Delivery | None = None
    conversation_alias: PlatformId | None = None
    quotes_brand: bool = False
    """An X post quoting one of the brand's posts: like an @mention, it lets the brand reply in public (X self-serve rule)."""
    from_ad: bool = False
    """A Messenger or Instagram message sent from a Click-to-Messenger/Direct ad (`referral.source: ADS`): its messaging
    window may last up to 7 days instead of 24 hours (developers.facebook.com/documentation/business-messaging/messenger-platform/policy/)."""
    schema_version: int = SCHEMA_VERSION

    @property
    def dedupe_key(self) -> str:
        """Key under which a consumer records that this event was handled."""
        return f"{self.platform}:{self.account_id}:{self.event_id}"


def make_event(**fields: Any) -> SocialEvent:
    """Build a SocialEvent, validating every field against its declared type.

    Pass nested parts (author, attachments, delivery) as plain dicts: msgspec
    validates what it converts, not Struct instances handed to it ready-made.
    """
    return msgspec.convert(fields, SocialEvent)


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(SocialEvent)


def encode_event(event: SocialEvent) -> bytes:
    return _encoder.encode(event)


def decode_event(data: bytes | str) -> SocialEvent:
    """Parse and validate a queued event; raises msgspec.ValidationError on a bad one."""
    return _decoder.decode(data)
