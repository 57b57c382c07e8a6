"""The outbound send ledger: one set of behaviours, run against the DynamoDB store (moto, from the template) and the in-memory fake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import boto3
import pytest

from socialdesk.devtools.local_aws import AWS_ENVIRONMENT, local_aws
from socialdesk.store.dynamodb import EVENT_RETENTION, SENT_RETENTION, DynamoDbConversationStore
from socialdesk.store.port import SendLedger
from tests.support.process_fakes import InMemoryStore

NOW = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
JOB = "ack:x:1880000000000000001:1764871200"


class Ledger(SendLedger, Protocol):
    def send_record(self, job_id: str) -> dict[str, Any] | None: ...


@pytest.fixture(params=["dynamodb", "in-memory"])
def ledger(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledger]:
    if request.param == "in-memory":
        yield InMemoryStore()
        return
    for name, value in AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with local_aws() as aws:
        client = boto3.client("dynamodb")
        yield DynamoDbConversationStore(aws.resource("StateTable"), lambda: client, clock=lambda: NOW)


def test_a_job_is_claimed_once_and_every_later_claim_is_refused_whatever_became_of_it(ledger: Ledger) -> None:
    # Given a job claimed once
    assert ledger.claim_send(JOB, NOW)
    # Then a second claim (a redelivery, a duplicate in another container) is refused while it is under way
    assert not ledger.claim_send(JOB, NOW + timedelta(seconds=1))
    # And after it ended, sent or not, it is refused still: never sent twice
    for status in ("sent", "failed", "unknown"):
        job = f"{JOB}:{status}"
        assert ledger.claim_send(job, NOW)
        ledger.finish_send(job, status=status, platform_message_id=None, reason=None, now=NOW)
        assert not ledger.claim_send(job, NOW + timedelta(days=6)), status


def test_a_released_claim_may_be_claimed_again_but_a_finished_send_cannot_be_released(ledger: Ledger) -> None:
    # Given a claim given back because the platform refused before sending (a rate limit)
    assert ledger.claim_send(JOB, NOW)
    ledger.release_send(JOB, NOW)
    # Then the next try claims it
    assert ledger.claim_send(JOB, NOW + timedelta(minutes=15))
    # When that try sends it, and a late release arrives (a confused retry)
    ledger.finish_send(JOB, status="sent", platform_message_id="1880000000000000099", reason=None, now=NOW)
    ledger.release_send(JOB, NOW)
    # Then the send stays finished and unclaimable
    assert not ledger.claim_send(JOB, NOW + timedelta(minutes=30))
    record = ledger.send_record(JOB)
    assert record is not None
    assert (record["send_state"], record["platform_message_id"]) == ("sent", "1880000000000000099")


def test_a_failed_send_keeps_its_reason(ledger: Ledger) -> None:
    assert ledger.claim_send(JOB, NOW)
    ledger.finish_send(JOB, status="failed", platform_message_id=None, reason="whatsapp 131047: outside the 24-hour window", now=NOW)
    record = ledger.send_record(JOB)
    assert record is not None
    assert (record["send_state"], record["reason"]) == ("failed", "whatsapp 131047: outside the 24-hour window")
    assert "platform_message_id" not in record


def test_a_message_we_sent_is_found_by_platform_and_id_and_no_other_is(ledger: Ledger) -> None:
    # Given a reply we sent on X
    ledger.remember_sent("x", "1880000000000000099", JOB, "x:1880000000000000001", NOW)
    # Then its echo is recognised as ours, by the job that sent it
    assert ledger.find_sent("x", "1880000000000000099") == JOB
    # And the same id on another platform, or another id, is not ours
    assert ledger.find_sent("facebook", "1880000000000000099") is None
    assert ledger.find_sent("x", "1880000000000000098") is None


def test_send_records_expire_like_event_records_and_sent_messages_like_message_records(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with local_aws() as aws:
        client = boto3.client("dynamodb")
        table = aws.resource("StateTable")
        store = DynamoDbConversationStore(table, lambda: client, clock=lambda: NOW)
        # Given a job sent and its message remembered
        assert store.claim_send(JOB, NOW)
        store.finish_send(JOB, status="sent", platform_message_id="m1", reason=None, now=NOW)
        store.remember_sent("x", "m1", JOB, "x:1", NOW)
        # Then the claim outlives every redelivery of the job (30 days) and the message outlives its echo and every delivery
        # status a platform may still send (45 days), not the conversation's 400
        send = client.get_item(TableName=table, Key={"pk": {"S": f"SEND#{JOB}"}, "sk": {"S": "SEND"}})["Item"]
        sent = client.get_item(TableName=table, Key={"pk": {"S": "SENT#x:m1"}, "sk": {"S": "SENT"}})["Item"]
        assert int(send["expires_at"]["N"]) == int((NOW + EVENT_RETENTION).timestamp())
        assert int(sent["expires_at"]["N"]) == int((NOW + SENT_RETENTION).timestamp())


def test_a_claim_abandoned_by_a_dead_try_is_settled_unknown_once_and_a_live_or_finished_one_never(ledger: Ledger) -> None:
    # Given a claim taken at NOW by a try that then died, and another still under way
    assert ledger.claim_send(JOB, NOW)
    assert ledger.claim_send("live", NOW + timedelta(minutes=9))
    # When a redelivery 10 minutes later finds claims older than 5 minutes abandoned
    later = NOW + timedelta(minutes=10)
    # Then the dead try's claim is settled unknown, for one caller only, and the live one is left alone
    assert ledger.settle_abandoned(JOB, claimed_before=later - timedelta(minutes=5), now=later)
    assert not ledger.settle_abandoned(JOB, claimed_before=later - timedelta(minutes=5), now=later)
    assert not ledger.settle_abandoned("live", claimed_before=later - timedelta(minutes=5), now=later)
    assert (ledger.send_record(JOB) or {})["send_state"] == "unknown"
    assert (ledger.send_record("live") or {})["send_state"] == "claimed"
    # And a finished send is never settled again
    ledger.finish_send("live", status="sent", platform_message_id="m", reason=None, now=later)
    assert not ledger.settle_abandoned("live", claimed_before=later + timedelta(hours=1), now=later)
    assert (ledger.send_record("live") or {})["send_state"] == "sent"
    # And no settled claim can be claimed again
    assert not ledger.claim_send(JOB, later)


def test_a_rate_limited_job_is_told_once_when_its_waits_reach_the_count_and_can_still_be_claimed(ledger: Ledger) -> None:
    """Given a job rate limited again and again (any container), when its waits are counted, then exactly the wait that
    reaches the count says "tell the agent", no later one, and the counting never blocks the job's claim."""
    told = [ledger.count_wait(JOB, NOW + timedelta(minutes=minute), tell_after=3) for minute in range(6)]
    assert told == [False, False, True, False, False, False]
    assert ledger.claim_send(JOB, NOW + timedelta(minutes=7))


def test_a_private_reply_given_back_may_be_claimed_by_another_job_but_only_its_holder_gives_it_back(ledger: Ledger) -> None:
    """Given a comment's private reply held by a job Meta refused (nothing sent), when another job releases it, nothing
    changes; when its holder does, then the next job holds it."""
    assert isinstance(ledger, (DynamoDbConversationStore, InMemoryStore))
    assert ledger.claim_private_reply("facebook", "1221316769125949_77", job_id="reply:4014:77", now=NOW) == "reply:4014:77"
    ledger.release_private_reply("facebook", "1221316769125949_77", job_id="reply:4014:99")
    assert ledger.claim_private_reply("facebook", "1221316769125949_77", job_id="reply:4014:78", now=NOW) == "reply:4014:77"
    ledger.release_private_reply("facebook", "1221316769125949_77", job_id="reply:4014:77")
    assert ledger.claim_private_reply("facebook", "1221316769125949_77", job_id="reply:4014:78", now=NOW) == "reply:4014:78"


def test_a_send_under_way_is_known_by_conversation_and_text_for_two_minutes(ledger: Ledger) -> None:
    """Given outbound marked a send under way, when its echo is processed, then the same conversation and text (spaces
    aside) are known as ours within the window, and another text, conversation or a later time is not."""
    assert isinstance(ledger, (DynamoDbConversationStore, InMemoryStore))
    ledger.mark_sending("messenger:448242228374517:6789012345678901", "We have found\nyour order.", JOB, NOW)
    assert ledger.sending("messenger:448242228374517:6789012345678901", "We have found your order.", NOW + timedelta(seconds=30))
    assert not ledger.sending("messenger:448242228374517:6789012345678901", "Something else.", NOW)
    assert not ledger.sending("messenger:448242228374517:1111111111111111", "We have found your order.", NOW)
    assert not ledger.sending("messenger:448242228374517:6789012345678901", "We have found your order.", NOW + timedelta(minutes=3))
