"""The optional acknowledgement delay: the job waits on the queue (SQS DelaySeconds), and outbound cancels it when a
person answered the conversation meanwhile; our own sends coming back never count as that answer.

Process and outbound run on the same in-memory store (tests/support/process_fakes.py), as they share the state table.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from socialdesk.model import Platform
from socialdesk.model.outbound import OutboundJob
from socialdesk.outbound.send_job import SendJob
from socialdesk.rules import AcknowledgementRules
from tests.support.process_world import NOW
from tests.unit.test_acknowledgement import AckWorld, at_now, with_ack
from tests.unit.test_send_job import ScriptedSender

DELAY = 120


def delayed_world() -> AckWorld:
    """The shipped rules, with X DMs acknowledged two minutes late and everything else at once."""
    return AckWorld(with_ack(delays={Platform.X: {"direct_message": DELAY}}))


def outbound(world: AckWorld, sender: ScriptedSender, *, after: timedelta) -> SendJob:
    return SendJob(ledger=world.store, senders=sender, desk=world.desk, conversations=world.store, clock=lambda: NOW + after)


def queued_delayed_job(world: AckWorld) -> OutboundJob:
    world.handle(at_now("x-dm"))
    [job] = world.outbound.jobs
    assert job.delay_seconds == DELAY
    return job


def test_a_delayed_acknowledgement_is_cancelled_when_a_person_answered_meanwhile() -> None:
    # Given an X DM whose acknowledgement waits two minutes on the queue
    world = delayed_world()
    job = queued_delayed_job(world)
    # And a person answers the customer from X itself one minute later
    world.now = NOW + timedelta(minutes=1)
    world.handle(at_now("x-dm-brand", created_at=NOW + timedelta(minutes=1)))
    # When outbound receives the job after its delay, and SQS then delivers it again
    sender = ScriptedSender(script=["1950000000000000999"])
    first = outbound(world, sender, after=timedelta(seconds=DELAY)).handle(job, delivery_id="m1", attempt=1)
    again = outbound(world, sender, after=timedelta(seconds=DELAY + 5)).handle(job, delivery_id="m2", attempt=1)
    # Then nothing is sent, the send is recorded as cancelled (for good), and the agent reads why, once
    assert sender.sent == []
    assert first.actions == ["reply_cancelled"] and again.duplicate
    assert (world.store.send_record(job.job_id) or {})["send_state"] == "cancelled"
    ticket = world.ticket_of(at_now("x-dm"))
    cancelled = [comment.body for comment in ticket.comments if "a person answered the conversation first" in comment.body]
    assert len(cancelled) == 1 and not ticket.comments[-1].public


def test_our_own_send_coming_back_does_not_cancel_a_delayed_acknowledgement() -> None:
    # Given a delayed acknowledgement, and a DM of ours (say an earlier answer) coming back as X's dm.sent meanwhile
    world = delayed_world()
    job = queued_delayed_job(world)
    echo = at_now("x-dm-brand", created_at=NOW + timedelta(seconds=30))
    world.sent.sent[("x", echo.message_id)] = "ack:an-earlier-window"
    world.handle(echo)
    # When outbound receives the job after its delay
    sender = ScriptedSender(script=["1950000000000000999"])
    outcome = outbound(world, sender, after=timedelta(seconds=DELAY)).handle(job, delivery_id="m1", attempt=1)
    # Then it is sent: our own messages are no person's answer
    assert [sent.job_id for sent in sender.sent] == [job.job_id]
    assert outcome.actions == ["reply_sent"]


def test_a_delayed_acknowledgement_nobody_answered_is_sent_once_under_duplicates() -> None:
    # Given a delayed acknowledgement, queued twice (process retried), and no answer from anyone
    world = delayed_world()
    job = queued_delayed_job(world)
    sender = ScriptedSender(script=["1950000000000000999", "1950000000000001000"])
    # When both copies arrive after the delay
    use_case = outbound(world, sender, after=timedelta(seconds=DELAY))
    outcomes = [use_case.handle(job, delivery_id=f"m{n}", attempt=1) for n in (1, 2)]
    # Then it is sent once
    assert len(sender.sent) == 1
    assert [outcome.duplicate for outcome in outcomes] == [False, True]


def test_an_answer_to_an_earlier_message_does_not_cancel_the_acknowledgement_of_a_later_one() -> None:
    # Given the brand answered before the customer wrote again (the answer predates the message acknowledged)
    world = delayed_world()
    world.now = NOW - timedelta(minutes=10)
    world.handle(at_now("x-dm-brand", created_at=NOW - timedelta(minutes=10)))
    world.now = NOW
    job = queued_delayed_job(world)
    # When the acknowledgement's delay is over
    sender = ScriptedSender(script=["1950000000000000999"])
    outbound(world, sender, after=timedelta(seconds=DELAY)).handle(job, delivery_id="m1", attempt=1)
    # Then it is sent
    assert len(sender.sent) == 1


def test_a_delay_is_set_per_platform_and_kind_over_the_global_one_and_never_beyond_what_sqs_allows() -> None:
    # Given a global delay, and none for WhatsApp chats, as the rules file's TOML gives them
    rules = AcknowledgementRules.model_validate({"delay_seconds": 60, "delays": {"whatsapp": {"direct_message": 0}}})
    # Then each platform and kind gets its own
    assert rules.delay_for(Platform.WHATSAPP, "direct_message") == 0
    assert rules.delay_for(Platform.X, "post") == 60
    # And SQS's 15-minute cap on DelaySeconds is the rules file's
    with pytest.raises(ValidationError):
        AcknowledgementRules(delay_seconds=901)
    with pytest.raises(ValidationError):
        AcknowledgementRules(delays={Platform.X: {"post": -1}})


def test_without_a_delay_the_job_goes_at_once_and_outbound_reads_no_conversation() -> None:
    # Given the shipped rules (no delay) and a brand answer already there
    world = AckWorld()
    world.handle(at_now("x-dm"))
    [job] = world.outbound.jobs
    assert job.delay_seconds == 0
    world.handle(at_now("x-dm-brand", created_at=NOW + timedelta(seconds=1)))
    # When outbound sends it
    sender = ScriptedSender(script=["1950000000000000999"])
    outbound(world, sender, after=timedelta(seconds=2)).handle(job, delivery_id="m1", attempt=1)
    # Then it went out: only a delayed message is held back for a person's answer
    assert len(sender.sent) == 1
