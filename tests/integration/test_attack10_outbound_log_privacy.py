"""Attack on issue 10's log privacy: the outbound function's lines about a WhatsApp acknowledgement.

README: "Message text, secrets, verify tokens and query strings are never logged, and neither is a customer's phone
number", and "The outbound function logs `event processed` per job (its job id, conversation, ticket and action)". The
job id of an acknowledgement is `ack:<conversation key>:<epoch>` (README, automatic messages), and a WhatsApp
conversation key ends with the customer's phone number or BSUID.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import pytest

from socialdesk.aws.sqs import SqsOutboundJobs
from socialdesk.model.event import Platform
from socialdesk.model.outbound import Channel, JobKind, OutboundJob
from socialdesk.observability import logger
from socialdesk.platforms.meta_send import GRAPH_API
from tests.support.webhooks import sample

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.process_stack import Flow

PHONE_NUMBER_ID = "106540352242922"
CUSTOMER_PHONE = "16505551234"  # the sender of the meta-whatsapp-text sample


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.INFO)
    yield caplog


def _text(caplog: pytest.LogCaptureFixture) -> str:
    plain = logging.Formatter("%(name)s %(levelname)s %(message)s")
    records = [record for record in caplog.records if not record.name.startswith("moto")]
    return "\n".join((logger.registered_formatter if record.name == logger.name else plain).format(record) for record in records)


def _acknowledgement(ticket_id: int) -> OutboundJob:
    conversation_key = f"whatsapp:{PHONE_NUMBER_ID}:chat:{CUSTOMER_PHONE}"
    return OutboundJob(
        job_id=f"ack:{conversation_key}:1764871200",  # as process names it: ack:<conversation key>:<epoch>
        kind=JobKind.ACKNOWLEDGEMENT,
        platform=Platform.WHATSAPP,
        account_id=PHONE_NUMBER_ID,
        conversation_key=conversation_key,
        channel=Channel.DIRECT_MESSAGE,
        recipient_id=CUSTOMER_PHONE,
        text="Gracias, hemos recibido tu mensaje. Respuesta automática",
        ticket_id=ticket_id,
    )


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.ACKPRIV"}]}),
        (400, {"error": {"message": "(#131026) Message undeliverable", "type": "OAuthException", "code": 131026}}),
    ],
    ids=["sent", "refused"],
)
def test_the_outbound_log_lines_of_a_whatsapp_acknowledgement_never_show_the_customers_phone_number(
    flow: Flow, logged: pytest.LogCaptureFixture, status: int, answer: dict[str, Any]
) -> None:
    """Given a WhatsApp customer's ticket and the acknowledgement process queues for her (job id ack:<conversation key>:<epoch>)
    When the outbound function sends it (WhatsApp takes it, or refuses it for good with 131026)
    Then no log line of any logger holds her phone number: the job id is pseudonymised like the conversation key."""
    flow.aws.put_secret("PlatformSecret", {"whatsapp_tokens": {PHONE_NUMBER_ID: "EAAGwhatsapp"}})
    flow.webhook(sample("meta-whatsapp-text"))
    flow.process_all()
    [ticket_id] = flow.zendesk.tickets

    def whatsapp(request: Any) -> tuple[int, dict[str, str], str]:
        return status, {"content-type": "application/json"}, json.dumps(answer)

    assert flow.http is not None
    flow.http.add_callback("POST", f"{GRAPH_API}/{PHONE_NUMBER_ID}/messages", callback=whatsapp)
    SqsOutboundJobs(flow.aws.resource("OutboundQueue"), lambda: flow.aws.sqs).enqueue(_acknowledgement(ticket_id))
    logged.clear()
    assert flow.outbound_once() == {"batchItemFailures": []}
    text = _text(logged)
    assert '"message":"event processed"' in text
    assert CUSTOMER_PHONE not in text, [line for line in text.splitlines() if CUSTOMER_PHONE in line]
