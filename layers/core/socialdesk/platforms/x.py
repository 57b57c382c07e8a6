"""X (Twitter) webhooks: CRC challenge, body signature and normalisation.

X delivers through V2 webhooks in two envelopes (docs.x.com: x-api/webhooks and x-api/activity/event-payloads):
the Account Activity API, `{"for_user_id", "<type>_events": [...]}` with v1.1
objects, and the X Activity API, `{"data": {"event_type", "filter", "payload",
"includes"}}` with v2 objects (xdevplatform/docs x-api/activity/event-payloads.mdx).
Ids are always read from their string form: they exceed 53 bits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from socialdesk.http import HttpResponse
from socialdesk.model import EventKind, Platform, SocialEvent, make_event
from socialdesk.platforms.batch import Ignored, NormalisedBatch
from socialdesk.platforms.numbers import count, id_text
from socialdesk.platforms.signing import base64_signature
from socialdesk.platforms.timestamps import from_epoch_millis, from_iso, from_x_created_at, from_x_snowflake
from socialdesk.platforms.webhook import ChallengeRefusedError

if TYPE_CHECKING:
    from datetime import datetime

# Account Activity keys that carry no customer-service work: acknowledged, not queued.
_NOTABLE_NON_EVENT_KEYS = ("user_event", "replay_job_status")
# X Activity event types that become canonical events; every other type is acknowledged only.
_ACTIVITY_POST_TYPES = frozenset({"post.create", "post.mention.create", "post.reply.create", "post.quote.create"})
_ACTIVITY_DM_TYPES = frozenset({"dm.received", "dm.sent"})

# The CRC answer is `base64_signature(consumer secret, crc_token)`: exactly the POST signature of a body
# equal to the token, so answering any token would sign any body (a signing oracle). X documents the token
# only as a value that "should be expected to change for each incoming CRC request"
# (developer.x.com .../account-activity-api/guides/securing-webhooks); what it sends, and every example in
# its docs and samples, is a short random string (`challenge-123`, a UUID, base64 text). Only such tokens are
# answered: letters, digits and `-_.~+/=`, at most 512 characters. None of them can be a JSON object (that
# needs `{`), and none holds `"` or `:`, so no answer can sign a delivery ingest would accept.
CRC_TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+/="
CRC_TOKEN_MAX_CHARS = 512
_CRC_TOKEN = re.compile(f"[{re.escape(CRC_TOKEN_ALPHABET)}]{{1,{CRC_TOKEN_MAX_CHARS}}}")


class XWebhook:
    name = "x"
    path = "/webhooks/x"
    signature_header = "x-twitter-webhooks-signature"
    signing_secret_key = "x_consumer_secret"
    challenge_secret_key = "x_consumer_secret"

    def answer_challenge(self, query: Mapping[str, str], secrets: Sequence[str]) -> HttpResponse:
        """CRC: `sha256=` + base64 HMAC of the token with the consumer secret (x-api/webhooks/quickstart.mdx §2).

        Answered with the current secret only: X computes it with the one its app holds now. A token
        that is not token-shaped is refused (see CRC_TOKEN_ALPHABET): answering it would sign it.
        """
        token = query.get("crc_token")
        if not token:
            raise ChallengeRefusedError(400, "crc_token_missing", "crc_token query parameter is missing")
        if not _CRC_TOKEN.fullmatch(token):
            raise ChallengeRefusedError(
                400, "crc_token_not_token_shaped", f"crc_token is not a short token ({len(token)} characters, or characters X never sends)"
            )
        return HttpResponse.json(200, {"response_token": base64_signature(secrets[0], token.encode("utf-8"))})

    def signatures(self, body: bytes, secrets: Sequence[str]) -> list[str]:
        return [base64_signature(secret, body) for secret in secrets]

    def normalise(self, payload: Mapping[str, Any], received_at: datetime) -> NormalisedBatch:
        batch = NormalisedBatch()
        if "for_user_id" in payload or "data" not in payload:
            _account_activity(payload, batch)
        else:
            _activity_api(payload, batch, received_at)
        return batch


# --- Account Activity API -------------------------------------------------------------------


def _account_activity(payload: Mapping[str, Any], batch: NormalisedBatch) -> None:
    account = payload.get("for_user_id")
    users = payload.get("users") or {}
    for key, items in payload.items():
        if key in _NOTABLE_NON_EVENT_KEYS:
            batch.ignore(f"x:{key}")
            continue
        if not key.endswith("_events"):
            continue  # for_user_id, users, apps, user_has_blocked and keys X adds later
        entries = items if isinstance(items, list) else [items]
        build: Callable[..., SocialEvent | Ignored]
        if key == "tweet_create_events":
            build = partial(_v1_tweet, account=account)
        elif key == "direct_message_events":
            build = partial(_direct_message, account=account, users=users)
        elif key == "tweet_delete_events":
            build = partial(_v1_tweet_delete, account=account)
        else:
            batch.ignore(f"x:{key}", len(entries))
            continue
        for entry in entries:
            batch.add(entry, partial(build, entry))


def _v1_tweet(tweet: Mapping[str, Any], *, account: str | None) -> SocialEvent | Ignored:
    if "retweeted_status" in tweet:
        return Ignored("x:retweet")
    account = _require_account(account)
    tweet_id = tweet["id_str"]
    user = tweet["user"]
    from_brand = user["id_str"] == account
    in_reply_to = tweet.get("in_reply_to_status_id_str")
    extended = tweet.get("extended_tweet") or {}
    text = extended.get("full_text") or tweet.get("full_text") or tweet.get("text")
    edit_ids = (tweet.get("edit_history") or {}).get("edit_tweet_ids") or []
    created = from_epoch_millis(tweet["timestamp_ms"]) if tweet.get("timestamp_ms") else from_x_created_at(tweet["created_at"])
    media = (extended.get("extended_entities") or tweet.get("extended_entities") or {}).get("media") or []
    return _post_event(
        account=account,
        post_id=tweet_id,
        edit_ids=edit_ids,
        in_reply_to=in_reply_to,
        thread_root=None,
        author=_author(user, user["id_str"]),
        from_brand=from_brand,
        text=text,
        created_at=created,
        language=tweet.get("lang"),
        attachments=[{"type": item.get("type", "photo"), "id": item.get("id_str"), "url": item.get("media_url_https")} for item in media],
        quotes_brand=((tweet.get("quoted_status") or {}).get("user") or {}).get("id_str") == account,
    )


def _v1_tweet_delete(item: Mapping[str, Any], *, account: str | None) -> SocialEvent:
    status = item["status"]
    return _delete_event(
        _require_account(account),
        post_id=id_text(status.get("id_str") or status["id"]),
        author_id=id_text(status.get("user_id_str") or status["user_id"]),
        created_at=from_epoch_millis(item["timestamp_ms"]),
    )


# --- X Activity API ---------------------------------------------------------------------------


def _activity_api(payload: Mapping[str, Any], batch: NormalisedBatch, received_at: datetime) -> None:
    data = payload["data"]
    for activity in data if isinstance(data, list) else [data]:
        batch.guarded(activity, partial(_activity, activity, batch, received_at))


def _activity(activity: Mapping[str, Any], batch: NormalisedBatch, received_at: datetime) -> None:
    event_type = str(activity.get("event_type"))
    account = (activity.get("filter") or {}).get("user_id")
    body = activity.get("payload") or {}
    if event_type in _ACTIVITY_DM_TYPES:
        users = body.get("users") or {}
        for dm in body.get("direct_message_events") or []:
            batch.add(dm, partial(_direct_message, dm, account=account, users=users))
    elif event_type in _ACTIVITY_POST_TYPES:
        users = {_unwrap(user).get("id"): user for user in (activity.get("includes") or {}).get("users") or []}
        quotes_brand = event_type == "post.quote.create"  # the filter's user is the brand: its post was quoted
        batch.add(activity, partial(_v2_post, body, account=account, users=users, received_at=received_at, quotes_brand=quotes_brand))
    elif event_type == "post.delete":
        batch.add(activity, partial(_v2_post_delete, body, account=account, received_at=received_at))
    else:
        batch.ignore(f"x:{event_type}")


def _v2_post(
    post: Mapping[str, Any], *, account: str | None, users: Mapping[str, Any], received_at: datetime, quotes_brand: bool = False
) -> SocialEvent | Ignored:
    account = _require_account(account)
    references = {ref["type"]: ref["id"] for ref in post.get("referenced_tweets") or []}
    if "retweeted" in references:
        return Ignored("x:retweet")
    author_id = post["author_id"]
    from_brand = author_id == account
    in_reply_to = references.get("replied_to")
    return _post_event(
        account=account,
        post_id=post["id"],
        edit_ids=post.get("edit_history_tweet_ids") or [],
        in_reply_to=in_reply_to,
        thread_root=post.get("conversation_id"),
        author=_author(users.get(author_id), author_id),
        from_brand=from_brand,
        text=(post.get("note_tweet") or {}).get("text") or post.get("text"),
        created_at=from_iso(post["created_at"]) if post.get("created_at") else from_x_snowflake(post["id"]),
        language=post.get("lang"),
        attachments=[],
        quotes_brand=quotes_brand,
    )


def _v2_post_delete(post: Mapping[str, Any], *, account: str | None, received_at: datetime) -> SocialEvent:
    return _delete_event(_require_account(account), post_id=post["id"], author_id=post["author_id"], created_at=received_at)


# --- Shared by both envelopes -----------------------------------------------------------------


def _post_event(
    *,
    account: str,
    post_id: str,
    edit_ids: Sequence[str],
    in_reply_to: str | None,
    thread_root: str | None,
    author: dict[str, Any],
    from_brand: bool,
    text: str | None,
    created_at: datetime,
    language: str | None,
    attachments: list[dict[str, Any]],
    quotes_brand: bool = False,
) -> SocialEvent:
    """A post, reply or edit. An edited post has a new id; its `message_id` stays the first one.

    The brand's own posts are queued too: process remembers a broadcast, so customers replying to it start their
    own threads at once instead of waiting for a parent that never comes (process_event.py, `_x_conversation`).
    """
    original = edit_ids[0] if len(edit_ids) > 1 and edit_ids[0] != post_id else None
    kind = EventKind.EDIT if original else EventKind.REPLY if in_reply_to else EventKind.POST
    root = thread_root or in_reply_to or original or post_id
    return make_event(
        platform=Platform.X,
        kind=kind,
        event_id=post_id,
        message_id=original or post_id,
        conversation_key=f"x:{account}:thread:{root}",
        account_id=account,
        created_at=created_at,
        from_brand=from_brand,
        author=author,
        text=text,
        attachments=attachments,
        permalink=_permalink(author.get("handle"), post_id),
        in_reply_to=in_reply_to,
        language=language if language and language != "und" else None,
        quotes_brand=quotes_brand,
    )


def _delete_event(account: str, *, post_id: str, author_id: str, created_at: datetime) -> SocialEvent:
    return make_event(
        platform=Platform.X,
        kind=EventKind.DELETE,
        event_id=f"{post_id}:delete",
        message_id=post_id,
        conversation_key=f"x:{account}:thread:{post_id}",
        account_id=account,
        created_at=created_at,
        from_brand=author_id == account,
        author={"id": author_id},
    )


def _direct_message(dm: Mapping[str, Any], *, account: str | None, users: Mapping[str, Any]) -> SocialEvent | Ignored:
    """A DM either way: the brand's own (including ours, echoed back) has `sender_id == for_user_id`."""
    if dm.get("type") != "message_create":
        return Ignored(f"x:dm_{dm.get('type')}")
    account = _require_account(account)
    create = dm["message_create"]
    sender = create["sender_id"]
    recipient = create["target"]["recipient_id"]
    from_brand = sender == account
    data = create.get("message_data") or {}
    media = (data.get("attachment") or {}).get("media")
    return make_event(
        platform=Platform.X,
        kind=EventKind.DIRECT_MESSAGE,
        event_id=dm["id"],
        message_id=dm["id"],
        conversation_key=f"x:{account}:dm:{recipient if from_brand else sender}",
        account_id=account,
        created_at=from_epoch_millis(dm["created_timestamp"]),
        from_brand=from_brand,
        author=_author(users.get(sender), sender),
        text=data.get("text"),
        attachments=[{"type": media.get("type", "photo"), "id": media.get("id_str"), "url": media.get("media_url_https")}] if media else [],
        source_app_id=create.get("source_app_id"),
    )


def _author(user: Mapping[str, Any] | None, user_id: str) -> dict[str, Any]:
    """Author fields from a v1.1 user or a v2 user (bare or wrapped in `data`)."""
    found = _unwrap(user or {})
    metrics = found.get("public_metrics") or {}
    return {
        "id": user_id,
        "handle": found.get("screen_name") or found.get("username"),
        "display_name": found.get("name"),
        "follower_count": count(found.get("followers_count", metrics.get("followers_count"))),
        "verified": found.get("verified"),
    }


def _unwrap(user: Mapping[str, Any]) -> Mapping[str, Any]:
    """X Activity payloads sometimes wrap user objects as `{"data": {...}}`."""
    inner = user.get("data")
    return inner if isinstance(inner, Mapping) else user


def _permalink(handle: str | None, post_id: str) -> str:
    return f"https://x.com/{handle}/status/{post_id}" if handle else f"https://x.com/i/web/status/{post_id}"


def _require_account(account: str | None) -> str:
    if not account:
        raise ValueError("the subscribed brand account (for_user_id / filter.user_id) is missing")
    return id_text(account)
