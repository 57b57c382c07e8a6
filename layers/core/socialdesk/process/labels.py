"""How platforms, kinds and customers are named to agents."""

from __future__ import annotations

from socialdesk.model import Author, EventKind, Platform, SocialEvent

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
    """Display name, else @handle, else a name that says where the person came from."""
    author = event.author
    if author and author.display_name:
        return author.display_name
    if author and author.handle:
        return f"@{author.handle}" if event.platform in (Platform.X, Platform.INSTAGRAM) else author.handle
    return f"{PLATFORM_LABELS[event.platform]} user {author.id if author else 'unknown'}"


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
