"""How platforms, kinds and customers are named to agents."""

from __future__ import annotations

import re

from socialdesk.model import Author, EventKind, Platform, SocialEvent

# Controls (CR/LF, ESC, ...), Unicode line and paragraph separators and bidi overrides: none belongs in a one-line name or subject.
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# Zendesk refuses a user whose name is over 255 characters (422 RecordInvalid, "Name is too long": alphagov/support#323,
# which creates tickets for requesters only under 256): a refused user would dead-letter the customer's message.
NAME_MAX_CHARS = 255

PLATFORM_LABELS = {
    Platform.X: "X",
    Platform.FACEBOOK: "Facebook",
    Platform.INSTAGRAM: "Instagram",
    Platform.MESSENGER: "Messenger",
    Platform.WHATSAPP: "WhatsApp",
}
KIND_LABELS = {
    EventKind.POST: "post",
    EventKind.REPLY: "reply",
    EventKind.COMMENT: "comment",
    EventKind.DIRECT_MESSAGE: "message",
    EventKind.EDIT: "edit",
    EventKind.DELETE: "deletion",
    EventKind.DELIVERY_STATUS: "delivery status",
}


def customer_name(event: SocialEvent) -> str:
    """Display name, else @handle, else a name that says where the person came from: one line of at most NAME_MAX_CHARS.

    The customer chose it: without its control characters and line breaks it cannot forge lines where it is shown (the
    context note, the Salesforce contact), and cut to Zendesk's limit it cannot get their user, and so their message, refused.
    """
    author = event.author
    display_name = one_line(author.display_name or "") if author else ""
    handle = one_line(author.handle or "") if author else ""
    if display_name:
        name = display_name
    elif handle:
        name = f"@{handle}" if event.platform in (Platform.X, Platform.INSTAGRAM) else handle
    else:
        name = one_line(f"{PLATFORM_LABELS[event.platform]} user {author.id if author else 'unknown'}")
    return shortened(name, NAME_MAX_CHARS)


def customer_reference(event: SocialEvent) -> str:
    """How a subject line names the customer: @handle where handles are public, else the name."""
    author = event.author
    if author and author.handle and event.platform in (Platform.X, Platform.INSTAGRAM):
        return f"@{author.handle}"
    return customer_name(event)


def profile_url(platform: Platform, author: Author | None) -> str | None:
    if author is None:
        return None
    if platform is Platform.X and author.handle:
        return f"https://x.com/{author.handle}"
    if platform is Platform.INSTAGRAM and author.handle:
        return f"https://www.instagram.com/{author.handle}"
    if platform is Platform.FACEBOOK:
        return f"https://www.facebook.com/{author.id}"
    if platform is Platform.WHATSAPP:
        return f"https://wa.me/{author.phone}" if author.phone else None  # `id` may be a business-scoped id, not a number
    return None


def one_line(text: str) -> str:
    """The text on one line: control characters, line and paragraph separators and bidi overrides become spaces, runs of
    whitespace one space."""
    return " ".join(_NOT_ONE_LINE.sub(" ", text).split())


def shortened(text: str, limit: int) -> str:
    """At most `limit` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
