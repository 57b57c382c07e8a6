"""X Activity API deliveries for process tests, normalised by the real X normaliser, and a queue-like `settle`.

Payload shapes: xdevplatform/docs x-api/activity/event-payloads.mdx (post.create, post.mention.create, post.delete).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from socialdesk.model import SocialEvent
from socialdesk.platforms.x import XWebhook
from socialdesk.process.failures import RetryLaterError
from tests.support.process_world import World

BRAND = "900000000000000001"
CUSTOMER = "2222222222222222222"
RECEIVED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    """A `created_at` this many minutes after the thread began (half an hour before RECEIVED)."""
    return (RECEIVED - timedelta(minutes=30) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def activity(event_type: str, post: dict[str, Any], *, author: str = CUSTOMER) -> SocialEvent:
    """One X Activity API delivery of one post, normalised as ingest does."""
    handle = "AcmeHelp" if author == BRAND else f"user_{author[-4:]}"
    payload = {
        "data": {
            "event_uuid": f"uuid-{post['id']}",
            "filter": {"user_id": BRAND},
            "event_type": event_type,
            "payload": {"author_id": author, "lang": "en", **post},
            "includes": {"users": [{"data": {"id": author, "name": handle, "username": handle}}]},
        }
    }
    [event] = XWebhook().normalise(payload, RECEIVED).events
    return event


def post(
    post_id: str, text: str, *, minutes: float, author: str = CUSTOMER, replies_to: str | None = None, edits: list[str] | None = None
) -> SocialEvent:
    """A post (a reply when `replies_to`, a new version of `edits[0]` when `edits` lists earlier ids)."""
    body: dict[str, Any] = {"id": post_id, "created_at": at(minutes), "text": text}
    if replies_to:
        body["referenced_tweets"] = [{"type": "replied_to", "id": replies_to}]
    if edits:
        body["edit_history_tweet_ids"] = [*edits, post_id]
    kind = "post.create" if author == BRAND else "post.reply.create" if replies_to else "post.mention.create"
    return activity(kind, body, author=author)


def deletion(post_id: str, *, author: str = CUSTOMER) -> SocialEvent:
    """`post.delete`: the post's id and author only, no time (ingest dates it on arrival)."""
    payload = {"data": {"event_type": "post.delete", "filter": {"user_id": BRAND}, "payload": {"id": post_id, "author_id": author}}}
    [event] = XWebhook().normalise(payload, RECEIVED).events
    return event


def settle(world: World, events: list[SocialEvent], *, limit: int = 200) -> None:
    """Process as SQS would: a waiting event goes to the back (a delayed copy), the clock moves, released events join."""
    pending = list(events)
    for _ in range(limit):
        if not pending:
            return
        event = pending.pop(0)
        try:
            world.handle(event)
        except RetryLaterError as exc:
            world.now += timedelta(seconds=exc.delay_seconds + 1)
            pending.append(event)
        pending += world.queue.events
        world.queue.messages.clear()
    raise AssertionError("never settled")


def public_words(world: World) -> list[str]:
    return [comment.body for ticket in world.desk.tickets.values() for comment in ticket.comments if comment.public]


def notes(world: World) -> list[str]:
    return [comment.body for ticket in world.desk.tickets.values() for comment in ticket.comments if not comment.public]
