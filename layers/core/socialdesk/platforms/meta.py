"""Meta webhooks (Facebook Pages, Messenger, Instagram, WhatsApp): verification, signature, normalisation.

One Meta app webhook carries all four products (developers.facebook.com/docs/graph-api/webhooks). A delivery
may batch many `entry` items, each with many `changes` and `messaging` items: every
one of them is read, none is assumed to be alone.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from socialdesk.http import HttpResponse
from socialdesk.model import EventKind, Platform, SocialEvent, make_event
from socialdesk.platforms.batch import Ignored, NormalisedBatch
from socialdesk.platforms.numbers import code, id_text
from socialdesk.platforms.send_metadata import is_our_metadata
from socialdesk.platforms.signing import hex_signature, matches_any
from socialdesk.platforms.timestamps import from_epoch_millis, from_epoch_seconds, from_graph_time
from socialdesk.platforms.webhook import ChallengeRefusedError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

_FEED_ITEMS = frozenset({"comment", "status", "post", "photo", "video", "share"})
_FEED_VERBS = {"add": EventKind.COMMENT, "edited": EventKind.EDIT, "edit": EventKind.EDIT, "remove": EventKind.DELETE, "delete": EventKind.DELETE}
_WHATSAPP_MEDIA = frozenset({"image", "video", "audio", "document", "sticker"})
_WHATSAPP_IGNORED = frozenset({"reaction", "system"})
# An echo of the brand editing or revoking (deleting) a message it sent: Meta documents no shape for their content yet.
_WHATSAPP_ECHOES_IGNORED = frozenset({"edit", "revoke"})


class MetaWebhook:
    name = "meta"
    path = "/webhooks/meta"
    signature_header = "x-hub-signature-256"
    signing_secret_key = "meta_app_secret"
    challenge_secret_key = "meta_verify_token"

    def answer_challenge(self, query: Mapping[str, str], secrets: Sequence[str]) -> HttpResponse:
        """Echo `hub.challenge` as raw text when the verify token matches (graph-api/webhooks/getting-started)."""
        if query.get("hub.mode") == "subscribe" and matches_any(query.get("hub.verify_token"), secrets):
            return HttpResponse.text(200, query.get("hub.challenge", ""))
        raise ChallengeRefusedError(403, "verification_refused", "hub.mode is not subscribe or hub.verify_token matches no current or previous token")

    def signatures(self, body: bytes, secrets: Sequence[str]) -> list[str]:
        return [hex_signature(secret, body) for secret in secrets]

    def normalise(self, payload: Mapping[str, Any], received_at: datetime) -> NormalisedBatch:
        batch = NormalisedBatch()
        product = payload.get("object")
        if product not in ("page", "instagram", "whatsapp_business_account"):
            batch.ignore(f"meta:{product}")
            return batch
        entries = payload.get("entry")
        if not isinstance(entries, list):
            batch.set_aside(payload, "`entry` is not a list")
            return batch
        for entry in entries:
            batch.guarded(entry, partial(_entry, str(product), entry, batch, received_at))
        return batch


def _entry(product: str, entry: Mapping[str, Any], batch: NormalisedBatch, received_at: datetime) -> None:
    account = str(entry.get("id") or "")
    entry_time = entry.get("time")
    for change in entry.get("changes") or []:
        # Guarded one change at a time: a change of the wrong shape sets itself aside, not its entry's other changes and messages.
        batch.guarded(change, partial(_change, product, change, batch, account=account, entry_time=entry_time, received_at=received_at))
    platform = Platform.MESSENGER if product == "page" else Platform.INSTAGRAM
    for key, standby in (("messaging", False), ("standby", True)):
        for item in entry.get(key) or []:
            batch.add(item, partial(_messaging, item, platform=platform, account=account, standby=standby))


def _change(product: str, change: Mapping[str, Any], batch: NormalisedBatch, *, account: str, entry_time: int | None, received_at: datetime) -> None:
    field, value = change.get("field"), change.get("value") or {}
    if not isinstance(value, dict):
        raise TypeError(f"the {field} change's value is a {type(value).__name__}, not an object")
    if product == "page" and field == "feed":
        batch.add(change, partial(_feed, value, page_id=account, entry_time=entry_time, received_at=received_at))
    elif product == "instagram" and field in ("comments", "live_comments"):
        batch.add(change, partial(_instagram_comment, value, account=account, entry_time=entry_time, received_at=received_at))
    elif product == "instagram" and field == "mentions":
        batch.add(change, partial(_instagram_mention, value, account=account, entry_time=entry_time, received_at=received_at))
    elif product == "whatsapp_business_account" and field == "messages":
        _whatsapp(value, batch)
    elif product == "whatsapp_business_account" and field == "smb_message_echoes":
        _whatsapp_echoes(value, batch)
    else:
        batch.ignore(f"{_platform_name(product)}:{field}")


# --- Facebook Page feed -------------------------------------------------------------------------


def _feed(value: Mapping[str, Any], *, page_id: str, entry_time: int | None, received_at: datetime) -> SocialEvent | Ignored:
    """Visitor posts, comments and replies on the Page, their edits and removals.

    The Page's own comment comes back here with `from.id` equal to the Page id: that
    is the "answered" signal, and also where our own auto-acknowledgement returns.
    """
    item, verb = value.get("item"), value.get("verb")
    if item not in _FEED_ITEMS:
        return Ignored(f"facebook:{item}")
    if verb not in _FEED_VERBS:
        return Ignored(f"facebook:{item}_{verb}")
    post_id = value.get("post_id") or (value.get("post") or {})["id"]
    object_id = value["comment_id"] if item == "comment" else post_id
    sender = value.get("from") or {}
    from_brand = sender.get("id") == page_id
    kind = _FEED_VERBS[verb]
    if kind is EventKind.COMMENT and item != "comment":
        if from_brand:
            return Ignored("facebook:page_post")
        kind = EventKind.POST
    created_time = value.get("created_time")
    # An edit happened at the entry's time; `created_time` is still the comment's own, possibly weeks older.
    if created_time and not (kind is EventKind.EDIT and entry_time is not None):
        created_at = from_graph_time(created_time)
    else:
        created_at = _entry_time(entry_time, received_at)
    event_id = {
        EventKind.EDIT: f"{object_id}:edited:{entry_time or created_time}",
        EventKind.DELETE: f"{object_id}:remove",
    }.get(kind, object_id)
    return make_event(
        platform=Platform.FACEBOOK,
        kind=kind,
        event_id=event_id,
        message_id=object_id,
        conversation_key=f"facebook:{page_id}:post:{post_id}",
        account_id=page_id,
        created_at=created_at,
        from_brand=from_brand,
        author={"id": sender["id"], "display_name": sender.get("name")} if sender.get("id") else None,
        text=value.get("message"),
        attachments=[{"type": kind_, "url": value[kind_]} for kind_ in ("photo", "video", "link") if value.get(kind_)],
        permalink=_facebook_permalink(value, post_id, object_id if item == "comment" else None),
        in_reply_to=value.get("parent_id") if item == "comment" else None,
    )


def _facebook_permalink(value: Mapping[str, Any], post_id: str, comment_id: str | None) -> str:
    post_url = (value.get("post") or {}).get("permalink_url")
    if not post_url:
        page, _, story = post_id.partition("_")
        post_url = f"https://www.facebook.com/{page}/posts/{story}" if story else f"https://www.facebook.com/{post_id}"
    if comment_id:
        return f"{post_url}{'&' if '?' in post_url else '?'}comment_id={comment_id.rpartition('_')[2]}"
    return str(post_url)


# --- Messenger and Instagram direct messages --------------------------------------------------


def _messaging(item: Mapping[str, Any], *, platform: Platform, account: str, standby: bool) -> SocialEvent | Ignored:
    """One `messaging`/`standby` item. Echoes (`is_echo`) are the Page's own messages: sender is the Page."""
    sender, recipient = item["sender"]["id"], item["recipient"]["id"]
    base = {"platform": platform, "account_id": account, "created_at": from_epoch_millis(item["timestamp"]), "standby": standby}
    if "message" in item:
        message = item["message"]
        echo = bool(message.get("is_echo"))
        mid = message["mid"]
        attachments = [
            {"type": str(attachment.get("type")), "url": (attachment.get("payload") or {}).get("url")}
            for attachment in message.get("attachments") or []
        ]
        text = message.get("text")
        deleted = bool(message.get("is_deleted"))
        return make_event(
            **base,
            kind=EventKind.DELETE if deleted else EventKind.DIRECT_MESSAGE,
            event_id=f"{mid}:deleted" if deleted else mid,
            message_id=mid,
            conversation_key=f"{platform}:{account}:dm:{recipient if echo else sender}",
            from_brand=echo,
            author={"id": sender},
            text=text,
            content_type="unsupported"
            if message.get("is_unsupported")
            else "text"
            if text or deleted
            else attachments[0]["type"]
            if attachments
            else "unknown",
            attachments=attachments,
            in_reply_to=(message.get("reply_to") or {}).get("mid"),
            source_app_id=id_text(message["app_id"]) if echo and message.get("app_id") is not None else None,
            sent_by_us=echo and is_our_metadata(message.get("metadata")),
            from_ad=not echo and _from_ad(message.get("referral") or item.get("referral")),
        )
    if "message_edit" in item:
        edit = item["message_edit"]
        return make_event(
            **base,
            kind=EventKind.EDIT,
            event_id=f"{edit['mid']}:edit:{edit.get('num_edit', item['timestamp'])}",
            message_id=edit["mid"],
            conversation_key=f"{platform}:{account}:dm:{sender}",
            from_brand=sender == account,
            author={"id": sender},
            text=edit.get("text"),
        )
    if "postback" in item:
        postback = item["postback"]
        return make_event(
            **base,
            kind=EventKind.DIRECT_MESSAGE,
            event_id=postback.get("mid") or f"postback:{sender}:{item['timestamp']}",
            message_id=postback.get("mid") or f"postback:{sender}:{item['timestamp']}",
            conversation_key=f"{platform}:{account}:dm:{sender}",
            from_brand=False,
            author={"id": sender},
            text=postback.get("title"),
            content_type="postback",
        )
    signal = next((key for key in item if key not in ("sender", "recipient", "timestamp")), "unknown")
    return Ignored(f"{platform}:{signal}")


def _from_ad(referral: object) -> bool:
    """A message that came from an ad carries `referral` with `source: "ADS"`, on the message or beside it as in the
    `messaging_referrals` event (developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/
    webhook-events/messaging_referrals)."""
    return isinstance(referral, dict) and referral.get("source") == "ADS"


# --- Instagram comments and mentions ----------------------------------------------------------


def _instagram_comment(value: Mapping[str, Any], *, account: str, entry_time: int | None, received_at: datetime) -> SocialEvent:
    """The comment id is `id`, or `comment_id` in the Facebook-Login variant of the payload."""
    comment_id = value.get("id") or value["comment_id"]
    media_id = (value.get("media") or {}).get("id") or value["media_id"]
    sender = value["from"]
    return make_event(
        platform=Platform.INSTAGRAM,
        kind=EventKind.COMMENT,
        event_id=comment_id,
        message_id=comment_id,
        conversation_key=f"instagram:{account}:media:{media_id}",
        account_id=account,
        created_at=_entry_time(entry_time, received_at),
        from_brand=sender["id"] == account,
        author={"id": sender["id"], "handle": sender.get("username")},
        text=value.get("text"),
        in_reply_to=value.get("parent_id") or media_id,
    )


def _instagram_mention(value: Mapping[str, Any], *, account: str, entry_time: int | None, received_at: datetime) -> SocialEvent:
    """Mentions carry only ids (Facebook Login); the text and author must be fetched later."""
    media_id = value["media_id"]
    comment_id = value.get("comment_id")
    return make_event(
        platform=Platform.INSTAGRAM,
        kind=EventKind.COMMENT if comment_id else EventKind.POST,
        event_id=comment_id or f"{media_id}:mention",
        message_id=comment_id or media_id,
        conversation_key=f"instagram:{account}:media:{media_id}",
        account_id=account,
        created_at=_entry_time(entry_time, received_at),
        from_brand=False,
        content_type="mention",
    )


# --- WhatsApp Cloud API -------------------------------------------------------------------------
#
# Since April 2026 Meta names a WhatsApp customer by a business-scoped user id (BSUID: `contacts[].user_id`,
# `messages[].from_user_id`, `statuses[].recipient_user_id`), and by phone number (`wa_id`, `from`,
# `recipient_id`) only while it may share it: a customer who adopted a username can come with the BSUID alone,
# and a failed status of a message sent to a phone number with the phone alone (
# https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/ ,
# field table at https://dualhook.com/docs/contacts-bsuid-webhooks). So a customer and their chat are keyed by
# the BSUID when the payload has one, else by the phone, and a payload naming both gives
# the phone-keyed chat as `conversation_alias`: the processor continues a chat it keyed by phone before
# (process/aliases.py). `parent_user_id` (shared across portfolios, only when Meta enables it) is not a key:
# the BSUID is the one id every payload of one business carries. The username is display data (`handle`).


def _whatsapp(value: Mapping[str, Any], batch: NormalisedBatch) -> None:
    metadata = value.get("metadata") or {}
    contacts = value.get("contacts") or []
    for message in value.get("messages") or []:
        batch.add(message, partial(_whatsapp_message, message, metadata=metadata, contacts=contacts))
    for status in value.get("statuses") or []:
        batch.add(status, partial(_whatsapp_status, status, metadata=metadata, contacts=contacts))
    if errors := value.get("errors"):
        batch.ignore("whatsapp:errors", len(errors) if isinstance(errors, list) else 1)


def _whatsapp_echoes(value: Mapping[str, Any], batch: NormalisedBatch) -> None:
    """`smb_message_echoes`: what the brand typed in the WhatsApp Business app on a Cloud API number (coexistence).

    The brand's own replies: an internal note that marks the chat answered, never a customer message
    (as Chatwoot handles them: chatwoot/chatwoot PR 13371). Payload: `value.message_echoes[]` with `from` (the brand's number), `to`
    (the customer's number as the app addressed it, possibly with `+`) and, since BSUIDs, `to_user_id`
    (https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/smb_message_echoes/).
    """
    metadata = value.get("metadata") or {}
    contacts = value.get("contacts") or []
    for echo in value.get("message_echoes") or []:
        batch.add(echo, partial(_whatsapp_echo, echo, metadata=metadata, contacts=contacts))


def _whatsapp_message(message: Mapping[str, Any], *, metadata: Mapping[str, Any], contacts: Sequence[Mapping[str, Any]]) -> SocialEvent | Ignored:
    """A customer message; `type` decides where its content is (check it before reading `text`)."""
    message_type = str(message.get("type"))
    if message_type in _WHATSAPP_IGNORED:
        return Ignored(f"whatsapp:{message_type}")
    phone_number_id = metadata["phone_number_id"]
    user_id, phone, contact = _whatsapp_customer(message, "from_user_id", "from", contacts)
    key, alias = _whatsapp_chat(phone_number_id, user_id, phone)
    profile = contact.get("profile") or {}
    text, attachments = _whatsapp_content(message, message_type)
    return make_event(
        platform=Platform.WHATSAPP,
        kind=EventKind.DIRECT_MESSAGE,
        event_id=message["id"],
        message_id=message["id"],
        conversation_key=key,
        conversation_alias=alias,
        account_id=phone_number_id,
        created_at=from_epoch_seconds(message["timestamp"]),
        from_brand=False,
        author={"id": user_id or phone, "display_name": profile.get("name"), "handle": profile.get("username"), "phone": phone},
        text=text,
        content_type=message_type,
        attachments=attachments,
        in_reply_to=(message.get("context") or {}).get("id"),
    )


def _whatsapp_echo(echo: Mapping[str, Any], *, metadata: Mapping[str, Any], contacts: Sequence[Mapping[str, Any]]) -> SocialEvent | Ignored:
    """One message the brand sent from the WhatsApp Business app: a brand reply in the customer's chat."""
    message_type = str(echo.get("type"))
    if message_type in _WHATSAPP_IGNORED or message_type in _WHATSAPP_ECHOES_IGNORED:
        return Ignored(f"whatsapp:echo_{message_type}")
    phone_number_id = metadata["phone_number_id"]
    user_id, phone, _ = _whatsapp_customer(echo, "to_user_id", "to", contacts)
    key, alias = _whatsapp_chat(phone_number_id, user_id, phone)
    text, attachments = _whatsapp_content(echo, message_type)
    return make_event(
        platform=Platform.WHATSAPP,
        kind=EventKind.DIRECT_MESSAGE,
        event_id=echo["id"],
        message_id=echo["id"],
        conversation_key=key,
        conversation_alias=alias,
        account_id=phone_number_id,
        created_at=from_epoch_seconds(echo["timestamp"]),
        from_brand=True,
        author={"id": phone_number_id},
        text=text,
        content_type=message_type,
        attachments=attachments,
        in_reply_to=(echo.get("context") or {}).get("id"),
    )


def _whatsapp_content(message: Mapping[str, Any], message_type: str) -> tuple[str | None, list[dict[str, Any]]]:
    body = message.get(message_type) or {}
    if message_type == "text":
        return body["body"], []
    if message_type in _WHATSAPP_MEDIA:
        attachment = {"type": message_type, "id": body.get("id"), "mime_type": body.get("mime_type"), "name": body.get("filename")}
        return body.get("caption"), [attachment]
    if message_type == "interactive":
        reply = body.get("button_reply") or body.get("list_reply") or {}
        return reply.get("title"), []
    if message_type == "button":
        return body.get("text"), []
    if message_type == "location":
        place = ", ".join(part for part in (body.get("name"), body.get("address")) if part)
        where = f"{body['latitude']}, {body['longitude']}"
        return (f"{place} ({where})" if place else where), [{"type": "location", "url": f"https://maps.google.com/?q={where.replace(' ', '')}"}]
    if message_type == "contacts":
        names = [(contact.get("name") or {}).get("formatted_name") for contact in message.get("contacts") or []]
        return "Shared contact: " + ", ".join(name for name in names if name), []
    return None, []


def _whatsapp_status(status: Mapping[str, Any], *, metadata: Mapping[str, Any], contacts: Sequence[Mapping[str, Any]]) -> SocialEvent:
    """Delivery of one of our own messages: sent, delivered, read or failed (with the error).

    The recipient is `recipient_user_id` (BSUID) and/or `recipient_id` (phone): a failed status of a message
    sent to a phone number carries the phone alone and no `contacts` (https://dualhook.com/docs/contacts-bsuid-webhooks).
    """
    phone_number_id = metadata["phone_number_id"]
    error = (status.get("errors") or [{}])[0]
    user_id, phone, _ = _whatsapp_customer(status, "recipient_user_id", "recipient_id", contacts)
    key, alias = _whatsapp_chat(phone_number_id, user_id, phone)
    return make_event(
        platform=Platform.WHATSAPP,
        kind=EventKind.DELIVERY_STATUS,
        event_id=f"{status['id']}:{status['status']}",
        message_id=status["id"],
        conversation_key=key,
        conversation_alias=alias,
        account_id=phone_number_id,
        created_at=from_epoch_seconds(status["timestamp"]),
        from_brand=True,
        author={"id": phone_number_id, "handle": metadata.get("display_phone_number")},
        delivery={"status": status["status"], "error_code": code(error.get("code")), "error_title": error.get("title")},
    )


def _whatsapp_customer(
    item: Mapping[str, Any], user_id_field: str, phone_field: str, contacts: Sequence[Mapping[str, Any]]
) -> tuple[str | None, str | None, Mapping[str, Any]]:
    """The customer's BSUID and phone number, each from the item or else from its `contacts` entry, and that entry."""
    user_id, phone = item.get(user_id_field), item.get(phone_field)
    if phone_field == "to" and isinstance(phone, str):
        phone = _digits(phone)  # an echo names the number as the Business app addressed it, possibly with `+`
    contact = next(
        (
            contact
            for contact in contacts
            if (user_id is not None and contact.get("user_id") == user_id) or (phone is not None and contact.get("wa_id") == phone)
        ),
        {},
    )
    user_id, phone = user_id or contact.get("user_id"), phone or contact.get("wa_id")
    if not all(isinstance(value, str | None) for value in (user_id, phone)):
        raise TypeError("a customer id is not a string")
    if not (user_id or phone):
        raise KeyError(phone_field)  # neither id: the item is unreadable
    return user_id, phone, contact


def _whatsapp_chat(phone_number_id: str, user_id: str | None, phone: str | None) -> tuple[str, str | None]:
    """The chat key, by BSUID when there is one, and the phone-keyed alias when the payload names both."""
    if user_id:
        return f"whatsapp:{phone_number_id}:chat:{user_id}", f"whatsapp:{phone_number_id}:chat:{phone}" if phone else None
    return f"whatsapp:{phone_number_id}:chat:{phone}", None


def _digits(phone: str) -> str:
    """A phone number as WhatsApp writes `wa_id` and `from`: digits only, no leading `+`."""
    return "".join(character for character in phone if character.isdigit())


# --- helpers ------------------------------------------------------------------------------------


def _entry_time(value: int | None, fallback: datetime) -> datetime:
    """Graph `entry.time`, in seconds for feed and Instagram changes."""
    return fallback if value is None else from_epoch_seconds(value)


def _platform_name(product: str) -> str:
    return {"page": "facebook", "whatsapp_business_account": "whatsapp"}.get(product, product)
