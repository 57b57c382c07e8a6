"""Attack (issue 7, item 5): an edited X post gets a new id, and replies, deletions and later edits name that new id.

socialdesk remembers only the first id of an edited post (`message_id`); the ids of later versions are never mapped to
the conversation, so whatever names them is parked on a message that never "arrives". Events are built by the real
X Activity API normaliser from payloads in the documented shapes (X Activity API event payloads: xdevplatform/docs x-api/activity/event-payloads.mdx).
"""

from __future__ import annotations

from datetime import timedelta

from socialdesk.model import EventKind, SocialEvent
from socialdesk.process.failures import RetryLaterError
from tests.support.process_world import World
from tests.support.x_activity import BRAND, RECEIVED, activity, at, notes, settle

ORIGINAL = "2080765813578191303"
EDITED = "2080766999999999999"


def mention() -> SocialEvent:
    return activity(
        "post.mention.create",
        {"id": ORIGINAL, "created_at": at(0), "conversation_id": ORIGINAL, "text": "@AcmeHelp my order #4411 never arrived"},
    )


def edit() -> SocialEvent:
    return activity(
        "post.mention.create",
        {
            "id": EDITED,
            "created_at": at(2),
            "conversation_id": ORIGINAL,
            "edit_history_tweet_ids": [ORIGINAL, EDITED],
            "text": "@AcmeHelp my order #4411 never arrived (ordered 3 weeks ago)",
        },
    )


def test_a_brand_reply_to_the_edited_version_of_a_mention_is_noted_on_its_ticket() -> None:
    # Given a customer's mention with a ticket, which the customer then edited (X gives the edit a new id)
    world = World()
    world.now = RECEIVED
    settle(world, [mention(), edit()])
    assert len(world.desk.tickets) == 1
    # When the brand answers the post as it now reads: on X, that is a reply to the edited version's id
    reply = activity(
        "post.create",
        {
            "id": "2080767000000000001",
            "created_at": at(10),
            "conversation_id": ORIGINAL,
            "text": "@dana_r Sorry! Please DM us.",
            "referenced_tweets": [{"type": "replied_to", "id": EDITED}],
        },
        author=BRAND,
    )
    assert reply.from_brand
    settle(world, [reply])
    # Then the reply is an internal note on the ticket and the conversation counts as answered (README: brand replies)
    assert any(body.startswith("Replied on X") for body in notes(world)), world.store.parked_by_anchor
    conversation = world.store.conversation(mention().conversation_key)
    assert conversation is not None and conversation.activity.first_response_at is not None


def test_a_customers_follow_up_under_their_edited_mention_joins_its_ticket() -> None:
    # Given a mention with a ticket, edited by the customer
    world = World()
    world.now = RECEIVED
    settle(world, [mention(), edit()])
    # When the customer adds a reply under their post as it now reads (a thread: replied_to is the edited version)
    follow_up = activity(
        "post.reply.create",
        {
            "id": "2080767100000000001",
            "created_at": at(12),
            "conversation_id": ORIGINAL,
            "text": "@AcmeHelp still nothing, tracking is blank",
            "referenced_tweets": [{"type": "replied_to", "id": EDITED}],
        },
    )
    settle(world, [follow_up])
    # Then it is a comment on the same ticket: one ticket per conversation
    assert len(world.desk.tickets) == 1


def test_an_edit_that_adds_the_brands_mention_reaches_zendesk() -> None:
    # Given a customer posted without mentioning the brand (no webhook), then edited the post to add @AcmeHelp:
    # the edited post is a new post that mentions the brand, so post.mention.create delivers it, with its edit history
    edited = edit()
    assert edited.kind is EventKind.EDIT
    world = World()
    world.now = RECEIVED
    # When it is processed, and any waits run out (a day later)
    settle(world, [edited])
    world.now += timedelta(days=1)
    settle(world, [edited])
    # Then the customer's words reach a ticket: they are the only message of this conversation socialdesk will ever get
    assert [comment.body for ticket in world.desk.tickets.values() for comment in ticket.comments if comment.public] == [edited.text]


def test_a_thread_reply_joins_its_parent_when_the_parents_first_try_died_with_its_lambda() -> None:
    # Given a customer's mention and their reply under it a minute later, delivered within seconds of each other
    world = World()
    world.now = RECEIVED
    parent = mention()
    reply = activity(
        "post.reply.create",
        {
            "id": "2080765900000000001",
            "created_at": at(1),
            "conversation_id": ORIGINAL,
            "text": "@AcmeHelp the tracking page is blank",
            "referenced_tweets": [{"type": "replied_to", "id": ORIGINAL}],
        },
    )
    # When the reply is tried at once, while the mention's batch dies before reaching it (a Lambda timeout: Zendesk answering
    # slowly, 10 s per call, uses up the 60 s), so SQS hands the mention over again when the visibility timeout (360 s) ends
    redelivered_at = world.now + timedelta(seconds=360)
    while world.now < redelivered_at:
        try:
            world.handle(reply)
            break
        except RetryLaterError as exc:
            world.now += timedelta(seconds=exc.delay_seconds + 1)
    world.now = max(world.now, redelivered_at)
    settle(world, [parent, reply])
    # Then the thread is one ticket, as without the crash (README: any order gives the same tickets)
    assert len(world.desk.tickets) == 1
