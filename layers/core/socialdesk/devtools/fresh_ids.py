"""New ids for a sample's messages (`socialdesk send --fresh`): sent again, it is a new message, not a duplicate delivery.

The stack recognises a message by its own id, so a sample sent twice is rightly taken as Meta or X
delivering it again. Here the ids that name each message change: an X post or DM (`id`, `id_str`), an X
Activity API post or DM and its `event_uuid`, a Messenger or Instagram `mid`, a WhatsApp `wamid.`, a
Facebook `comment_id`, an Instagram comment `id`. The ids that place it in its conversation stay: the
post commented on, the message replied to, the chat, the DM partner, the author. So a fresh WhatsApp
message, DM, comment or reply joins the conversation of the original. Where a message's own id is its
thread's (an X mention, a Facebook visitor post, an Instagram media mention) the copy starts a thread
of its own, as a new post does on the platform. A deletion, a delivery status or a Messenger edit
names a message that already exists: it is left as it is.

Each new id keeps the shape of the old one (the prefix before the last `.` or `_`, then the same kinds
of characters), and X ids stay snowflakes minted at the send time, since a post without `created_at`
is dated by its id.
"""

from __future__ import annotations

import random
import string
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

# X snowflakes: milliseconds since this epoch above the lowest 22 bits (as socialdesk.platforms.timestamps reads them).
_X_EPOCH_MILLIS = 1288834974657
_FEED_POSTS = frozenset({"status", "post", "photo", "video", "share"})


def with_fresh_ids(payload: Any, at: datetime, rng: random.Random | None = None) -> Any:
    """`payload` with every message's own id replaced wherever it appears (so the body stays self-consistent)."""
    rng = rng or random.SystemRandom()
    is_x = isinstance(payload, dict) and "object" not in payload
    renamed = {old: _new_id(old, snowflake=is_x, at=at, rng=rng) for old in own_ids(payload)}
    return _renamed(payload, renamed)


def own_ids(payload: Any) -> list[str]:
    """The ids naming the messages this delivery creates (not the ones it refers to)."""
    if not isinstance(payload, dict):
        return []
    if "object" in payload:
        found = _meta_ids(payload)
    elif "data" in payload:
        found = _x_activity_ids(payload["data"])
    else:
        found = _x_ids(payload)
    return list(dict.fromkeys(str(value) for value in found if isinstance(value, str | int) and not isinstance(value, bool) and str(value)))


def _x_ids(payload: dict[str, Any]) -> list[Any]:
    tweets = [tweet.get("id_str") or tweet.get("id") for tweet in _dicts(payload.get("tweet_create_events"))]
    return tweets + [message.get("id") for message in _dicts(payload.get("direct_message_events"))]


def _x_activity_ids(data: Any) -> list[Any]:
    found: list[Any] = []
    for activity in _dicts(data if isinstance(data, list) else [data]):
        event_type, body = str(activity.get("event_type", "")), activity.get("payload") or {}
        if event_type.startswith("dm.") and isinstance(body, dict):
            found += [message.get("id") for message in _dicts(body.get("direct_message_events"))] + [activity.get("event_uuid")]
        elif event_type.startswith("post.") and event_type != "post.delete" and isinstance(body, dict):
            found += [body.get("id"), activity.get("event_uuid")]
    return found


def _meta_ids(payload: dict[str, Any]) -> list[Any]:
    found: list[Any] = []
    for entry in _dicts(payload.get("entry")):
        for change in _dicts(entry.get("changes")):
            found += _change_ids(str(change.get("field")), change.get("value") or {})
        for item in _dicts([*(entry.get("messaging") or []), *(entry.get("standby") or [])]):
            message = item.get("message")
            if isinstance(message, dict) and not message.get("is_deleted"):
                found.append(message.get("mid"))
            elif isinstance(item.get("postback"), dict):
                found.append(item["postback"].get("mid"))
    return found


def _change_ids(field: str, value: Any) -> list[Any]:
    if not isinstance(value, dict):
        return []
    if field == "feed" and value.get("verb") == "add":
        return [value.get("comment_id")] if value.get("item") == "comment" else [value.get("post_id")] if value.get("item") in _FEED_POSTS else []
    if field in ("comments", "live_comments"):
        return [value.get("id") or value.get("comment_id")]
    if field == "mentions":
        return [value.get("comment_id") or value.get("media_id")]
    if field == "messages":
        return [message.get("id") for message in _dicts(value.get("messages"))]  # statuses are about our own messages
    return []


def _dicts(items: Any) -> list[dict[str, Any]]:
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _renamed(value: Any, renamed: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: _renamed(item, renamed) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, renamed) for item in value]
    if isinstance(value, str):
        return renamed.get(value, value)
    if isinstance(value, int) and not isinstance(value, bool) and str(value) in renamed:
        return int(renamed[str(value)])  # X sends each id twice: `id` as a number, `id_str` as text
    return value


def _new_id(old: str, *, snowflake: bool, at: datetime, rng: random.Random) -> str:
    if snowflake and old.isdigit():
        return str(((int(at.timestamp() * 1000) - _X_EPOCH_MILLIS) << 22) | rng.getrandbits(22))
    cut = max(old.rfind("."), old.rfind("_")) + 1
    head, tail = old[:cut], old[cut:]
    while (new := head + _same_shape(tail, rng)) == old and any(char.isalnum() for char in tail):
        pass
    return new if new != old else f"{old}{rng.randrange(10**6)}"


def _same_shape(text: str, rng: random.Random) -> str:
    """Random characters of the same kinds: digits for digits (no new leading zero), letters of the same case; the rest kept."""
    chars = []
    for index, char in enumerate(text):
        if char.isascii() and char.isdigit():
            chars.append(rng.choice(string.digits[1:] if index == 0 and char != "0" else string.digits))
        elif char.isascii() and char.islower():
            chars.append(rng.choice(string.ascii_lowercase))
        elif char.isascii() and char.isupper():
            chars.append(rng.choice(string.ascii_uppercase))
        else:
            chars.append(char)
    return "".join(chars)
