"""Attack on issue 10's outbound rate limits: WhatsApp's pair rate limit (131056) is per customer, not per number.

Issue 10: "Rate limits defer, they never fail the ticket: ... WhatsApp pair rate (131056, back off)", and socialdesk
"must acknowledge within seconds". Meta's 131056 is "(Business Account, Consumer Account) pair rate limit hit": too
many messages to ONE customer; the brand's number may go on writing to everyone else at once.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from socialdesk.desk.port import NewTicket
from socialdesk.model.event import Platform
from socialdesk.model.outbound import Channel, JobKind, OutboundJob
from socialdesk.outbound.send_job import SendJob
from socialdesk.platforms.meta_send import graph_failure
from socialdesk.ports.outbound import SendRateLimitedError
from socialdesk.process.failures import WaitError
from tests.support.process_fakes import FakeDesk, InMemoryStore
from tests.unit.test_send_job import ScriptedSender

NOW = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
NUMBER_ID = "106540352242922"
PAIR_RATE = {"error": {"message": "(#131056) (Business Account, Consumer Account) pair rate limit hit", "type": "OAuthException", "code": 131056}}


def _job(customer: str, ticket_id: int) -> OutboundJob:
    return OutboundJob(
        job_id=f"ack:whatsapp:{NUMBER_ID}:chat:{customer}:1764871200",
        kind=JobKind.ACKNOWLEDGEMENT,
        platform=Platform.WHATSAPP,
        account_id=NUMBER_ID,
        conversation_key=f"whatsapp:{NUMBER_ID}:chat:{customer}",
        channel=Channel.DIRECT_MESSAGE,
        recipient_id=customer,
        text="Thanks, we have your message. Automated reply",
        ticket_id=ticket_id,
        customer_message_at=NOW,
    )


def test_one_customers_pair_rate_limit_does_not_hold_back_the_acknowledgement_of_another_customer() -> None:
    """Given WhatsApp answering 131056 (pair rate limit) to a send to customer A, as Graph words it
    When the same container then sends customer B's acknowledgement from the same business number
    Then B's acknowledgement is sent at once (only the A pair is limited), and A's job waits."""
    limited = graph_failure(400, PAIR_RATE, {})
    assert isinstance(limited, SendRateLimitedError)
    desk = FakeDesk()
    ticket_a = desk.create_ticket(NewTicket(subject="a", body="a", requester_id=1, external_id="a"), idempotency_key="a")
    ticket_b = desk.create_ticket(NewTicket(subject="b", body="b", requester_id=2, external_id="b"), idempotency_key="b")
    store = InMemoryStore()
    sender = ScriptedSender(script=[limited, "wamid.B"])
    use_case = SendJob(ledger=store, senders=sender, desk=desk, conversations=store, clock=lambda: NOW)
    with pytest.raises(WaitError):  # A's job waits: right
        use_case.handle(_job("16505551234", ticket_a), delivery_id="m1", attempt=1)
    outcome = use_case.handle(_job("4915123456789", ticket_b), delivery_id="m2", attempt=1)
    assert outcome.actions == ["reply_sent"], outcome
    assert [job.recipient_id for job in sender.sent] == ["4915123456789"]
