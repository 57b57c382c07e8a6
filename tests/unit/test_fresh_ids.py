"""`socialdesk send --fresh`: a sample sent again is a new message in the same conversation, not a duplicate delivery."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from socialdesk.devtools.fresh_ids import with_fresh_ids
from socialdesk.model import SocialEvent
from socialdesk.platforms.meta import MetaWebhook
from socialdesk.platforms.timestamps import from_x_snowflake
from socialdesk.platforms.x import XWebhook
from tests.support.webhooks import sample_body

AT = datetime(2026, 11, 23, 9, 30, 15, tzinfo=UTC)

# Every sample that carries a customer's or the brand's message, on every platform and envelope.
SAME_CONVERSATION = [
    "x-reply",
    "x-brand-reply",
    "x-dm",
    "x-dm-brand",
    "x-activity-dm",
    "x-activity-edit",
    "meta-fb-comment",
    "meta-fb-comment-reply",
    "meta-fb-page-reply",
    "meta-messenger-message",
    "meta-messenger-echo",
    "meta-instagram-comment",
    "meta-instagram-mention",
    "meta-instagram-dm",
    "meta-whatsapp-text",
    "meta-whatsapp-image",
    "meta-batch",
]
# A message whose own id is its thread's: a copy is a new post, so a thread of its own (as on the platform).
OWN_THREAD = ["x-mention", "x-activity-mention", "meta-fb-visitor-post"]
# About a message that already exists: nothing new to name.
UNCHANGED = ["x-tweet-delete", "meta-fb-comment-removed", "meta-whatsapp-status-failed"]


def events(name: str, payload: Any) -> list[SocialEvent]:
    webhook = XWebhook() if name.startswith("x-") else MetaWebhook()
    batch = webhook.normalise(payload, AT)
    assert batch.events, batch
    return list(batch.events)


@pytest.mark.parametrize("name", SAME_CONVERSATION)
def test_a_fresh_copy_is_a_new_message_in_the_same_conversation(name: str) -> None:
    # Given a sample and a fresh copy of it
    original = events(name, sample_body(name))
    fresh = events(name, with_fresh_ids(sample_body(name), AT))
    # Then every event is new (the stack would not take it for a delivery it has seen), in the conversation the original is in
    assert {event.event_id for event in fresh}.isdisjoint(event.event_id for event in original)
    assert [event.conversation_key for event in fresh] == [event.conversation_key for event in original]
    # And it still says the same, by the same author, in reply to the same message
    assert [(event.kind, event.text, event.author, event.in_reply_to) for event in fresh] == [
        (event.kind, event.text, event.author, event.in_reply_to) for event in original
    ]


def test_a_fresh_edit_edits_the_same_message() -> None:
    # Given the X Activity API edit of a reply
    [original] = events("x-activity-edit", sample_body("x-activity-edit"))
    [fresh] = events("x-activity-edit", with_fresh_ids(sample_body("x-activity-edit"), AT))
    # Then the copy is another edit of the same post
    assert fresh.event_id != original.event_id
    assert fresh.message_id == original.message_id


@pytest.mark.parametrize("name", OWN_THREAD)
def test_a_fresh_post_starts_its_own_thread_with_a_consistent_body(name: str) -> None:
    [original] = events(name, sample_body(name))
    [fresh] = events(name, with_fresh_ids(sample_body(name), AT))
    assert fresh.event_id != original.event_id
    assert fresh.conversation_key != original.conversation_key
    # Its thread is named by its own new id, as the original's is by its own
    assert fresh.conversation_key.endswith(f":{fresh.message_id}")
    assert original.conversation_key.endswith(f":{original.message_id}")


@pytest.mark.parametrize("name", UNCHANGED)
def test_a_deletion_or_delivery_status_keeps_the_message_it_is_about(name: str) -> None:
    assert with_fresh_ids(sample_body(name), AT) == sample_body(name)


def test_x_ids_stay_snowflakes_of_the_send_time_as_number_and_text() -> None:
    # Given an X mention, which carries its id twice (a number and a string)
    tweet = with_fresh_ids(sample_body("x-mention"), AT)["tweet_create_events"][0]
    # Then both name the same new id, and it dates to the send time (a post without created_at is dated by it)
    assert str(tweet["id"]) == tweet["id_str"]
    assert abs(from_x_snowflake(tweet["id_str"]) - AT) < timedelta(seconds=1)
    # And the customer is still who they were
    assert tweet["user"]["id_str"] == "123456789"


def test_new_ids_keep_the_shape_of_the_old_ones() -> None:
    rng = random.Random(7)
    whatsapp = with_fresh_ids(sample_body("meta-whatsapp-text"), AT, rng)["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    comment = with_fresh_ids(sample_body("meta-fb-comment"), AT, rng)["entry"][0]["changes"][0]["value"]["comment_id"]
    assert whatsapp.startswith("wamid.")
    assert len(whatsapp) == len(sample_body("meta-whatsapp-text")["entry"][0]["changes"][0]["value"]["messages"][0]["id"])
    assert comment.startswith("1221316769125949_")
    assert comment.partition("_")[2].isdigit()


def test_two_fresh_copies_differ_from_each_other() -> None:
    first = with_fresh_ids(sample_body("meta-whatsapp-text"), AT)
    second = with_fresh_ids(sample_body("meta-whatsapp-text"), AT)
    assert first != second
