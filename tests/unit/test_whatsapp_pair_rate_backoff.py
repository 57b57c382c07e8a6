"""WhatsApp's pair rate (131056): one customer's limit, backed off 4^X s for that pair only, as Meta advises."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from socialdesk.desk.port import NewTicket
from socialdesk.outbound.send_job import SendJob
from socialdesk.platforms.meta_send import graph_failure
from socialdesk.process.failures import WaitError
from tests.support.process_fakes import FakeDesk, InMemoryStore
from tests.unit.test_attack10_whatsapp_pair_rate import NOW, PAIR_RATE, _job
from tests.unit.test_send_job import ScriptedSender

CUSTOMER = "16505551234"


def test_a_customer_refused_again_and_again_waits_four_times_longer_each_time_until_a_send_goes() -> None:
    """Given WhatsApp refusing sends to one customer with 131056 four times, then taking one, then refusing again
    When the job is tried each time its wait is over
    Then the waits are 6, 6, 16, 60 s (4^X, never under the sender's 6 s, at most a minute), and after the send the count starts again."""
    desk = FakeDesk()
    ticket = desk.create_ticket(NewTicket(subject="a", body="a", requester_id=1, external_id="a"), idempotency_key="a")
    limited = graph_failure(400, PAIR_RATE, {})
    sender = ScriptedSender(script=[limited, limited, limited, limited, "wamid.A", limited])
    clock = [NOW]
    store = InMemoryStore()
    use_case = SendJob(ledger=store, senders=sender, desk=desk, conversations=store, clock=lambda: clock[0])
    waits = []
    for number in range(6):
        job = _job(CUSTOMER, ticket) if number < 5 else msgspec.structs.replace(_job(CUSTOMER, ticket), job_id="ack:second")
        try:
            use_case.handle(job, delivery_id=f"m{number}", attempt=1)
        except WaitError as exc:
            waits.append(exc.delay_seconds)
            clock[0] += timedelta(seconds=exc.delay_seconds)
    assert waits == [6, 6, 16, 60, 6]
    clock[0] -= timedelta(seconds=1)  # one second before the last wait is over, the pair is still held back
    with pytest.raises(WaitError):
        use_case.handle(_job(CUSTOMER, ticket), delivery_id="m9", attempt=1)
