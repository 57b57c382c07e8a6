"""X edits: every version of an edited post has its own id, and whatever names any of them finds the conversation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from socialdesk.model import SocialEvent
from socialdesk.process.failures import WaitError
from socialdesk.process.process_event import PARENT_WAIT
from tests.support.process_world import World
from tests.support.x_activity import BRAND, RECEIVED, deletion, notes, post, public_words, settle

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


# --- an edit of a post socialdesk never saw ---------------------------------------------------------------


def test_an_edit_of_a_post_never_seen_waits_for_it_then_is_the_customers_message_once() -> None:
    # Given a customer's edit of a post that never reached socialdesk (it did not mention the brand until the edit)
    _, edited = mention()
    w = world()
    # When it is tried, it waits for the post first
    with pytest.raises(WaitError):
        w.handle(edited)
    # And once the wait is over it is tried again, and delivered again a day later
    w.now += PARENT_WAIT
    outcome = w.handle(edited)
    w.now += timedelta(days=1)
    assert w.handle(edited, delivery="sqs-redelivered").duplicate
    # Then it is the first message of a thread keyed by the first id: a ticket in the customer's words, and one Task
    [ticket] = w.desk.tickets.values()
    assert "ticket_created" in outcome.actions
    assert (ticket.external_id, ticket.subject) == (
        f"x:{BRAND}:thread:{ORIGINAL}",
        "X post from @user_2222: my order #4411 never arrived (ordered 3 weeks ago)",
    )
    assert public_words(w) == [edited.text]
    assert [activity.event_key for activity in w.crm.activities.values()] == [edited.dedupe_key]


def test_an_edit_whose_first_version_comes_within_the_wait_is_a_note_on_the_first_versions_ticket() -> None:
    # Given the edit is tried before the post it edits, which comes a minute later
    original, edited = mention()
    w = world()
    settle(w, [edited, original])
    # Then it is as if they came in order: the first words as the ticket's, the edit as a note
    assert public_words(w) == [original.text]
    assert [body for body in notes(w) if body.startswith("The customer edited")] == [
        f"The customer edited their X message {ORIGINAL}. It now reads:\n\n{edited.text}"
    ]


def test_a_first_version_that_comes_after_its_edit_was_taken_for_the_message_joins_the_same_ticket() -> None:
    # Given an edit taken for the customer's message after the wait
    original, edited = mention()
    w = world()
    settle(w, [edited])
    # When the first version arrives after all (a delivery delayed past every retry)
    settle(w, [original])
    # Then it is a comment on the same ticket: nothing is lost, and the conversation stays one ticket
    assert len(w.desk.tickets) == 1
    assert public_words(w) == [edited.text, original.text]


def test_an_edited_reply_in_a_known_thread_whose_first_version_never_came_is_the_customers_comment_there() -> None:
    # Given a mention with its ticket, and the customer's edit of their own reply under it, whose first version never came
    original, _ = mention()
    w = world()
    settle(w, [original])
    edited_reply = post("2080767300000000002", "@AcmeHelp it is order #4412, sorry", minutes=8, replies_to=ORIGINAL, edits=["2080767300000000001"])
    # When the wait for the first version is over
    settle(w, [edited_reply])
    # Then the customer's words are a public comment on the mention's ticket, not a note about an edit
    assert public_words(w) == [original.text, edited_reply.text]
    assert not [body for body in notes(w) if body.startswith("The customer edited")]
