"""Attack (issue 7, item 10): a signed body replayed after its event record expired must not be processed again.

Ingest dates each event and quarantines those created over 8 days before they arrive. An X Activity API `post.delete`
carries no time at all (payload `{"id", "author_id"}`), so ingest dates it when it arrives: a captured deletion is fresh
at every replay, for ever, and once its 30-day event record is gone it was a new deletion note on the ticket. Fixed in
process: a message is deleted once, so a deletion note already on the ticket is this deletion's (`_deletion_noted`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from socialdesk.ingest.webhook_ingest import MAX_EVENT_AGE
from socialdesk.store.dynamodb import EVENT_RETENTION
from tests.support.ingest import Harness
from tests.support.process_world import World
from tests.support.webhooks import x_post

BRAND = "900000000000000001"
POST = "2080765813578191303"
SENT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def mention_body() -> bytes:
    post = {"id": POST, "author_id": "555", "created_at": SENT.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "text": "@AcmeHelp where is my order?"}
    return json.dumps({"data": {"event_type": "post.mention.create", "filter": {"user_id": BRAND}, "payload": post}}).encode()


def delete_body() -> bytes:
    """Exactly what the X Activity API sends when the customer deletes the post: no timestamp anywhere."""
    return json.dumps({"data": {"event_type": "post.delete", "filter": {"user_id": BRAND}, "payload": {"id": POST, "author_id": "555"}}}).encode()


def deletion_notes(world: World) -> int:
    return sum(1 for ticket in world.desk.tickets.values() for comment in ticket.comments if "deleted X message" in comment.body)


def test_a_captured_x_post_delete_replayed_after_its_record_expired_adds_no_second_note() -> None:
    # Given a customer's mention and, an hour later, their deletion of it, both processed (a ticket with one note)
    world = World()
    for moment, body in ((SENT, mention_body()), (SENT + timedelta(hours=1), delete_body())):
        harness = Harness(clock=lambda moment=moment: moment)  # type: ignore[misc]
        harness.send(x_post(body))
        world.now = moment
        for event in harness.events.events:
            world.handle(event)
    assert deletion_notes(world) == 1
    # And, 40 days on, the deletion's event record has expired (EVENT_RETENTION after its last try)
    later = SENT + timedelta(days=40)
    assert later - (SENT + timedelta(hours=1)) > EVENT_RETENTION > MAX_EVENT_AGE
    world.store.events.clear()
    # When someone replays the captured, validly signed deletion body
    replay = Harness(clock=lambda: later)
    response = replay.send(x_post(delete_body()))
    world.now = later
    for event in replay.events.events:
        world.handle(event)
    # Then it is answered 2xx and the ticket still has exactly one deletion note. (Nothing in the body tells ingest it is
    # a replay, so it is queued; process finds the note on the ticket and adds nothing: README, Exactly once.)
    assert response.status == 200
    assert deletion_notes(world) == 1


def test_a_replayed_x_post_delete_does_not_tag_the_ticket_again_after_an_agent_removed_the_tag() -> None:
    # Given the mention, its deletion noted and tagged, and an agent who then took the tag off
    world = World()
    for moment, body in ((SENT, mention_body()), (SENT + timedelta(hours=1), delete_body())):
        harness = Harness(clock=lambda moment=moment: moment)  # type: ignore[misc]
        harness.send(x_post(body))
        world.now = moment
        for event in harness.events.events:
            world.handle(event)
    [ticket] = world.desk.tickets.values()
    ticket.tags = [tag for tag in ticket.tags if tag != "socialdesk_deleted"]
    # When the deletion is replayed after its event record expired
    world.store.events.clear()
    replay = Harness(clock=lambda: SENT + timedelta(days=40))
    replay.send(x_post(delete_body()))
    world.now = SENT + timedelta(days=40)
    outcomes = [world.handle(event) for event in replay.events.events]
    # Then the ticket is left as the agent left it
    assert "socialdesk_deleted" not in ticket.tags
    assert [outcome.actions for outcome in outcomes] == [["comment_found"]]
