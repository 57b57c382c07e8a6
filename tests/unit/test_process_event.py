"""The process use case with in-memory ports: one ticket per conversation, exactly-once effects, failures handed to SQS."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from socialdesk.crm.port import CrmRateLimitedError, CrmRejectedError, CrmUnavailableError
from socialdesk.desk.port import DeskRateLimitedError, DeskRejectedError, DeskUnavailableError
from socialdesk.model import Delivery, SocialEvent
from socialdesk.process.failures import PermanentFailureError, RetryLaterError, WaitError
from socialdesk.process.process_event import PARENT_WAIT
from socialdesk.rules import load_rules
from tests.support.events import TYPED_ECHO, follow_up, sample_event
from tests.support.process_fakes import CrashError
from tests.support.process_world import NOW, World, rules

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world() -> World:
    return World()


# --- one conversation, one ticket ---------------------------------------------------------------


def test_first_message_of_a_new_customer_opens_a_ticket_in_their_words(world: World) -> None:
    # Given a WhatsApp customer nobody has seen
    event = sample_event("meta-whatsapp-text")
    # When their first message is processed
    outcome = world.handle(event)
    # Then one ticket carries their text as a public comment by them, tagged and keyed by the conversation
    ticket = world.ticket_of(event)
    assert outcome.actions == ["ticket_created", "context_note", "crm_activity"]
    assert ticket.subject == "WhatsApp message from Dana Rodríguez: Mi pedido no ha llegado. ¿Pueden ayudarme? 🙏"
    assert ticket.external_id == "whatsapp:106540352242922:chat:16505551234"
    assert ticket.comments[0].body == "Mi pedido no ha llegado. ¿Pueden ayudarme? 🙏"
    assert (ticket.comments[0].public, ticket.comments[0].author_id) == (True, ticket.requester_id)
    assert ticket.tags == ["socialdesk", "socialdesk_whatsapp", "socialdesk_direct_message"]
    # And the social context went into an internal note (no context fields configured)
    note = ticket.comments[1]
    assert note.public is False
    assert "Profile: https://wa.me/16505551234" in note.body
    # And the customer is a known customer from now on, in both systems
    customer = world.store.customer("whatsapp:16505551234")
    assert customer is not None
    assert (customer.desk_user_id, customer.crm_contact_id) == (ticket.requester_id, "003SBX000000000000")


def test_follow_up_becomes_a_customer_comment_and_reopens_the_ticket(world: World) -> None:
    first = sample_event("meta-whatsapp-text")
    world.handle(first)
    world.ticket_of(first).status = "solved"
    world.handle(follow_up(first, 1))
    ticket = world.ticket_of(first)
    assert len(world.desk.tickets) == 1
    assert ticket.comments[-1].body == "follow-up 1"
    assert (ticket.comments[-1].public, ticket.comments[-1].author_id) == (True, ticket.requester_id)
    assert ticket.status == "open"


def test_the_same_event_delivered_three_times_has_its_effects_once(world: World) -> None:
    event = sample_event("meta-fb-comment")
    world.handle(event, delivery="sqs-1")
    calls = (world.desk.http_calls, world.crm.http_calls)
    duplicates = [world.handle(event, delivery=f"sqs-{n}") for n in (2, 3)]
    assert all(outcome.duplicate for outcome in duplicates)
    assert (world.desk.http_calls, world.crm.http_calls) == calls
    assert len(world.desk.tickets) == 1
    assert len(world.crm.activities) == 1


def test_a_duplicate_arriving_while_the_first_delivery_works_waits(world: World) -> None:
    # Given the first delivery holds the event's lease (it crashed mid-way, or is still running)
    event = sample_event("meta-fb-comment")
    world.store.begin_event(event.dedupe_key, owner="sqs-first", now=NOW, lease_seconds=90)
    # Then a second delivery of the same event is told to come back when the lease ends
    with pytest.raises(RetryLaterError) as raised:
        world.handle(event, delivery="sqs-second")
    assert raised.value.delay_seconds == 90
    assert world.desk.http_calls == 0
    # And the first delivery's own retry resumes its lease
    assert world.handle(event, delivery="sqs-first").actions[0] == "ticket_created"


def test_two_first_messages_of_one_thread_open_one_ticket(world: World) -> None:
    # Given two first messages of one new Facebook thread; A is opening the ticket when B arrives
    first = sample_event("meta-fb-comment")
    second = follow_up(first, 1)
    world.store.record_activity(first.conversation_key, first, customer_key=None)
    world.store.claim_ticket(first.conversation_key, owner=first.dedupe_key, expected_ticket_id=None, now=NOW, stale_after=90)
    # When B is processed, it waits rather than opening a second ticket
    with pytest.raises(RetryLaterError) as raised:
        world.handle(second)
    assert raised.value.delay_seconds == 15
    assert world.desk.calls["create_ticket"] == 0
    # Then once A has opened it, B's retry adds B as a comment
    world.handle(first)
    world.handle(second, attempt=2)
    assert len(world.desk.tickets) == 1
    assert [comment.body for comment in world.ticket_of(first).comments if comment.public][-1] == "follow-up 1"


def test_a_stale_claim_of_a_crashed_worker_is_taken_over_without_a_second_ticket(world: World) -> None:
    # Given A created the ticket and died before recording it, and its claim went stale
    first, second = sample_event("meta-fb-comment"), follow_up(sample_event("meta-fb-comment"), 1)
    world.store.failures.add("set_ticket", CrashError())
    with pytest.raises(CrashError):
        world.handle(first)
    world.store.dead = False
    world.now = NOW + timedelta(minutes=5)
    # When B arrives
    world.fresh_process().handle(second, delivery_id="sqs-b")
    # Then B finds A's ticket by its external id and joins it
    assert len(world.desk.tickets) == 1
    assert world.desk.calls["find_tickets"] == 1
    assert world.ticket_of(first).comments[-1].body == "follow-up 1"


def test_a_crash_between_ticket_creation_and_the_store_write_still_gives_one_ticket(world: World) -> None:
    # Given the process dies right after Zendesk created the ticket, before the store records it
    event = sample_event("x-mention")
    world.desk.after["create_ticket"] = lambda: (_ for _ in ()).throw(CrashError())
    with pytest.raises(CrashError):
        world.handle(event)
    # When SQS redelivers the message to a fresh container
    world.fresh_process().handle(event, delivery_id=f"sqs-{event.event_id}", attempt=2)
    # Then the ticket is found again, not created twice, and its first comment is not repeated
    assert len(world.desk.tickets) == 1
    [ticket] = world.desk.tickets.values()
    assert [comment.body for comment in ticket.comments if comment.public] == [event.text]
    assert world.store.conversation(f"x:{event.account_id}:thread:{event.message_id}").ticket_id == ticket.id  # type: ignore[union-attr]


def test_a_retry_after_the_idempotency_key_expired_finds_the_ticket_by_its_external_id(world: World) -> None:
    # Given the ticket was created just before a crash, and the retry comes after Zendesk forgot the key (2 h)
    event = sample_event("meta-whatsapp-text")
    world.desk.after["create_ticket"] = lambda: (_ for _ in ()).throw(CrashError())
    with pytest.raises(CrashError):
        world.handle(event)
    world.desk.forget_idempotency_keys()
    world.now = NOW + timedelta(hours=3)
    # When the event is processed again
    world.fresh_process().handle(event, delivery_id=f"sqs-{event.event_id}", attempt=5)
    # Then the ticket is found through List Tickets by external_id, never created a second time
    assert len(world.desk.tickets) == 1
    assert (world.desk.calls["find_tickets"], world.desk.calls["create_ticket"]) == (1, 1)


def test_a_follow_up_on_a_closed_ticket_opens_a_linked_follow_up_ticket(world: World) -> None:
    first = sample_event("meta-messenger-message")
    world.handle(first)
    old = world.ticket_of(first)
    old.status = "closed"
    world.handle(follow_up(first, 1))
    new = world.ticket_of(first)
    assert new.id != old.id
    assert new.follow_up_of == old.id
    assert new.comments[0].body == "follow-up 1"
    assert world.store.conversation(first.conversation_key).previous_ticket_ids == [old.id]  # type: ignore[union-attr]


def test_a_follow_up_on_a_deleted_ticket_opens_a_fresh_one(world: World) -> None:
    first = sample_event("meta-messenger-message")
    world.handle(first)
    old_id = world.ticket_of(first).id
    del world.desk.tickets[old_id]
    world.handle(follow_up(first, 1))
    new = world.ticket_of(first)
    assert new.id != old_id
    assert new.follow_up_of is None


# --- brand replies, edits, deletions, deliveries ------------------------------------------------


def test_the_brands_own_reply_is_a_note_and_marks_the_conversation_answered(world: World) -> None:
    mention, reply = sample_event("x-mention"), sample_event("x-brand-reply")
    world.handle(mention)
    world.handle(reply)
    key = f"x:{mention.account_id}:thread:{mention.message_id}"
    ticket = world.ticket_of(mention, key)
    assert len(world.desk.tickets) == 1
    assert ticket.comments[-1].public is False
    assert ticket.comments[-1].body.startswith("Replied on X by @AcmeHelp:\n\n@dana_r Sorry about that")
    activity = world.store.conversation(key).activity  # type: ignore[union-attr]
    assert activity.waiting_since is None
    assert activity.first_response_at == reply.created_at
    assert world.crm.activities and all(activity.event_key == mention.dedupe_key for activity in world.crm.activities.values())


def test_brand_messages_outside_any_known_conversation_wait_quietly_for_it(world: World) -> None:
    # Given brand messages in conversations nobody has written in (yet)
    outcomes = [world.handle(sample_event(name)) for name in ("x-brand-reply", "x-dm-brand", TYPED_ECHO)]
    # Then nothing reaches Zendesk or Salesforce; each waits in the store for its conversation
    assert world.desk.http_calls == world.crm.http_calls == 0
    assert [outcome.actions for outcome in outcomes] == [["parked"]] * 3
    assert world.queue.messages == []


def test_edit_and_deletion_are_internal_notes_and_deletion_tags_the_ticket(world: World) -> None:
    world.handle(sample_event("meta-fb-comment"))
    world.handle(sample_event("meta-fb-comment-edited"))
    world.handle(sample_event("meta-fb-comment-removed"))
    ticket = world.ticket_of(sample_event("meta-fb-comment"))
    edit_note, delete_note = ticket.comments[-2:]
    assert (edit_note.public, delete_note.public) == (False, False)
    assert "It now reads:\n\nTodavía espero mi reembolso (pedido 4411)" in edit_note.body
    assert delete_note.body.startswith("The customer deleted Facebook message 1221316769125949_1213590066982748")
    assert "socialdesk_deleted" in ticket.tags
    assert len(world.crm.activities) == 1  # edits and deletions are not new activity


@pytest.mark.parametrize("refusal", [DeskUnavailableError("503 Service Unavailable"), DeskRateLimitedError(30)], ids=["503", "429"])
def test_a_deletion_whose_tagging_failed_after_its_note_is_tagged_on_the_retry_and_noted_once(world: World, refusal: Exception) -> None:
    # Given a Facebook comment on its ticket
    world.handle(sample_event("meta-fb-comment"))
    removed = sample_event("meta-fb-comment-removed")
    # And Zendesk takes the deletion's note, then refuses the tag that goes with it
    world.desk.failures.add("add_tags", refusal)
    with pytest.raises(RetryLaterError):
        world.handle(removed, delivery="sqs-1")
    ticket = world.ticket_of(removed)
    assert "socialdesk_deleted" not in ticket.tags
    # When the deletion is tried again, after any Retry-After
    world.now += timedelta(minutes=2)
    world.handle(removed, delivery="sqs-1", attempt=2)
    # Then the ticket is tagged, and the note is there once
    assert "socialdesk_deleted" in ticket.tags
    assert sum(1 for body in world.private_bodies(removed.conversation_key) if body.startswith("The customer deleted")) == 1


class OneSend:
    """What the outbound function sent: one WhatsApp message, known by the wamid the platform gave it."""

    def __init__(self, message_id: str, job_id: str) -> None:
        self.message_id, self.job_id = message_id, job_id

    def find_sent(self, platform: str, message_id: str) -> str | None:
        return self.job_id if (platform, message_id) == ("whatsapp", self.message_id) else None


def test_a_failed_delivery_of_our_own_acknowledgement_is_tied_to_its_send_on_the_ticket(world: World) -> None:
    # Given a WhatsApp chat whose acknowledgement socialdesk sent, which WhatsApp accepted (a wamid), and which then failed
    world.handle(sample_event("meta-whatsapp-text"))
    failed = sample_event("meta-whatsapp-status-failed")
    job_id = "ack:whatsapp:106540352242922:chat:16505551234:1764871200"
    world.ports = lambda: {"sent": OneSend(failed.message_id, job_id)}  # type: ignore[method-assign]
    world.process = world.fresh_process()
    # When the failed status arrives (131047: outside the 24-hour window, reported after the send was accepted)
    world.handle(failed)
    # Then the ticket says which send was not delivered and why: the send's own "sent" note is not the last word
    note = world.ticket_of(failed).comments[-1].body
    assert note.startswith(f"⚠ The WhatsApp message socialdesk sent (job {job_id}) was not delivered (131047 Re-engagement message)")
    assert "The customer has not received it." in note


def test_a_failed_whatsapp_delivery_is_shown_to_agents_and_others_are_not(world: World) -> None:
    world.handle(sample_event("meta-whatsapp-text"))
    failed = sample_event("meta-whatsapp-status-failed")
    world.handle(msgspec.structs.replace(failed, event_id="wamid.1:delivered", delivery=Delivery(status="delivered")))
    notes_before = len(world.ticket_of(failed).comments)
    world.handle(failed)
    ticket = world.ticket_of(failed)
    assert len(ticket.comments) == notes_before + 1
    assert ticket.comments[-1].body.startswith("⚠ A WhatsApp message to the customer was not delivered (131047 Re-engagement message)")


def test_a_mention_without_author_or_text_still_opens_a_ticket_that_says_where_to_look(world: World) -> None:
    mention = sample_event("meta-instagram-mention")
    world.handle(mention)
    ticket = world.ticket_of(mention)
    assert ticket.comments[0].body == ("Mentioned the brand on Instagram (message 17865799348089777); read it there: the webhook carries no text.")
    assert "instagram:unknown" in world.desk.users
    assert world.crm.http_calls == 0  # no contact to record it against


# --- X threads ----------------------------------------------------------------------------------


def test_customers_replying_to_a_post_socialdesk_never_receives_get_a_ticket_each(world: World) -> None:
    # Given two customers replying to the same post, which never reaches socialdesk (someone else's, say)
    base = sample_event("x-reply")
    assert base.author is not None
    other_author = msgspec.structs.replace(base.author, id="555")
    other = msgspec.structs.replace(base, event_id="1924483199999999998", message_id="1924483199999999998", author=other_author)
    settle(world, [base, other])
    # Then, once they have waited a few minutes for the post (it never comes), each has their own conversation and ticket
    assert len(world.desk.tickets) == 2
    assert {ticket.external_id for ticket in world.desk.tickets.values()} == {
        f"x:{base.account_id}:thread:1924483199999999999",
        f"x:{base.account_id}:thread:1924483199999999998",
    }


def test_a_customer_reply_to_the_brands_answer_joins_the_original_ticket(world: World) -> None:
    mention, brand_reply = sample_event("x-mention"), sample_event("x-brand-reply")
    world.handle(mention)
    world.handle(brand_reply)
    customer_reply = msgspec.structs.replace(sample_event("x-reply"), in_reply_to=brand_reply.message_id)
    world.handle(customer_reply)
    assert len(world.desk.tickets) == 1
    [ticket] = world.desk.tickets.values()
    assert ticket.comments[-1].body.startswith("@AcmeHelp I ordered the blue kettle")


# --- ticket properties from the rules -----------------------------------------------------------


def test_configured_context_fields_replace_the_note_and_influencers_get_priority() -> None:
    config = rules(
        context_fields={"follower_count": 360001, "verified": 360002, "permalink": 360003, "profile_url": 360004},
        influencer={"min_followers": 10000, "priority": "high"},
        ticket={"priority": "normal", "custom_fields": [{"id": 360009, "value": "social"}]},
    )
    world = World(config)
    event = sample_event("x-mention")
    outcome = world.handle(event)
    [ticket] = world.desk.tickets.values()
    assert "context_note" not in outcome.actions
    assert ticket.priority == "high"  # 15,230 followers
    assert dict(ticket.custom_fields) == {
        360009: "social",
        360001: 15230,
        360002: False,
        360003: "https://x.com/dana_r/status/1924465506158878979",
        360004: "https://x.com/dana_r",
    }


# --- failures: each side on its own, waits handed to SQS ----------------------------------------


def test_a_salesforce_outage_does_not_block_the_ticket_and_the_retry_redoes_only_salesforce(world: World) -> None:
    event = sample_event("meta-instagram-comment")
    world.crm.failures.add("record_activity", CrmUnavailableError("503"))
    with pytest.raises(RetryLaterError) as raised:
        world.handle(event, attempt=1)
    assert raised.value.delay_seconds == 60
    assert len(world.desk.tickets) == 1
    desk_calls = world.desk.http_calls
    world.handle(event, attempt=2)
    assert world.desk.http_calls == desk_calls  # nothing redone in Zendesk
    assert len(world.crm.activities) == 1
    assert world.handle(event).duplicate


def test_during_a_zendesk_outage_a_new_conversations_task_waits_for_its_ticket_and_then_links_it(world: World) -> None:
    # Given a new conversation whose ticket Zendesk cannot create right now
    event = sample_event("meta-instagram-comment")
    world.desk.failures.add("create_ticket", DeskUnavailableError("502"))
    # When it is tried, then tried again once Zendesk is back
    with pytest.raises(RetryLaterError) as raised:
        world.handle(event, attempt=3)
    assert raised.value.delay_seconds == 240  # 60 s doubled per attempt
    waiting = len(world.crm.activities)
    world.handle(event, attempt=4)
    # Then the Task was not written without its ticket, and is written once, linking the ticket
    assert waiting == 0
    [ticket] = world.desk.tickets.values()
    [activity] = world.crm.activities.values()
    assert activity.ticket_url is not None and activity.ticket_url.endswith(f"/tickets/{ticket.id}")


def test_zendesk_rate_limit_hands_the_wait_to_sqs(world: World) -> None:
    world.desk.failures.add("upsert_user", DeskRateLimitedError(37))
    with pytest.raises(RetryLaterError) as raised:
        world.handle(sample_event("meta-whatsapp-text"))
    assert raised.value.delay_seconds == 37
    assert "Zendesk rate limit" in raised.value.reason


def test_salesforce_limit_pauses_salesforce_for_the_container_while_zendesk_carries_on(world: World) -> None:
    world.crm.failures.add("record_activity", CrmRateLimitedError("REQUEST_LIMIT_EXCEEDED"))
    first, second = sample_event("meta-whatsapp-text"), sample_event("meta-messenger-message")
    with pytest.raises(RetryLaterError) as raised:
        world.handle(first)
    assert raised.value.delay_seconds == 900
    crm_calls = world.crm.http_calls
    with pytest.raises(RetryLaterError):
        world.handle(second)
    assert world.crm.http_calls == crm_calls  # no call against a spent allocation
    assert len(world.desk.tickets) == 2  # tickets still opened


@pytest.mark.parametrize(
    ("side", "error"),
    [("desk", DeskRejectedError("422 RecordInvalid")), ("crm", CrmRejectedError("400 REQUIRED_FIELD_MISSING"))],
)
def test_a_refused_request_is_a_permanent_failure_and_the_other_side_still_completes(world: World, side: str, error: Exception) -> None:
    event = sample_event("meta-whatsapp-text")
    if side == "desk":
        world.desk.failures.add("create_ticket", error)
    else:
        world.crm.failures.add("record_activity", error)
    with pytest.raises(PermanentFailureError, match="refused"):
        world.handle(event)
    assert len(world.crm.activities) == (1 if side == "desk" else 0)
    assert len(world.desk.tickets) == (0 if side == "desk" else 1)


def test_a_salesforce_call_that_timed_out_after_succeeding_is_not_recorded_twice(world: World) -> None:
    # Given Salesforce created the Task but the answer never arrived
    event = sample_event("meta-whatsapp-text")
    world.crm.after_record = lambda: (_ for _ in ()).throw(CrmUnavailableError("read timeout"))
    with pytest.raises(RetryLaterError):
        world.handle(event)
    # When the event is retried, the Task is found by its event key instead of created again
    world.handle(event, attempt=2)
    assert len(world.crm.activities) == 1
    assert world.crm.calls["find_activity"] == 1


# --- API calls per inbound message ----------------------------------------------------------------


def test_calls_per_message_meet_the_budget_with_context_fields_configured() -> None:
    world = World(rules(context_fields={"permalink": 360003}))
    first = sample_event("meta-whatsapp-text")
    world.handle(first)
    assert (world.desk.http_calls, world.crm.http_calls) == (2, 1)  # new customer: user + ticket; composite
    world.handle(follow_up(first, 1))
    assert (world.desk.http_calls, world.crm.http_calls) == (3, 2)  # follow-up: 1 comment + 1 task insert
    same_customer_new_conversation = msgspec.structs.replace(
        first, event_id="wamid.other", message_id="wamid.other", account_id="999", conversation_key="whatsapp:999:chat:16505551234"
    )
    world.handle(same_customer_new_conversation)
    assert (world.desk.http_calls, world.crm.http_calls) == (4, 3)  # known customer, new conversation: 1 ticket + 1 task insert
    world.handle(sample_event("meta-instagram-dm"))
    assert (world.desk.http_calls, world.crm.http_calls) == (6, 4)  # another new customer: 2 + 1


# --- any delivery order, the same end state ---------------------------------------------------------


def settle(world: World, events: list[SocialEvent]) -> None:
    """Process `events` in the given order as SQS would: waiting ones come back later, released ones are queued again."""
    pending = list(events)
    for _ in range(200):
        if not pending:
            return
        event = pending.pop(0)
        try:
            world.handle(event)
        except RetryLaterError:
            world.now += timedelta(seconds=31)
            pending.append(event)
        pending += world.queue.events
        world.queue.messages.clear()
    raise AssertionError("the events never settled")


def end_state(world: World) -> list[tuple[str | None, list[tuple[bool, str]], list[str], Any]]:
    """What agents and the SLA clock see: each ticket's comments and tags, and the conversation's response facts."""
    state: list[tuple[str | None, list[tuple[bool, str]], list[str], Any]] = []
    for ticket in sorted(world.desk.tickets.values(), key=lambda ticket: str(ticket.external_id)):
        conversation = world.store.conversation(str(ticket.external_id))
        activity = conversation.activity if conversation else None
        state.append((ticket.external_id, sorted((c.public, c.body) for c in ticket.comments), sorted(ticket.tags), activity))
    return state


X_THREAD = ["x-mention", "x-brand-reply"]
FACEBOOK_EDITS = ["meta-fb-comment", "meta-fb-page-reply", "meta-fb-comment-edited", "meta-fb-comment-removed"]


@pytest.mark.parametrize("names", [X_THREAD, FACEBOOK_EDITS, ["meta-messenger-message", TYPED_ECHO]], ids=["x", "facebook", "messenger"])
def test_every_delivery_order_gives_the_same_tickets_notes_and_response_clock(names: list[str]) -> None:
    # Given a conversation's events delivered in order, and the same events delivered in reverse
    in_order, reversed_order = World(), World()
    settle(in_order, [sample_event(name) for name in names])
    settle(reversed_order, [sample_event(name) for name in reversed(names)])
    # Then agents see the same tickets, comments, notes and tags, and the clock the same answer
    assert end_state(reversed_order) == end_state(in_order)
    # And the brand's answer counts: nobody is left waiting
    assert all(activity.waiting_since is None for *_, activity in end_state(reversed_order))


def test_a_brand_reply_before_the_customer_post_waits_for_it_and_then_answers_it(world: World) -> None:
    # Given the brand's X reply arrives before the customer's mention it answers
    mention, reply = sample_event("x-mention"), sample_event("x-brand-reply")
    assert world.handle(reply).actions == ["parked"]
    # When the mention arrives
    world.handle(mention)
    # Then the reply is queued again and, processed, is the ticket's note and stops the clock
    [released] = world.queue.events
    assert released == reply
    world.handle(released)
    ticket = world.ticket_of(mention, f"x:{mention.account_id}:thread:{mention.message_id}")
    assert ticket.comments[-1].body.startswith("Replied on X by @AcmeHelp")
    assert world.store.conversation(str(ticket.external_id)).activity.waiting_since is None  # type: ignore[union-attr]


def test_a_failed_whatsapp_delivery_before_the_chat_has_a_ticket_is_shown_once_it_has(world: World) -> None:
    failed = sample_event("meta-whatsapp-status-failed")
    settle(world, [failed, sample_event("meta-whatsapp-text")])
    assert world.ticket_of(failed).comments[-1].body.startswith("⚠ A WhatsApp message to the customer was not delivered")


def test_a_customer_reply_to_a_brand_reply_still_parked_waits_for_the_thread_then_joins_it(world: World) -> None:
    # Given the brand reply is parked (the mention is late), and the customer answers the brand reply
    mention, brand_reply = sample_event("x-mention"), sample_event("x-brand-reply")
    customer_reply = msgspec.structs.replace(sample_event("x-reply"), in_reply_to=brand_reply.message_id, created_at=NOW)
    world.handle(brand_reply)
    # When the customer's reply comes first, it waits a little rather than opening a ticket of its own
    with pytest.raises(WaitError):
        world.handle(customer_reply)
    assert world.desk.tickets == {}
    # Then once the mention arrives, everything is one ticket
    settle(world, [mention, customer_reply])
    assert len(world.desk.tickets) == 1
    [ticket] = world.desk.tickets.values()
    assert [comment.body for comment in ticket.comments if comment.public][-1].startswith("@AcmeHelp I ordered the blue kettle")


def test_a_customer_reply_whose_parent_never_arrives_gets_its_own_ticket_after_the_wait(world: World) -> None:
    brand_reply = sample_event("x-brand-reply")
    customer_reply = msgspec.structs.replace(sample_event("x-reply"), in_reply_to=brand_reply.message_id, created_at=NOW)
    world.handle(brand_reply)
    with pytest.raises(WaitError):
        world.handle(customer_reply)
    world.now = NOW + PARENT_WAIT + timedelta(seconds=1)
    world.handle(customer_reply)
    assert [ticket.external_id for ticket in world.desk.tickets.values()] == [f"x:{customer_reply.account_id}:thread:{customer_reply.message_id}"]


# --- claims taken over, pauses shared -----------------------------------------------------------------


def test_a_takeover_interrupted_by_zendesk_still_posts_each_message_exactly_once(world: World) -> None:
    # Given A created the ticket and died before recording it; B takes the stale claim over
    first, second = sample_event("meta-fb-comment"), follow_up(sample_event("meta-fb-comment"), 1)
    world.store.failures.add("set_ticket", CrashError())
    with pytest.raises(CrashError):
        world.handle(first)
    world.now = NOW + timedelta(minutes=5)
    # When B's lookup of A's ticket hits a Zendesk 503, and B is retried
    world.desk.failures.add("find_tickets", DeskUnavailableError("503"))
    with pytest.raises(RetryLaterError):
        world.fresh_process().handle(second, delivery_id="sqs-b")
    world.fresh_process().handle(second, delivery_id="sqs-b", attempt=2)
    # And A is retried too
    world.fresh_process().handle(first, delivery_id=f"sqs-{first.event_id}", attempt=2)
    # Then one ticket carries A's words and B's words, each exactly once
    [ticket] = world.desk.tickets.values()
    assert [comment.body for comment in ticket.comments if comment.public] == [first.text, "follow-up 1"]


def test_a_takeover_where_the_first_claimant_created_nothing_creates_the_ticket_with_its_own_words(world: World) -> None:
    # Given A claimed and died before creating anything; B takes over, finds nothing, creates, and loses the answer
    first, second = sample_event("meta-fb-comment"), follow_up(sample_event("meta-fb-comment"), 1)
    world.store.record_activity(first.conversation_key, first, customer_key=None)
    world.store.claim_ticket(first.conversation_key, owner=first.dedupe_key, expected_ticket_id=None, now=NOW, stale_after=90)
    world.now = NOW + timedelta(minutes=5)
    world.desk.after["create_ticket"] = lambda: (_ for _ in ()).throw(CrashError())
    with pytest.raises(CrashError):
        world.fresh_process().handle(second, delivery_id="sqs-b")
    # When B and A are retried
    world.fresh_process().handle(second, delivery_id="sqs-b", attempt=2)
    world.fresh_process().handle(first, delivery_id=f"sqs-{first.event_id}", attempt=2)
    # Then B's ticket holds B's words first and A's as a comment, once each
    [ticket] = world.desk.tickets.values()
    assert [comment.body for comment in ticket.comments if comment.public] == ["follow-up 1", first.text]


def test_a_zendesk_429_pauses_zendesk_for_every_event_and_every_container(world: World) -> None:
    # Given Zendesk answered 429 with Retry-After 60 to one event
    world.desk.failures.add("upsert_user", DeskRateLimitedError(60))
    with pytest.raises(WaitError):
        world.handle(sample_event("x-dm"))
    calls = world.desk.http_calls
    # When another conversation's event comes, in this container and in a new one that has just read its batch
    other = world.fresh_process()
    other.begin_batch()
    for process in (world.process, other):
        with pytest.raises(WaitError) as raised:
            process.handle(sample_event("meta-whatsapp-text"), delivery_id="sqs-w")
        # Then it waits out the Retry-After without calling Zendesk
        assert 60 <= raised.value.delay_seconds <= 67
    assert world.desk.http_calls == calls
    # And once the minute is over, it goes through
    world.now = NOW + timedelta(seconds=61)
    assert "ticket_created" in other.handle(sample_event("meta-whatsapp-text"), delivery_id="sqs-w").actions


def test_a_follow_ups_task_is_written_while_zendesk_tags_its_ticket(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a conversation with its ticket, and the shipped classification (a follow-up's new tags are a call of their own)
    When the customer's follow-up is processed
    Then its Salesforce Task begins only once the comment is on the ticket (it links the ticket holding the words), and
    is under way while Zendesk is still adding the tags (the function waits for the two at once, not one after the
    other); each lands once."""
    world = World(rules().model_copy(update={"classification": load_rules(ROOT / "config" / "socialdesk.toml").classification}))
    first = sample_event("meta-whatsapp-text")
    world.handle(first)
    task_started, overlapped, comments_when_task = threading.Event(), [], []
    record_activity, add_tags = world.crm.record_activity, world.desk.add_tags

    def task(*args: Any, **kwargs: Any) -> Any:
        comments_when_task.append([c.body for c in world.ticket_of(first).comments].count("where is my parcel? 😡"))
        task_started.set()
        return record_activity(*args, **kwargs)

    def tags(*args: Any, **kwargs: Any) -> None:
        overlapped.append(task_started.wait(timeout=5))  # Zendesk is "slow": it answers once the Task has begun, if it ever does
        add_tags(*args, **kwargs)

    monkeypatch.setattr(world.crm, "record_activity", task)
    monkeypatch.setattr(world.desk, "add_tags", tags)
    outcome = world.handle(msgspec.structs.replace(follow_up(first, 1), text="where is my parcel? 😡"))
    assert (comments_when_task, overlapped) == ([1], [True])
    assert sorted(outcome.actions) == ["comment_added", "crm_activity"]
    assert len(world.crm.activities) == 2


def test_a_new_conversations_task_waits_for_its_ticket_and_links_it(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a customer's first message, When it is processed, Then the Task is written only once the ticket exists, and
    links it: a new ticket's link is what the Task needs from Zendesk."""
    event = sample_event("meta-whatsapp-text")
    tickets_when_task: list[int] = []
    record_activity = world.crm.record_activity

    def task(*args: Any, **kwargs: Any) -> Any:
        tickets_when_task.append(len(world.desk.tickets))
        return record_activity(*args, **kwargs)

    monkeypatch.setattr(world.crm, "record_activity", task)
    world.handle(event)
    (activity,) = world.crm.activities.values()
    assert tickets_when_task == [1]
    assert activity.ticket_url is not None and activity.ticket_url.endswith(f"/{world.ticket_of(event).id}")


def test_a_salesforce_outage_beside_a_follow_ups_comment_retries_the_task_alone(world: World) -> None:
    """Given a follow-up whose Task fails (Salesforce down) while its comment is added side by side
    When it is retried, Then the comment is not added again and the Task is written once."""
    first = sample_event("meta-whatsapp-text")
    world.handle(first)
    event = follow_up(first, 1)
    world.crm.failures.add("record_activity", CrmUnavailableError("503"))
    with pytest.raises(RetryLaterError):
        world.handle(event)
    world.handle(event, attempt=2)
    assert [c.body for c in world.ticket_of(first).comments].count("follow-up 1") == 1
    assert len(world.crm.activities) == 2


@pytest.mark.parametrize("sample", ["meta-whatsapp-text", "meta-messenger-message", "meta-instagram-dm", "x-dm"])
def test_a_direct_message_costs_no_message_record_and_its_chat_still_gathers_everything(world: World, sample: str) -> None:
    """Given a chat's first message and its follow-up, processed in either order
    Then no message record is kept for them (the chat's participants name the conversation: a write per message saved),
    and both land on one ticket, as comments, exactly once."""
    first = sample_event(sample)
    second = follow_up(first, 1)
    for order in ((first, second), (second, first)):
        world = World()
        for event in order:
            world.handle(event)
        assert world.store.messages == {}
        assert len(world.desk.tickets) == 1
        bodies = [c.body for c in world.ticket_of(first).comments if c.public]
        assert len(bodies) == 2
        assert bodies.count("follow-up 1") == 1
