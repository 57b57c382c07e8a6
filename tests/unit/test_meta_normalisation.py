"""Meta payloads (Pages feed, Messenger, Instagram, WhatsApp) into canonical events (developers.facebook.com: Pages feed, Messenger,
Instagram and WhatsApp webhook references)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from socialdesk.model import EventKind, Platform
from socialdesk.platforms.meta import MetaWebhook
from tests.support.webhooks import recorded_body

if TYPE_CHECKING:
    from socialdesk.platforms.batch import NormalisedBatch

PAGE = "448242228374517"
POST = f"{PAGE}_1221316769125949"
IG = "17841405726653026"
PHONE_ID = "106540352242922"
BSUID = "US.13491208655302741918"  # Dana's business-scoped user id in the samples; her number is 16505551234
RECEIVED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def normalise(payload: Any) -> NormalisedBatch:
    return MetaWebhook().normalise(payload, RECEIVED)


def one_event(name: str) -> Any:
    batch = normalise(recorded_body(name))
    assert batch.unreadable == [], batch.unreadable
    [event] = batch.events
    return event


# --- Facebook Page feed ---------------------------------------------------------------------


def test_page_comment_keeps_non_ascii_text_and_links_back_to_the_comment() -> None:
    event = one_event("meta-fb-comment")
    assert (event.platform, event.kind, event.from_brand) == (Platform.FACEBOOK, EventKind.COMMENT, False)
    assert event.text == "Todavía espero mi reembolso — ¿qué pasó? café derramado ☕"
    assert event.event_id == event.message_id == "1221316769125949_1213590066982748"
    assert event.conversation_key == f"facebook:{PAGE}:post:{POST}"
    assert event.in_reply_to == POST
    assert event.author is not None
    assert (event.author.id, event.author.display_name) == ("7012345678901234", "Dana Rodríguez")
    assert event.created_at == datetime.fromtimestamp(1742667604, tz=UTC)
    assert event.permalink == "https://www.facebook.com/acmehelp/posts/pfbid02abcDEF?comment_id=1213590066982748"


def test_reply_to_a_comment_stays_in_the_post_thread_and_names_its_parent() -> None:
    event = one_event("meta-fb-comment-reply")
    assert event.conversation_key == f"facebook:{PAGE}:post:{POST}"
    assert event.in_reply_to == "1221316769125949_1213590066982748"


def test_edit_and_removal_are_their_own_events_about_the_same_comment() -> None:
    added, edited, removed = one_event("meta-fb-comment"), one_event("meta-fb-comment-edited"), one_event("meta-fb-comment-removed")
    assert (edited.kind, removed.kind) == (EventKind.EDIT, EventKind.DELETE)
    assert added.message_id == edited.message_id == removed.message_id
    assert len({added.event_id, edited.event_id, removed.event_id}) == 3
    assert edited.text == "Todavía espero mi reembolso (pedido 4411)"
    assert removed.text is None


def test_visitor_post_with_photo_becomes_a_post_with_its_attachment() -> None:
    event = one_event("meta-fb-visitor-post")
    assert (event.kind, event.from_brand) == (EventKind.POST, False)
    assert event.conversation_key == f"facebook:{PAGE}:post:{PAGE}_1230000000000001"
    assert [(a.type, a.url) for a in event.attachments] == [("photo", "https://scontent.xx.fbcdn.net/v/t39.30808-6/4411_n.jpg")]
    assert event.permalink == f"https://www.facebook.com/{PAGE}/posts/1230000000000001"


def test_page_comment_is_the_brands_own_answer() -> None:
    event = one_event("meta-fb-page-reply")
    assert (event.kind, event.from_brand) == (EventKind.COMMENT, True)
    assert event.in_reply_to == "1221316769125949_1213590066982748"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"item": "reaction", "verb": "add", "reaction_type": "angry"}, "facebook:reaction"),
        ({"item": "comment", "verb": "hide", "comment_id": "1_2"}, "facebook:comment_hide"),
        ({"item": "status", "verb": "add", "from": {"id": PAGE}, "message": "Our spring sale!"}, "facebook:page_post"),
    ],
    ids=["reaction", "hidden-comment", "page-own-post"],
)
def test_feed_items_without_support_work_are_acknowledged(change: dict[str, Any], reason: str) -> None:
    value = {"post_id": POST, "created_time": 1742667700, **change}
    batch = normalise({"object": "page", "entry": [{"id": PAGE, "time": 1, "changes": [{"field": "feed", "value": value}]}]})
    assert (batch.events, dict(batch.ignored)) == ([], {reason: 1})


# --- Messenger --------------------------------------------------------------------------------


def test_messenger_message_and_its_echo_share_the_customer_conversation() -> None:
    message, echo = one_event("meta-messenger-message"), one_event("meta-messenger-echo")
    assert message.platform is echo.platform is Platform.MESSENGER
    assert message.conversation_key == echo.conversation_key == f"messenger:{PAGE}:dm:6789012345678901"
    assert (message.from_brand, echo.from_brand) == (False, True)
    assert echo.source_app_id == "1517776481860111"  # tells our auto-acknowledgement from a human agent's reply
    assert message.created_at == datetime.fromtimestamp(1752000000.123, tz=UTC)  # milliseconds, not seconds
    assert message.text == "Where is my parcel? Ich warte seit zwei Wochen 😕"


def test_a_messenger_message_from_an_ad_says_so_and_one_from_a_link_does_not() -> None:
    # Given messages carrying a referral: from a Click-to-Messenger ad (source ADS), and from an m.me link (SHORTLINK)
    # (developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messaging_referrals)
    def message(referral: dict[str, Any], *, beside: bool = False) -> Any:
        item: dict[str, Any] = {"sender": {"id": "678"}, "recipient": {"id": PAGE}, "timestamp": 1752000000123}
        item["message"] = {"mid": "m_ad", "text": "hi"}
        (item if beside else item["message"])["referral"] = referral
        [event] = normalise({"object": "page", "entry": [{"id": PAGE, "time": 1752000000456, "messaging": [item]}]}).events
        return event

    ad = {"ref": "spring", "ad_id": "6045246247433", "source": "ADS", "type": "OPEN_THREAD"}
    # Then the ad's message is marked (its window may last 7 days), wherever the referral sits, and the link's is not
    assert message(ad).from_ad and message(ad, beside=True).from_ad
    assert not message({"ref": "x", "source": "SHORTLINK", "type": "OPEN_THREAD"}).from_ad
    assert not one_event("meta-messenger-message").from_ad


def test_messenger_edit_postback_and_read_receipt() -> None:
    def messaging(item: dict[str, Any]) -> NormalisedBatch:
        base = {"sender": {"id": "678"}, "recipient": {"id": PAGE}, "timestamp": 1752000000123}
        return normalise({"object": "page", "entry": [{"id": PAGE, "time": 1752000000456, "messaging": [{**base, **item}]}]})

    [edit] = messaging({"message_edit": {"mid": "m_1", "text": "corrected text", "num_edit": 2}}).events
    assert (edit.kind, edit.message_id, edit.event_id, edit.text) == (EventKind.EDIT, "m_1", "m_1:edit:2", "corrected text")
    [postback] = messaging({"postback": {"mid": "m_2", "title": "Talk to a human", "payload": "HUMAN"}}).events
    assert (postback.kind, postback.text, postback.content_type) == (EventKind.DIRECT_MESSAGE, "Talk to a human", "postback")
    assert dict(messaging({"read": {"watermark": 1}}).ignored) == {"messenger:read": 1}
    assert dict(messaging({"delivery": {"mids": ["m_1"], "watermark": 1}}).ignored) == {"messenger:delivery": 1}


def test_standby_items_are_read_and_flagged() -> None:
    payload = recorded_body("meta-batch")
    [standby] = [event for event in normalise(payload).events if event.standby]
    assert standby.message_id == "m_Standby01"


# --- Instagram --------------------------------------------------------------------------------


def test_instagram_comment_is_keyed_by_its_media() -> None:
    event = one_event("meta-instagram-comment")
    assert (event.platform, event.kind, event.from_brand) == (Platform.INSTAGRAM, EventKind.COMMENT, False)
    assert event.conversation_key == f"instagram:{IG}:media:17918195224117851"
    assert event.author is not None
    assert event.author.handle == "dana.r"
    assert event.created_at == datetime.fromtimestamp(1752000000, tz=UTC)


def test_instagram_comment_id_is_accepted_under_either_key_and_own_comments_are_the_brands() -> None:
    payload = recorded_body("meta-instagram-comment")
    value = payload["entry"][0]["changes"][0]["value"]
    value["comment_id"] = value.pop("id")  # Facebook-Login variant of the payload
    value["from"] = {"id": IG, "username": "acme"}
    [event] = normalise(payload).events
    assert (event.message_id, event.from_brand) == ("17865799348089039", True)


def test_instagram_mention_carries_ids_to_fetch_later() -> None:
    event = one_event("meta-instagram-mention")
    assert (event.kind, event.content_type, event.author, event.text) == (EventKind.COMMENT, "mention", None, None)
    assert event.message_id == "17865799348089777"


def test_instagram_dm_and_unsent_message() -> None:
    event = one_event("meta-instagram-dm")
    assert (event.platform, event.kind) == (Platform.INSTAGRAM, EventKind.DIRECT_MESSAGE)
    assert event.conversation_key == f"instagram:{IG}:dm:1234567890123456"
    payload = recorded_body("meta-instagram-dm")
    payload["entry"][0]["messaging"][0]["message"]["is_deleted"] = True
    [deleted] = normalise(payload).events
    assert (deleted.kind, deleted.message_id) == (EventKind.DELETE, event.message_id)


# --- WhatsApp ---------------------------------------------------------------------------------


def test_whatsapp_text_with_profile_name_and_seconds_timestamp() -> None:
    event = one_event("meta-whatsapp-text")
    assert (event.platform, event.kind, event.content_type) == (Platform.WHATSAPP, EventKind.DIRECT_MESSAGE, "text")
    assert event.account_id == PHONE_ID
    assert event.conversation_key == f"whatsapp:{PHONE_ID}:chat:16505551234"
    assert event.text == "Mi pedido no ha llegado. ¿Pueden ayudarme? 🙏"
    assert event.author is not None
    assert (event.author.id, event.author.display_name, event.author.phone) == ("16505551234", "Dana Rodríguez", "16505551234")
    assert event.created_at == datetime.fromtimestamp(1752000000, tz=UTC)
    assert event.conversation_alias is None  # recorded before business-scoped ids: the phone is the only key


def test_whatsapp_image_keeps_caption_media_id_and_quoted_message() -> None:
    event = one_event("meta-whatsapp-image")
    assert (event.content_type, event.text) == ("image", "This is what arrived")
    assert [(a.type, a.id, a.mime_type) for a in event.attachments] == [("image", "1003383421387256", "image/jpeg")]
    assert event.in_reply_to == "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"


@pytest.mark.parametrize(
    ("message", "expected_text"),
    [
        ({"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "b1", "title": "Track my order"}}}, "Track my order"),
        ({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "l1", "title": "Refunds"}}}, "Refunds"),
        ({"type": "button", "button": {"text": "Yes, call me", "payload": "CALL"}}, "Yes, call me"),
        ({"type": "location", "location": {"latitude": 52.37, "longitude": 4.89, "name": "Depot"}}, "Depot (52.37, 4.89)"),
        ({"type": "contacts", "contacts": [{"name": {"formatted_name": "Sam K"}}]}, "Shared contact: Sam K"),
        ({"type": "unsupported", "errors": [{"code": 131051}]}, None),
    ],
    ids=["button-reply", "list-reply", "template-button", "location", "contacts", "unsupported"],
)
def test_whatsapp_message_types_are_read_by_their_type(message: dict[str, Any], expected_text: str | None) -> None:
    payload = recorded_body("meta-whatsapp-text")
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"] = [{"from": "16505551234", "id": "wamid.X", "timestamp": "1752000000", **message}]
    [event] = normalise(payload).events
    assert (event.content_type, event.text) == (message["type"], expected_text)


def test_whatsapp_reactions_are_acknowledged_not_queued() -> None:
    payload = recorded_body("meta-whatsapp-text")
    payload["entry"][0]["changes"][0]["value"]["messages"][0] = {
        "from": "1",
        "id": "wamid.R",
        "timestamp": "1",
        "type": "reaction",
        "reaction": {"emoji": "👍"},
    }
    assert dict(normalise(payload).ignored) == {"whatsapp:reaction": 1}


def test_whatsapp_failed_status_reports_the_error_on_the_brands_message() -> None:
    event = one_event("meta-whatsapp-status-failed")
    assert (event.kind, event.from_brand) == (EventKind.DELIVERY_STATUS, True)
    assert event.message_id == "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
    assert event.delivery is not None
    assert (event.delivery.status, event.delivery.error_code, event.delivery.error_title) == ("failed", 131047, "Re-engagement message")
    assert event.conversation_key == f"whatsapp:{PHONE_ID}:chat:16505551234"


def test_each_whatsapp_status_of_one_message_is_a_separate_event() -> None:
    payload = recorded_body("meta-whatsapp-status-failed")
    value = payload["entry"][0]["changes"][0]["value"]
    status = value["statuses"][0]
    value["statuses"] = [{**status, "status": "sent", "errors": []}, {**status, "status": "delivered", "errors": []}]
    assert [event.event_id.rsplit(":", 1)[1] for event in normalise(payload).events] == ["sent", "delivered"]


# WhatsApp business-scoped user ids (BSUID) since April 2026:
# https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/ ; field table from
# https://dualhook.com/docs/contacts-bsuid-webhooks (secondary).


def test_whatsapp_message_with_bsuid_and_phone_is_keyed_by_the_bsuid_and_names_the_phone_keyed_chat() -> None:
    # Given Dana's message carrying her business-scoped user id beside her number
    # When normalised
    event = one_event("meta-whatsapp-text-bsuid")
    # Then the chat and the customer go by the BSUID, the number is an attribute, and the phone-keyed chat is its alias
    assert event.conversation_key == f"whatsapp:{PHONE_ID}:chat:{BSUID}"
    assert event.conversation_alias == f"whatsapp:{PHONE_ID}:chat:16505551234"
    assert event.author is not None
    assert (event.author.id, event.author.phone, event.author.display_name) == (BSUID, "16505551234", "Dana Rodríguez")


def test_whatsapp_message_from_a_username_without_phone_is_read_not_quarantined() -> None:
    # Given a message from a customer who adopted a username: no `wa_id`, no `from`, only `from_user_id`
    batch = normalise(recorded_body("meta-whatsapp-username"))
    # When normalised
    [event] = batch.events
    # Then it is queued, keyed by the BSUID with no alias, and the username is display data
    assert batch.unreadable == []
    assert (event.conversation_key, event.conversation_alias) == (f"whatsapp:{PHONE_ID}:chat:{BSUID}", None)
    assert event.author is not None
    assert (event.author.id, event.author.phone, event.author.handle) == (BSUID, None, "dana.rodriguez")
    assert event.text == "Gracias, ya tengo el número de seguimiento 👍"


def test_whatsapp_bsuid_is_taken_from_the_contacts_entry_when_the_message_names_only_the_phone() -> None:
    # Given a message whose `from_user_id` is missing while its contacts entry has the customer's BSUID
    payload = recorded_body("meta-whatsapp-text-bsuid")
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["from_user_id"]
    # When normalised
    [event] = normalise(payload).events
    # Then the BSUID still keys the chat
    assert event.author is not None
    assert (event.conversation_key, event.author.id, event.author.phone) == (f"whatsapp:{PHONE_ID}:chat:{BSUID}", BSUID, "16505551234")


def test_whatsapp_customer_id_that_is_not_a_string_quarantines_the_message() -> None:
    # Given a message whose BSUID is a number
    payload = recorded_body("meta-whatsapp-username")
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"][0]["from_user_id"], value["contacts"] = 13491208655302741918, []
    # When normalised, then it is set aside with the reason, not queued under a made-up key
    batch = normalise(payload)
    assert (batch.events, [item.reason for item in batch.unreadable]) == ([], ["TypeError: a customer id is not a string"])


def test_whatsapp_status_naming_only_the_bsuid_is_keyed_by_it() -> None:
    # Given a failed status of a message the brand sent to Dana's BSUID (no `recipient_id`, no contacts)
    event = one_event("meta-whatsapp-status-failed-bsuid")
    # Then it belongs to her BSUID-keyed chat, with its error
    assert (event.kind, event.from_brand) == (EventKind.DELIVERY_STATUS, True)
    assert (event.conversation_key, event.conversation_alias) == (f"whatsapp:{PHONE_ID}:chat:{BSUID}", None)
    assert event.delivery is not None
    assert (event.delivery.status, event.delivery.error_code) == ("failed", 131026)


def test_whatsapp_status_naming_both_ids_names_the_phone_keyed_chat_too() -> None:
    # Given a delivered status carrying the recipient's BSUID and number
    payload = recorded_body("meta-whatsapp-status-failed")
    value = payload["entry"][0]["changes"][0]["value"]
    value["statuses"][0] = {**value["statuses"][0], "status": "delivered", "errors": [], "recipient_user_id": BSUID}
    # When normalised
    [event] = normalise(payload).events
    # Then it is keyed like her messages are
    assert (event.conversation_key, event.conversation_alias) == (f"whatsapp:{PHONE_ID}:chat:{BSUID}", f"whatsapp:{PHONE_ID}:chat:16505551234")


def test_whatsapp_business_app_echo_is_the_brands_reply_in_the_customers_chat() -> None:
    # Given a reply the brand typed in the WhatsApp Business app (coexistence), echoed as `smb_message_echoes`
    event = one_event("meta-whatsapp-smb-echo")
    # Then it is a brand message (a note that answers the chat, as chatwoot/chatwoot PR 13371 treats it), never a customer message
    assert (event.platform, event.kind, event.from_brand) == (Platform.WHATSAPP, EventKind.DIRECT_MESSAGE, True)
    assert event.text == "Hola Dana, su pedido #4411 sale hoy. Disculpe la demora."
    assert event.author is not None
    assert (event.author.id, event.author.phone) == (PHONE_ID, None)
    # And it is in the customer's chat, the `+` of the number as the app addressed it dropped for the alias
    assert (event.conversation_key, event.conversation_alias) == (f"whatsapp:{PHONE_ID}:chat:{BSUID}", f"whatsapp:{PHONE_ID}:chat:16505551234")


def test_whatsapp_business_app_echo_addressed_by_number_alone_is_in_the_phone_keyed_chat() -> None:
    # Given an echo without `to_user_id`, its number written with a `+`
    payload = recorded_body("meta-whatsapp-smb-echo")
    del payload["entry"][0]["changes"][0]["value"]["message_echoes"][0]["to_user_id"]
    # When normalised
    [event] = normalise(payload).events
    # Then it is keyed as the customer's own messages with that number are (`from` has no leading `+`)
    assert (event.conversation_key, event.conversation_alias) == (f"whatsapp:{PHONE_ID}:chat:16505551234", None)


@pytest.mark.parametrize("echo_type", ["edit", "revoke", "reaction"])
def test_whatsapp_business_app_echoes_without_words_to_note_are_acknowledged(echo_type: str) -> None:
    # Given the brand editing, revoking or reacting in the Business app (Meta documents no content for the first two)
    payload = recorded_body("meta-whatsapp-smb-echo")
    echo = payload["entry"][0]["changes"][0]["value"]["message_echoes"][0]
    echo["type"] = echo_type
    # When normalised, then it is counted and nothing is queued
    batch = normalise(payload)
    assert (batch.events, dict(batch.ignored)) == ([], {f"whatsapp:echo_{echo_type}": 1})


# --- Batches, unknown input and broken shapes --------------------------------------------------


def test_batch_yields_one_event_per_item_across_entries_and_changes() -> None:
    batch = normalise(recorded_body("meta-batch"))
    assert [event.message_id for event in batch.events] == [
        "1221316769125949_1213590066982748",
        "1221316769125949_1213590066982749",
        "m_Batch001",
        "m_Standby01",
    ]
    assert dict(batch.ignored) == {"facebook:reaction": 1}


def test_unknown_objects_and_fields_are_acknowledged() -> None:
    assert dict(normalise({"object": "user", "entry": []}).ignored) == {"meta:user": 1}
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "message_template_status_update", "value": {}}]}]}
    assert dict(normalise(payload).ignored) == {"whatsapp:message_template_status_update": 1}


def test_broken_entries_are_quarantined_while_siblings_are_queued() -> None:
    # Given a batch whose first entry is not an object and whose WhatsApp message lacks its sender
    payload = recorded_body("meta-whatsapp-text")
    good = payload["entry"][0]
    broken_message = copy.deepcopy(good)
    del broken_message["changes"][0]["value"]["messages"][0]["from"]
    payload["entry"] = ["not-an-entry", broken_message, good]
    # When normalised
    batch = normalise(payload)
    # Then the good message is an event and both broken items are kept for inspection
    assert [event.author.id for event in batch.events if event.author] == ["16505551234"]
    assert next(item.item for item in batch.unreadable) == "not-an-entry"
    assert batch.unreadable[1].reason == "KeyError: 'from'"


def test_entry_that_is_not_a_list_is_quarantined_whole() -> None:
    batch = normalise({"object": "page", "entry": {"id": PAGE}})
    assert batch.events == []
    assert [item.reason for item in batch.unreadable] == ["`entry` is not a list"]
