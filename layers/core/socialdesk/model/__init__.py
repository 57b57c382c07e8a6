"""Canonical models shared by every function; no I/O here."""

from socialdesk.model.event import (
    Attachment,
    Author,
    Delivery,
    EventKind,
    Platform,
    SocialEvent,
    decode_event,
    encode_event,
    make_event,
)

__all__ = [
    "Attachment",
    "Author",
    "Delivery",
    "EventKind",
    "Platform",
    "SocialEvent",
    "decode_event",
    "encode_event",
    "make_event",
]
