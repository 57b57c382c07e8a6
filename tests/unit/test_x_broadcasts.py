"""X threads: replies wait for a parent long enough to outlast its redelivery, and never for the brand's own broadcasts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from socialdesk.devtools.local_aws import TEMPLATE
from socialdesk.devtools.template_stack import load_template
from socialdesk.model import SocialEvent
from socialdesk.process.failures import WaitError
from socialdesk.process.process_event import INBOUND_VISIBILITY_TIMEOUT, PARENT_WAIT, X_REDELIVERY_WINDOW
from tests.support.process_world import World
from tests.support.x_activity import BRAND, RECEIVED, deletion, post, public_words, settle

BROADCAST = "2080761390344937796"


def world() -> World:
    fresh = World()
    fresh.now = RECEIVED
    return fresh


def broadcast() -> SocialEvent:
    return post(BROADCAST, "Our spring sale starts today!", minutes=0, author=BRAND)


def test_the_parent_wait_outlasts_xs_retries_and_a_redelivery_of_a_parent_whose_lambda_died() -> None:
    # Given the template's inbound queue and process function
    resources = load_template(TEMPLATE)["Resources"]
    visibility = timedelta(seconds=resources["InboundQueue"]["Properties"]["VisibilityTimeout"])
    timeout = timedelta(seconds=resources["ProcessFunction"]["Properties"]["Timeout"])
    # Then the wait counts the visibility timeout the template sets (a crashed parent is received again only after it)
    assert visibility == INBOUND_VISIBILITY_TIMEOUT
    # And outlasts X's 5 minutes of retries, then a first try that died and a whole second run of the function
    assert X_REDELIVERY_WINDOW + visibility + timeout <= PARENT_WAIT


def test_customers_replying_to_a_known_brand_broadcast_get_a_ticket_each_at_once() -> None:
    # Given the brand's broadcast, processed (remembered, but no ticket and no Salesforce activity)
    w = world()
    outcome = w.handle(broadcast())
    assert outcome.actions == ["broadcast"]
    assert (w.desk.tickets, w.crm.activities) == ({}, {})
    # When two customers reply to it
    first = post("2080761400000000001", "@AcmeHelp does it include kettles?", minutes=3, replies_to=BROADCAST)
    second = post("2080761400000000002", "@AcmeHelp the code does not work", minutes=4, replies_to=BROADCAST, author="555")
    # Then each opens their own ticket on its first try, waiting for nothing
    for reply in (first, second):
        assert "ticket_created" in w.handle(reply).actions
    assert sorted(str(ticket.external_id) for ticket in w.desk.tickets.values()) == [
        f"x:{BRAND}:thread:2080761400000000001",
        f"x:{BRAND}:thread:2080761400000000002",
    ]


def test_a_reply_processed_before_the_broadcast_it_answers_starts_its_thread_as_soon_as_the_broadcast_arrives() -> None:
    # Given a customer's reply tried before the brand's broadcast (SQS does not keep order)
    w = world()
    reply = post("2080761400000000001", "@AcmeHelp does it include kettles?", minutes=3, replies_to=BROADCAST)
    with pytest.raises(WaitError):
        w.handle(reply)
    # When the broadcast is processed 30 s later, and the reply is retried
    w.now += timedelta(seconds=31)
    w.handle(broadcast())
    w.handle(reply)
    # Then the reply has its own ticket, well before the parent wait would have run out
    assert public_words(w) == [reply.text]
    assert w.now - RECEIVED < PARENT_WAIT


def test_the_brands_thread_under_its_broadcast_is_a_broadcast_too_in_any_order() -> None:
    # Given a two-post thread of the brand, the second delivered first, and a customer replying to the second
    w = world()
    second = post("2080761390344937797", "Use code SPRING at checkout.", minutes=1, author=BRAND, replies_to=BROADCAST)
    customer = post("2080761400000000003", "@AcmeHelp SPRING is refused", minutes=5, replies_to="2080761390344937797")
    settle(w, [second, broadcast(), customer])
    # Then only the customer has a ticket, and nothing is left waiting
    assert public_words(w) == [customer.text]
    assert not any(w.store.parked_by_anchor.values())
    assert len(w.desk.tickets) == 1


def test_an_edited_or_deleted_broadcast_shows_nowhere_and_replies_to_its_new_version_start_at_once() -> None:
    # Given the brand's broadcast and its edit (a new post id, the edit history naming the first)
    w = world()
    edited = post("2080761390344937799", "Our spring sale starts today! (ends Sunday)", minutes=2, author=BRAND, edits=[BROADCAST])
    settle(w, [edited, broadcast()])
    # When a customer replies to the edited version, and the brand later deletes the broadcast
    reply = post("2080761400000000004", "@AcmeHelp which stores?", minutes=4, replies_to="2080761390344937799")
    assert "ticket_created" in w.handle(reply).actions
    assert w.handle(deletion(BROADCAST, author=BRAND)).actions == ["broadcast"]
    # Then the customer's ticket is the only one, with no note of the brand's edit or deletion
    [ticket] = w.desk.tickets.values()
    assert [comment.body for comment in ticket.comments if not comment.body.startswith("Social context")] == [reply.text]
