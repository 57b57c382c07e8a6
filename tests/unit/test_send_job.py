"""The outbound use case: each job sent at most once, waits that give the claim back, and the truth on the ticket."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from socialdesk.desk.port import DeskUnavailableError, NewTicket
from socialdesk.model.event import Platform
from socialdesk.model.outbound import Channel, JobKind, OutboundJob
from socialdesk.outbound import send_job
from socialdesk.outbound.send_job import SendJob
from socialdesk.ports.outbound import (
    SendNotSentError,
    SendNotSummonedError,
    SendRateLimitedError,
    SendRefusedError,
    SendTokenRejectedError,
    SendUncertainError,
    Sent,
)
from socialdesk.process.failures import RetryLaterError, WaitError
from tests.support.process_fakes import FakeDesk, InMemoryStore

NOW = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)


@dataclass
class ScriptedSender:
    """A platform that answers each send from a script: an error to raise, or a message id it gives."""

    script: list[BaseException | str]
    sent: list[OutboundJob] = field(default_factory=list)

    def send(self, job: OutboundJob) -> Sent:
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        self.sent.append(job)
        return Sent(platform_message_id=step)

    def sender_for(self, job: OutboundJob) -> ScriptedSender:
        return self


@dataclass
class World:
    sender: ScriptedSender
    store: InMemoryStore
    desk: FakeDesk
    ticket_id: int
    metrics: list[str]
    use_case: SendJob

    def job(self, **changes: object) -> OutboundJob:
        fields: dict[str, object] = {
            "job_id": "ack:x:1880000000000000001:1764871200",
            "kind": JobKind.ACKNOWLEDGEMENT,
            "platform": Platform.X,
            "account_id": "1700000000000000001",
            "conversation_key": "x:1700000000000000001:thread:1880000000000000001",
            "channel": Channel.PUBLIC_REPLY,
            "recipient_id": "1600000000000000001",
            "reply_to_id": "1880000000000000001",
            "text": "Thanks, we have your message and will answer soon. (automated)",
            "ticket_id": self.ticket_id,
        }
        return OutboundJob(**{**fields, **changes})  # type: ignore[arg-type]

    def notes(self) -> list[str]:
        return [comment.body for comment in self.desk.tickets[self.ticket_id].comments if not comment.public]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> World:
    metrics: list[str] = []
    monkeypatch.setattr(send_job, "count_metric", lambda name, value=1: metrics.append(name))
    desk = FakeDesk()
    ticket_id = desk.create_ticket(
        NewTicket(subject="@acme where is my order?", body="@acme where is my order?", requester_id=1, external_id="x:1"), idempotency_key="k"
    )
    store = InMemoryStore()
    sender = ScriptedSender(script=[])
    return World(sender, store, desk, ticket_id, metrics, SendJob(ledger=store, senders=sender, desk=desk, conversations=store, clock=lambda: NOW))


def test_a_sent_reply_is_remembered_as_ours_finished_and_noted_on_the_ticket(world: World) -> None:
    # Given X takes the public reply and names it
    world.sender.script = ["1880000000000000099"]
    job = world.job()
    # When the job runs
    outcome = world.use_case.handle(job, delivery_id="m1", attempt=1)
    # Then it was sent once, its echo will be recognised, its record says sent, and the agent sees what went out
    assert [sent.job_id for sent in world.sender.sent] == [job.job_id]
    assert world.store.find_sent("x", "1880000000000000099") == job.job_id
    record = world.store.send_record(job.job_id) or {}
    assert (record["send_state"], record["platform_message_id"]) == ("sent", "1880000000000000099")
    assert world.notes() == [f"Automatic acknowledgement sent on X as a public reply (post id 1880000000000000099): {job.text}"]
    assert outcome.actions == ["reply_sent"] and not outcome.duplicate


def test_a_redelivered_job_is_never_sent_again(world: World) -> None:
    # Given a job sent once
    world.sender.script = ["1880000000000000099", "1880000000000000100"]
    world.use_case.handle(world.job(), delivery_id="m1", attempt=1)
    # When SQS delivers it again (or process queued it twice)
    outcome = world.use_case.handle(world.job(), delivery_id="m2", attempt=1)
    # Then nothing more is sent or noted
    assert outcome.duplicate
    assert len(world.sender.sent) == 1
    assert len(world.notes()) == 1


def test_a_rate_limit_gives_the_claim_back_and_the_job_waits_then_sends(world: World) -> None:
    # Given X answers 429 first (nothing was sent), then takes the reply
    clock = {"now": NOW}
    use_case = SendJob(ledger=world.store, senders=world.sender, desk=world.desk, conversations=world.store, clock=lambda: clock["now"])
    world.sender.script = [SendRateLimitedError(420, "X 429"), "1880000000000000099"]
    # When the job runs, it waits for the window's reset without counting a failure
    with pytest.raises(WaitError) as waited:
        use_case.handle(world.job(), delivery_id="m1", attempt=1)
    assert waited.value.delay_seconds == 420
    assert not waited.value.counts_as_failure
    assert world.notes() == []
    # Then its next try, after the reset, claims it again and sends it
    clock["now"] = NOW + timedelta(seconds=420)
    outcome = use_case.handle(world.job(), delivery_id="m2", attempt=1)
    assert outcome.actions == ["reply_sent"]
    assert len(world.sender.sent) == 1


def test_a_connection_refused_before_sending_is_retried_as_a_failure(world: World) -> None:
    world.sender.script = [SendNotSentError("connection failed: NewConnectionError"), "m-2"]
    with pytest.raises(RetryLaterError) as retried:
        world.use_case.handle(world.job(), delivery_id="m1", attempt=1)
    assert retried.value.counts_as_failure
    assert world.use_case.handle(world.job(), delivery_id="m2", attempt=2).actions == ["reply_sent"]


def test_a_rejected_token_raises_the_alarm_metric_notes_the_ticket_and_is_not_retried(world: World) -> None:
    # Given Meta refuses the Page token (code 190: expired)
    world.sender.script = [SendTokenRejectedError("190", "Graph 190: Error validating access token"), "never"]
    job = world.job(platform=Platform.FACEBOOK, account_id="448242228374517", reply_to_id="448242228374517_1221316769125949_1")
    # When the job runs
    outcome = world.use_case.handle(job, delivery_id="m1", attempt=1)
    # Then ConnectionHealthAlarm's metric is counted, the agent is told an admin must act, the send is failed
    assert world.metrics == ["PlatformTokenRejected"]
    assert world.notes() == [
        "Automatic acknowledgement not delivered: the Facebook token was rejected (code 190); an admin must renew it in PlatformSecret."
        f" Not sent: {job.text}"
    ]
    assert (world.store.send_record(job.job_id) or {})["send_state"] == "failed"
    assert outcome.actions == ["reply_token_rejected"]
    # And a redelivery does not try again
    assert world.use_case.handle(job, delivery_id="m2", attempt=1).duplicate


def test_a_permanent_refusal_is_noted_with_its_reason(world: World) -> None:
    world.sender.script = [SendRefusedError("more than 24 hours have passed since the customer last wrote (WhatsApp 131047)")]
    job = world.job(platform=Platform.WHATSAPP, channel=Channel.DIRECT_MESSAGE, kind=JobKind.AGENT_REPLY, reply_to_id=None)
    outcome = world.use_case.handle(job, delivery_id="m1", attempt=1)
    assert world.notes() == [
        f"Agent reply not delivered on WhatsApp: more than 24 hours have passed since the customer last wrote (WhatsApp 131047). Not sent: {job.text}"
    ]
    record = world.store.send_record(job.job_id) or {}
    assert (record["send_state"], record["reason"]) == ("failed", "more than 24 hours have passed since the customer last wrote (WhatsApp 131047)")
    assert outcome.actions == ["reply_refused"] and world.metrics == []


@pytest.mark.parametrize("failure", [SendUncertainError("no answer in time (read timeout)"), KeyError("a bug after the request left")])
def test_a_send_whose_answer_was_lost_is_marked_unknown_noted_and_never_resent(world: World, failure: BaseException) -> None:
    # Given the request may have reached X (a read timeout), or the code failed after sending
    world.sender.script = [failure, "1880000000000000100"]
    job = world.job()
    # When the job runs, and is delivered again
    outcome = world.use_case.handle(job, delivery_id="m1", attempt=1)
    again = world.use_case.handle(job, delivery_id="m2", attempt=1)
    # Then its fate is recorded as unknown, the agent is told to check, and it is never sent a second time
    assert (world.store.send_record(job.job_id) or {})["send_state"] == "unknown"
    [note] = world.notes()
    assert note.startswith("Automatic acknowledgement may not have been delivered on X (")
    assert "it is not sent again" in note
    assert outcome.actions == ["reply_uncertain"] and again.duplicate
    assert world.sender.sent == []


def test_a_note_that_cannot_be_written_does_not_undo_or_repeat_the_send(world: World) -> None:
    # Given X takes the reply but Zendesk is down when the note is written
    world.sender.script = ["1880000000000000099"]
    world.desk.failures.add("add_comment", DeskUnavailableError("Zendesk 503"))
    # When the job runs
    outcome = world.use_case.handle(world.job(), delivery_id="m1", attempt=1)
    # Then the send stands (no retry that could send twice), and the lost note is counted
    assert outcome.actions == ["reply_sent"]
    assert world.metrics == ["SendNoteFailed"]
    assert (world.store.send_record(world.job().job_id) or {})["send_state"] == "sent"


def test_a_job_without_a_ticket_is_sent_without_a_note(world: World) -> None:
    world.sender.script = ["wamid.HBgL"]
    outcome = world.use_case.handle(world.job(ticket_id=None), delivery_id="m1", attempt=1)
    assert outcome.actions == ["reply_sent"]
    assert world.notes() == []


def test_a_job_whose_earlier_try_died_mid_send_is_noted_as_maybe_delivered_once_and_never_resent(world: World) -> None:
    # Given a try that claimed the job 10 minutes ago and died before it finished (a crash, a timeout)
    job = world.job()
    assert world.store.claim_send(job.job_id, NOW - timedelta(minutes=10))
    world.sender.script = ["never"]
    # When SQS delivers the job again, twice
    first = world.use_case.handle(job, delivery_id="m2", attempt=1)
    second = world.use_case.handle(job, delivery_id="m3", attempt=1)
    # Then nothing is sent, the send is settled unknown, and the agent is told once
    assert world.sender.sent == []
    assert first.duplicate and first.actions == ["reply_uncertain"]
    assert second.duplicate and second.actions == []
    assert (world.store.send_record(job.job_id) or {})["send_state"] == "unknown"
    [note] = world.notes()
    assert "may not have been delivered on X (the try that sent it stopped before it finished)" in note


def test_a_duplicate_arriving_while_the_first_try_sends_is_skipped_without_a_note(world: World) -> None:
    job = world.job()
    assert world.store.claim_send(job.job_id, NOW - timedelta(seconds=20))
    outcome = world.use_case.handle(job, delivery_id="m2", attempt=1)
    assert outcome.duplicate and outcome.actions == []
    assert world.notes() == []


def test_a_whatsapp_text_past_the_24_hour_window_is_refused_before_the_call_and_noted(world: World) -> None:
    # Given an agent reply to a WhatsApp customer who last wrote 30 hours ago (Meta would take it, then fail it later)
    world.sender.script = ["wamid.never"]
    job = world.job(
        platform=Platform.WHATSAPP,
        channel=Channel.DIRECT_MESSAGE,
        kind=JobKind.AGENT_REPLY,
        reply_to_id=None,
        customer_message_at=NOW - timedelta(hours=30),
    )
    # When the job runs
    outcome = world.use_case.handle(job, delivery_id="m1", attempt=1)
    # Then nothing is sent, the send is failed, and the agent reads why
    assert world.sender.sent == []
    assert outcome.actions == ["reply_refused"]
    assert (world.store.send_record(job.job_id) or {})["send_state"] == "failed"
    [note] = world.notes()
    assert note.startswith("Agent reply not delivered on WhatsApp: the customer last wrote 30 hours ago, outside WhatsApp's 24-hour window (131047)")


def test_inside_the_window_and_on_other_platforms_the_customers_last_message_time_stops_nothing(world: World) -> None:
    world.sender.script = ["wamid.1", "1880000000000000099"]
    inside = world.job(job_id="a", platform=Platform.WHATSAPP, channel=Channel.DIRECT_MESSAGE, customer_message_at=NOW - timedelta(hours=23))
    x_reply = world.job(job_id="b", customer_message_at=NOW - timedelta(days=3))
    assert world.use_case.handle(inside, delivery_id="m1", attempt=1).actions == ["reply_sent"]
    assert world.use_case.handle(x_reply, delivery_id="m2", attempt=1).actions == ["reply_sent"]


def test_after_a_rate_limit_the_accounts_next_jobs_wait_without_a_call_until_the_window_resets(world: World) -> None:
    # Given X answered 429 for the brand account, its window resetting in 300 s
    clock = {"now": NOW}
    use_case = SendJob(ledger=world.store, senders=world.sender, desk=world.desk, conversations=world.store, clock=lambda: clock["now"])
    world.sender.script = [SendRateLimitedError(300, "X 429"), "1880000000000000099", "wamid.1"]
    with pytest.raises(WaitError):
        use_case.handle(world.job(job_id="first"), delivery_id="m1", attempt=1)
    # When the same account's next job comes 100 s later
    clock["now"] = NOW + timedelta(seconds=100)
    with pytest.raises(WaitError) as waited:
        use_case.handle(world.job(job_id="second"), delivery_id="m2", attempt=1)
    # Then it waits the rest of the window without calling X or claiming the job
    assert waited.value.delay_seconds == 200
    assert world.store.send_record("second") is None
    # And another platform's job is not held up
    whatsapp = world.job(job_id="third", platform=Platform.WHATSAPP, account_id="106540352242922", channel=Channel.DIRECT_MESSAGE)
    assert use_case.handle(whatsapp, delivery_id="m3", attempt=1).actions == ["reply_sent"]
    # And once the window has reset, the account's jobs are sent
    clock["now"] = NOW + timedelta(seconds=301)
    assert use_case.handle(world.job(job_id="second"), delivery_id="m4", attempt=1).actions == ["reply_sent"]


def test_a_whatsapp_template_goes_outside_the_window_and_the_note_says_it_was_the_template(world: World) -> None:
    # Given a WhatsApp acknowledgement for a customer who wrote 30 hours ago, with the rules' template
    world.sender.script = ["wamid.TPL"]
    job = world.job(
        platform=Platform.WHATSAPP,
        channel=Channel.DIRECT_MESSAGE,
        customer_message_at=NOW - timedelta(hours=30),
        template="ticket_received",
        language="es",
    )
    # When the job runs
    outcome = world.use_case.handle(job, delivery_id="m1", attempt=1)
    # Then it is sent (a template may go outside the 24-hour window), and the agent reads that the template went
    assert outcome.actions == ["reply_sent"]
    [note] = world.notes()
    assert note.startswith("Automatic acknowledgement sent on WhatsApp as the template ticket_received (es)")
    assert "wamid.TPL" in note


UNSUMMONED = "X refused a public reply because the customer did not mention or quote the brand"


def test_an_unsummoned_public_reply_refused_by_x_goes_as_a_dm_when_the_rules_allow(world: World) -> None:
    # Given X refusing the public reply as unsummoned (nothing sent), then taking the DM
    world.sender.script = [SendNotSummonedError(UNSUMMONED), "1950000000000000777"]
    job = world.job(fallback_channel=Channel.DIRECT_MESSAGE)
    # When the job runs, and is delivered again
    outcome = world.use_case.handle(job, delivery_id="m1", attempt=1)
    again = world.use_case.handle(job, delivery_id="m2", attempt=1)
    # Then one DM went to the customer, and the agent reads why it was a DM and not a public reply
    [dm] = world.sender.sent
    assert dm.channel is Channel.DIRECT_MESSAGE and dm.recipient_id == job.recipient_id and dm.text == job.text
    assert outcome.actions == ["reply_sent"] and again.duplicate
    [note] = world.notes()
    assert note.startswith(f"Automatic acknowledgement sent on X as a direct message, as {UNSUMMONED}")
    assert "1950000000000000777" in note
    assert world.store.find_sent("x", "1950000000000000777") == job.job_id


def test_an_unsummoned_public_reply_without_a_dm_fallback_is_noted_with_why(world: World) -> None:
    # Given X refusing the public reply as unsummoned, and rules without x_dm_fallback
    world.sender.script = [SendNotSummonedError(UNSUMMONED)]
    # When the job runs
    outcome = world.use_case.handle(world.job(), delivery_id="m1", attempt=1)
    # Then nothing else is tried, the send failed for good, and the note says why and what would change it
    assert world.sender.sent == [] and outcome.actions == ["reply_refused"]
    [note] = world.notes()
    assert note.startswith(f"Automatic acknowledgement not delivered on X: {UNSUMMONED}")
    assert "acknowledgement.x_dm_fallback is off" in note
    assert (world.store.send_record(world.job().job_id) or {})["send_state"] == "failed"


def test_a_rate_limited_dm_fallback_gives_the_claim_back_and_waits(world: World) -> None:
    # Given X refusing the public reply as unsummoned, then answering the DM with 429 (nothing was sent)
    world.sender.script = [SendNotSummonedError(UNSUMMONED), SendRateLimitedError(600, "X 429")]
    # When the job runs
    with pytest.raises(WaitError):
        world.use_case.handle(world.job(fallback_channel=Channel.DIRECT_MESSAGE), delivery_id="m1", attempt=1)
    # Then nothing was sent or noted, and the job may be claimed again after the wait
    assert world.sender.sent == [] and world.notes() == []
    assert world.store.claim_send(world.job().job_id, NOW + timedelta(minutes=11))
