"""X payloads, both envelopes, into canonical events (docs.x.com: x-api/webhooks, x-api/activity/event-payloads)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from socialdesk.model import EventKind, Platform
from socialdesk.platforms.x import XWebhook
from tests.support.webhooks import recorded_body

if TYPE_CHECKING:
    from socialdesk.platforms.batch import NormalisedBatch

BRAND = "900000000000000001"
RECEIVED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def normalise(payload: Any) -> NormalisedBatch:
    return XWebhook().normalise(payload, RECEIVED)


def test_mention_becomes_a_post_with_author_context_and_permalink() -> None:
    # Given an Account Activity mention from a customer
    # When it is normalised
    batch = normalise(recorded_body("x-mention"))
    # Then one post event carries everything an agent needs
    [event] = batch.events
    assert (event.platform, event.kind, event.from_brand) == (Platform.X, EventKind.POST, False)
    assert event.event_id == event.message_id == "1924465506158878979"
    assert event.account_id == BRAND
    assert event.conversation_key == f"x:{BRAND}:thread:1924465506158878979"
    assert event.text == "@AcmeHelp my order #4411 never arrived 📦 — ¿me ayudan?"
    assert event.author is not None
    assert (event.author.id, event.author.handle, event.author.display_name) == ("123456789", "dana_r", "Dana R")
    assert (event.author.follower_count, event.author.verified) == (15230, False)
    assert event.created_at == datetime(2025, 5, 19, 14, 1, 46, tzinfo=UTC)
    assert event.permalink == "https://x.com/dana_r/status/1924465506158878979"
    assert event.language == "en"


def test_ids_come_from_id_str_never_the_lossy_numeric_id() -> None:
    # Given X's own longform example: the numeric id is rounded, id_str is exact
    payload = recorded_body("x-mention")
    payload["tweet_create_events"][0]["id"] = 1924465506158879000
    payload["tweet_create_events"][0]["user"]["id"] = 123456789.0
    # Then the event uses the exact string ids
    [event] = normalise(payload).events
    assert event.event_id == "1924465506158878979"
    assert event.author is not None
    assert event.author.id == "123456789"


def test_long_reply_uses_the_extended_tweet_full_text() -> None:
    [event] = normalise(recorded_body("x-reply")).events
    assert event.kind is EventKind.REPLY
    assert event.text is not None
    assert event.text.startswith("@AcmeHelp I ordered the blue kettle")
    assert event.text.endswith("Order #4411.")
    assert "https://t.co" not in event.text
    assert event.in_reply_to == "1924470000000000001"


def test_created_at_falls_back_to_the_rfc2822_like_string() -> None:
    payload = recorded_body("x-mention")
    del payload["tweet_create_events"][0]["timestamp_ms"]
    [event] = normalise(payload).events
    assert event.created_at == datetime(2025, 5, 19, 14, 1, 46, tzinfo=UTC)


def test_brand_reply_is_recognised_and_joins_the_customer_thread() -> None:
    # Given the brand answering the customer's mention
    [reply] = normalise(recorded_body("x-brand-reply")).events
    [mention] = normalise(recorded_body("x-mention")).events
    # Then it is marked as the brand's own and keyed to the customer's post
    assert reply.from_brand is True
    assert reply.kind is EventKind.REPLY
    assert reply.in_reply_to == mention.message_id
    assert reply.conversation_key == mention.conversation_key


def test_a_brand_broadcast_is_queued_as_the_brands_post_and_retweets_are_acknowledged_not_queued() -> None:
    # Given the brand's own post that replies to nothing (a broadcast)
    payload = recorded_body("x-brand-reply")
    payload["tweet_create_events"][0]["in_reply_to_status_id_str"] = None
    # Then it is queued as the brand's post, for process to remember (customers' replies to it then need not wait)
    [event] = normalise(payload).events
    assert (event.kind, event.from_brand, event.in_reply_to, event.message_id) == (EventKind.POST, True, None, "1924470000000000001")
    assert normalise(payload).ignored == {}
    retweets = normalise(recorded_body("x-retweet"))
    assert (retweets.events, dict(retweets.ignored)) == ([], {"x:retweet": 1})


def test_quote_tweet_by_a_customer_is_queued_as_their_post() -> None:
    payload = recorded_body("x-mention")
    tweet = payload["tweet_create_events"][0]
    tweet["is_quote_status"] = True
    tweet["quoted_status"] = {"id_str": "1924400000000000000", "text": "Spring sale!", "user": {"id_str": BRAND}}
    [event] = normalise(payload).events
    assert (event.kind, event.from_brand) == (EventKind.POST, False)


def test_inbound_and_brand_dms_share_one_conversation_keyed_by_the_customer() -> None:
    # Given a customer DM and the brand's (auto-)reply DM echoed back by X
    [inbound] = normalise(recorded_body("x-dm")).events
    [outbound] = normalise(recorded_body("x-dm-brand")).events
    # Then both are DMs in the same conversation; only the brand's is marked, with the app that sent it
    assert inbound.kind is outbound.kind is EventKind.DIRECT_MESSAGE
    assert inbound.conversation_key == outbound.conversation_key == f"x:{BRAND}:dm:123456789"
    assert (inbound.from_brand, outbound.from_brand) == (False, True)
    assert outbound.source_app_id == "268278"
    assert inbound.created_at == datetime.fromtimestamp(1752000000.123, tz=UTC)
    assert inbound.author is not None
    assert (inbound.author.handle, inbound.author.follower_count) == ("dana_r", 15230)


def test_tweet_delete_names_the_deleted_post() -> None:
    [event] = normalise(recorded_body("x-tweet-delete")).events
    assert event.kind is EventKind.DELETE
    assert event.message_id == "1924465506158878979"
    assert event.event_id == "1924465506158878979:delete"
    assert event.from_brand is False


def test_every_item_of_every_type_in_one_post_is_read() -> None:
    # Given one delivery with two tweets, a like, a typing indicator and keys X may add later
    payload = recorded_body("x-mention")
    second = copy.deepcopy(payload["tweet_create_events"][0])
    second["id_str"] = "1924465506158878980"
    payload["tweet_create_events"].append(second)
    payload["favorite_events"] = recorded_body("x-like")["favorite_events"]
    payload["direct_message_indicate_typing_events"] = [{"sender_id": "123456789"}]
    payload["brand_new_top_level_key"] = {"anything": True}
    # When normalised
    batch = normalise(payload)
    # Then both tweets are events and the rest acknowledged
    assert [event.event_id for event in batch.events] == ["1924465506158878979", "1924465506158878980"]
    assert batch.ignored == {"x:favorite_events": 1, "x:direct_message_indicate_typing_events": 1}
    assert batch.unreadable == []


def test_revocation_and_replay_notices_are_acknowledged() -> None:
    batch = normalise({"user_event": {"revoke": {"date_time": "2018-05-24T09:48:12+00:00", "source": {"app_id": "13090192"}}}})
    assert (batch.events, dict(batch.ignored)) == ([], {"x:user_event": 1})
    batch = normalise({"replay_job_status": {"webhook_id": "1", "job_state": "Complete"}})
    assert dict(batch.ignored) == {"x:replay_job_status": 1}


def test_a_tweet_without_the_subscribed_account_is_quarantined_not_dropped() -> None:
    payload = recorded_body("x-mention")
    del payload["for_user_id"]
    batch = normalise(payload)
    assert batch.events == []
    [unreadable] = batch.unreadable
    assert "for_user_id" in unreadable.reason
    assert unreadable.item["id_str"] == "1924465506158878979"


def test_one_malformed_tweet_does_not_cost_its_siblings() -> None:
    payload = recorded_body("x-mention")
    payload["tweet_create_events"].insert(0, {"text": "no ids at all"})
    batch = normalise(payload)
    assert [event.event_id for event in batch.events] == ["1924465506158878979"]
    assert len(batch.unreadable) == 1


def test_activity_api_mention_reads_v2_post_and_included_author() -> None:
    [event] = normalise(recorded_body("x-activity-mention")).events
    assert (event.kind, event.from_brand) == (EventKind.POST, False)
    assert event.event_id == "2080765813578191303"
    assert event.conversation_key == f"x:{BRAND}:thread:2080765813578191303"
    assert event.created_at == datetime(2026, 7, 24, 21, 23, 23, tzinfo=UTC)
    assert event.author is not None
    assert (event.author.handle, event.author.follower_count, event.author.verified) == ("dana_r", 97, False)
    assert event.permalink == "https://x.com/dana_r/status/2080765813578191303"


def test_activity_api_edit_points_at_the_original_post() -> None:
    # Given an edited reply: a new id, with the first version first in its edit history
    [event] = normalise(recorded_body("x-activity-edit")).events
    # Then it is an edit of the original, in the original's thread
    assert event.kind is EventKind.EDIT
    assert (event.event_id, event.message_id) == ("2080766999999999999", "2080766000000000001")
    assert event.in_reply_to == "2080765900000000000"
    assert event.conversation_key == f"x:{BRAND}:thread:2080765813578191303"
    assert event.author is not None
    assert event.author.handle == "dana_r"  # user wrapped in {"data": ...}


def test_activity_api_dm_reads_wrapped_users() -> None:
    [event] = normalise(recorded_body("x-activity-dm")).events
    assert (event.kind, event.from_brand) == (EventKind.DIRECT_MESSAGE, False)
    assert event.conversation_key == f"x:{BRAND}:dm:2222222222222222222"
    assert event.author is not None
    assert (event.author.handle, event.author.follower_count) == ("dana_r", 97)


def test_activity_api_delete_and_acknowledged_types() -> None:
    delete = {"data": {"event_type": "post.delete", "filter": {"user_id": BRAND}, "payload": {"id": "2080761269309813134", "author_id": "555"}}}
    [event] = normalise(delete).events
    assert (event.kind, event.message_id, event.created_at) == (EventKind.DELETE, "2080761269309813134", RECEIVED)
    for event_type in ("like.create", "follow.follow", "post.repost.create", "dm.read", "dm.indicate_typing", "news.new"):
        batch = normalise({"data": {"event_type": event_type, "filter": {"keyword": "acme"}, "payload": {}}})
        assert (batch.events, dict(batch.ignored), batch.unreadable) == ([], {f"x:{event_type}": 1}, [])


def test_activity_api_brand_post_create_is_queued_as_a_post_or_a_reply_of_the_brand() -> None:
    post = {"id": "2080761390344937796", "author_id": BRAND, "text": "Hello", "created_at": "2026-07-24T21:05:48.000Z"}
    standalone: dict[str, Any] = {"data": {"event_type": "post.create", "filter": {"user_id": BRAND}, "payload": post}}
    [broadcast] = normalise(standalone).events
    assert (broadcast.kind, broadcast.from_brand, broadcast.in_reply_to) == (EventKind.POST, True, None)
    reply = copy.deepcopy(standalone)
    reply["data"]["payload"]["referenced_tweets"] = [{"type": "replied_to", "id": "2080765813578191303"}]
    [event] = normalise(reply).events
    assert (event.kind, event.from_brand, event.in_reply_to) == (EventKind.REPLY, True, "2080765813578191303")


def test_timestamps_out_of_any_calendar_are_quarantined_not_raised() -> None:
    # Found by the property test: a huge timestamp overflowed the platform's time_t.
    for value in ("67768036191676800000", str(2**63), "-99999999999999999"):
        payload = recorded_body("x-mention")
        payload["tweet_create_events"][0]["timestamp_ms"] = value
        batch = normalise(payload)
        assert batch.events == []
        assert batch.unreadable[0].reason.startswith("ValueError: ")
