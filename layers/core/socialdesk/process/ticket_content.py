"""How an event reads in the helpdesk: the customer as an end user, the new ticket, comments and notes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from socialdesk.classify.priority import highest
from socialdesk.desk.port import DeskUser, Identity, NewTicket
from socialdesk.model import Platform, SocialEvent
from socialdesk.model.conversation import customer_key
from socialdesk.process.labels import (
    KIND_LABELS,
    NAME_MAX_CHARS,
    PLATFORM_LABELS,
    customer_name,
    customer_reference,
    one_line,
    profile_url,
    shortened,
)

if TYPE_CHECKING:
    from socialdesk.classify import Classification
    from socialdesk.rules import ZendeskRules

SUBJECT_WORDS_CHARS = 80
# Zendesk keeps at most 255 characters of a ticket subject and silently drops the rest
# (mattermost/mattermost#17690, "Zendesk seems to keep the field at 255"); ours never reach it.
SUBJECT_MAX_CHARS = 255
# Enough for any real name or handle; a 2,000-character display name would otherwise be the whole subject.
SUBJECT_NAME_CHARS = 60
TAG = "socialdesk"
DELETED_TAG = "socialdesk_deleted"
_LEADING_MENTIONS = re.compile(r"^(?:@\w+\s*)+")


UNKNOWN_AUTHOR = "unknown"


def desk_user(event: SocialEvent) -> DeskUser:
    """The customer as a Zendesk end user, keyed by `<platform>:<user id>` (handles change, ids do not).

    An Instagram mention names no author (its text and author need a Graph API lookup), so it is
    requested by one placeholder user per platform rather than lost.
    """
    if event.author is None:
        return DeskUser(
            external_id=customer_key(event.platform, UNKNOWN_AUTHOR), name=f"{PLATFORM_LABELS[event.platform]} user (not named in the webhook)"
        )
    identities: tuple[Identity, ...] = ()
    if event.platform is Platform.X and event.author.handle:
        identities = (Identity("twitter", event.author.handle),)
    elif event.platform is Platform.WHATSAPP and event.author.phone:
        identities = (Identity("phone_number", f"+{event.author.phone}"),)  # a customer with a username may share none
    return DeskUser(external_id=customer_key(event.platform, event.author.id), name=customer_name(event), identities=identities)


def subject(event: SocialEvent) -> str:
    """`<Platform> <kind> from <customer>: <first words>`, so the ticket list says what and who at a glance.

    One line of at most SUBJECT_MAX_CHARS: customer-chosen names and text lose their control characters
    and are shortened, so no name can forge lines or push the words out of the subject.
    """
    words = _LEADING_MENTIONS.sub("", one_line(event.text or "")) or f"[{event.content_type}]"
    if len(words) > SUBJECT_WORDS_CHARS:
        words = words[:SUBJECT_WORDS_CHARS].rsplit(" ", 1)[0] + "…"
    who = shortened(one_line(customer_reference(event)), SUBJECT_NAME_CHARS)
    return shortened(f"{PLATFORM_LABELS[event.platform]} {KIND_LABELS[event.kind]} from {who}: {words}", SUBJECT_MAX_CHARS)


def customer_words(event: SocialEvent) -> str:
    """The customer's message as a public comment: their text, then one line per attachment."""
    lines = [event.text] if event.text else []
    if event.content_type == "mention" and not event.text:
        lines.append(
            f"Mentioned the brand on {PLATFORM_LABELS[event.platform]} (message {event.message_id}); read it there: the webhook carries no text."
        )
    for attachment in event.attachments:
        where = attachment.url or (f"media id {attachment.id}" if attachment.id else "no link")
        lines.append(f"[{attachment.type}{': ' + attachment.name if attachment.name else ''}] {where}")
    if not lines:
        lines.append(f"[{event.content_type} message without text]")
    return "\n".join(lines)


def new_ticket(
    event: SocialEvent,
    *,
    requester_id: int,
    conversation_key: str,
    rules: ZendeskRules,
    follow_up_of: int | None = None,
    classification: Classification | None = None,
) -> NewTicket:
    defaults = rules.ticket_defaults(event.platform)
    priority: str | None = defaults.priority
    followers = event.author.follower_count if event.author else None
    if rules.influencer and followers is not None and followers >= rules.influencer.min_followers:
        priority = rules.influencer.priority
    if classification is not None:  # the higher of the rules' priority and the classified one
        priority = highest(priority, classification.priority)
    custom_fields = tuple((field.id, field.value) for field in defaults.custom_fields) + context_field_values(event, rules)
    return NewTicket(
        subject=subject(event),
        requester_id=requester_id,
        body=customer_words(event),
        external_id=conversation_key,
        tags=tuple(dict.fromkeys((TAG, f"socialdesk_{event.platform}", f"socialdesk_{event.kind}", *defaults.tags, *_tags(classification)))),
        priority=priority,
        type=defaults.type,
        group_id=defaults.group_id,
        brand_id=defaults.brand_id,
        custom_fields=custom_fields,
        follow_up_of=follow_up_of,
    )


def _tags(classification: Classification | None) -> tuple[str, ...]:
    return classification.tags if classification is not None else ()


def context_field_values(event: SocialEvent, rules: ZendeskRules) -> tuple[tuple[int, str | int | float | bool], ...]:
    """The social context for the ticket fields the operators configured (none configured: none)."""
    fields = rules.context_fields
    author = event.author
    values: list[tuple[int | None, str | int | float | bool | None]] = [
        (fields.platform, PLATFORM_LABELS[event.platform]),
        (fields.profile_url, profile_url(event.platform, author)),
        (fields.follower_count, author.follower_count if author else None),
        (fields.verified, author.verified if author else None),
        (fields.permalink, event.permalink),
        (fields.language, event.language),
        (fields.customer_id, customer_key(event.platform, author.id) if author else None),
    ]
    return tuple((field_id, value) for field_id, value in values if field_id is not None and value is not None)


def context_note(event: SocialEvent, conversation_key: str) -> str:
    """The social context as an internal note, for accounts without context fields configured."""
    author = event.author
    lines = ["Social context (socialdesk)", f"Platform: {PLATFORM_LABELS[event.platform]}"]
    if author:
        handle = shortened(one_line(author.handle or ""), NAME_MAX_CHARS)
        handle = f" (@{handle})" if handle else ""
        lines.append(f"Customer: {customer_name(event)}{handle}, id {author.id}")
        if url := profile_url(event.platform, author):
            lines.append(f"Profile: {url}")
        if author.follower_count is not None:
            lines.append(f"Followers: {author.follower_count:,}")
        if author.verified is not None:
            lines.append(f"Verified: {'yes' if author.verified else 'no'}")
    if event.permalink:
        lines.append(f"Link: {event.permalink}")
    if event.language:
        lines.append(f"Language: {event.language}")
    lines.append(f"Conversation: {conversation_key}")
    return "\n".join(lines)


def brand_reply_note(event: SocialEvent) -> str:
    """What the brand said on the platform, shown to agents who were not the ones replying."""
    sender = f" by @{event.author.handle}" if event.author and event.author.handle else ""
    app = f" (sent by app {event.source_app_id})" if event.source_app_id else ""
    link = f"\n\n{event.permalink}" if event.permalink else ""
    return f"Replied on {PLATFORM_LABELS[event.platform]}{sender}{app}:\n\n{customer_words(event)}{link}"


def edit_note(event: SocialEvent) -> str:
    return f"The customer edited their {PLATFORM_LABELS[event.platform]} message {event.message_id}. It now reads:\n\n{customer_words(event)}"


def deletion_note(event: SocialEvent) -> str:
    who = "The brand" if event.from_brand else "The customer"
    return f"{who} deleted {PLATFORM_LABELS[event.platform]} message {event.message_id}. It no longer exists on the platform."


def delivery_failure_note(event: SocialEvent, *, sent_by: str | None = None) -> str:
    """A reply that never reached the customer must not look sent (principle 7: nothing silent).

    `sent_by` is the outbound job that sent it, when socialdesk did: the platform accepted the send (so the send's own
    note says sent), and this note, tied to it, says what became of it (WhatsApp reports 131047/131026 this way)."""
    delivery = event.delivery
    assert delivery is not None
    reason = " ".join(part for part in (str(delivery.error_code or ""), delivery.error_title or "") if part) or "no reason given"
    what = (
        f"The {PLATFORM_LABELS[event.platform]} message socialdesk sent (job {sent_by})"
        if sent_by
        else f"A {PLATFORM_LABELS[event.platform]} message to the customer"
    )
    return f"⚠ {what} was not delivered ({reason}). Message id {event.message_id}. The customer has not received it."
