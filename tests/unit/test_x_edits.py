"""X edits: every version of an edited post has its own id, and whatever names any of them finds the conversation."""

from __future__ import annotations

from socialdesk.model import SocialEvent
from tests.support.process_world import World
from tests.support.x_activity import BRAND, RECEIVED, deletion, notes, post, settle

ORIGINAL = "2080765813578191303"
EDITED = "2080766999999999999"


def mention() -> tuple[SocialEvent, SocialEvent]:
    """A customer's mention and its edit two minutes later (a new post id, the edit history naming the first)."""
    original = post(ORIGINAL, "@AcmeHelp my order #4411 never arrived", minutes=0)
    edited = post(EDITED, "@AcmeHelp my order #4411 never arrived (ordered 3 weeks ago)", minutes=2, edits=[ORIGINAL])
    return original, edited


def world() -> World:
    fresh = World()
    fresh.now = RECEIVED
    return fresh


def test_a_brand_reply_to_the_edited_version_delivered_before_the_edit_waits_for_it_then_is_noted() -> None:
    # Given a mention with a ticket; its edit and the brand's reply to the edited version are both on the way
    original, edited = mention()
    reply = post("2080767000000000001", "@user_2222 Sorry! Please DM us.", minutes=10, author=BRAND, replies_to=EDITED)
    w = world()
    settle(w, [original])
    # When the brand's reply is processed before the edit (SQS does not keep order)
    settle(w, [reply, edited])
    # Then the reply is noted on the one ticket, after waiting for the edit that names its parent
    assert len(w.desk.tickets) == 1
    assert [body.split(":")[0] for body in notes(w) if not body.startswith("Social context")] == [
        "The customer edited their X message 2080765813578191303. It now reads",
        "Replied on X by @AcmeHelp",
    ]


def test_a_deletion_of_the_edited_version_is_noted_on_the_mentions_ticket() -> None:
    # Given an edited mention with its ticket
    original, edited = mention()
    w = world()
    settle(w, [original, edited])
    # When the customer deletes the post and X names its latest version (deleting any version deletes the chain)
    settle(w, [deletion(EDITED)])
    # Then the deletion is a note on that ticket, which is tagged
    [ticket] = w.desk.tickets.values()
    assert f"The customer deleted X message {EDITED}. It no longer exists on the platform." in notes(w)
    assert "socialdesk_deleted" in ticket.tags
