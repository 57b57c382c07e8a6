"""What reaches the logs when the whole pipeline runs with every logger at DEBUG: no phone number, secret or message text.

The real handlers, zenpy and simple-salesforce against HTTP fakes (`responses`), botocore against moto.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import pytest

from tests.support.log_capture import logged_text
from tests.support.process_stack import Flow
from tests.support.webhooks import sample

if TYPE_CHECKING:
    pass

CUSTOMER_PHONE = "16505551234"  # the sender of the meta-whatsapp-text sample
CUSTOMER_BSUID = "US.13491208655302741918"  # hers since business-scoped user ids (meta-whatsapp-text-bsuid, -username, -smb-echo)
MESSAGE_TEXT = "Mi pedido no ha llegado"


def test_a_whatsapp_customers_phone_number_reaches_no_log_line_at_any_level(flow: Flow, everything_logged: pytest.LogCaptureFixture) -> None:
    # Given a WhatsApp message from +1 650 555 1234, whose wamid carries the number base64-encoded
    event = sample("meta-whatsapp-text")
    assert base64.b64encode(CUSTOMER_PHONE.encode()).decode()[:12] in event["body"]
    # When it is received, processed into a ticket and a Task, and delivered again (a duplicate)
    flow.webhook(event)
    flow.process_all()
    flow.webhook(event)
    flow.process_all()
    # Then the event lines are there, and neither the number nor its base64 form is in any line of any logger
    logged = logged_text(everything_logged)
    assert logged.count('"message":"event processed"') == 2
    assert '"conversation":"whatsapp:106540352242922:chat:~' in logged
    for personal in (CUSTOMER_PHONE, base64.b64encode(CUSTOMER_PHONE.encode()).decode()[:12]):
        assert personal not in logged


def test_neither_the_phone_number_nor_the_business_scoped_id_of_a_whatsapp_customer_reaches_a_log_line(
    flow: Flow, everything_logged: pytest.LogCaptureFixture
) -> None:
    # Given her phone-keyed chat, then her messages with BSUID and number and with the BSUID alone, the brand's Business
    # app reply and a failed status to her BSUID: keys of both kinds, aliases between them, wamids encoding either
    for name in ("text", "text-bsuid", "username", "smb-echo", "status-failed-bsuid"):
        flow.webhook(sample(f"meta-whatsapp-{name}"))
        flow.process_all()
    # Then every event was processed and logged, and no line holds either id or the base64 form of either
    logged = logged_text(everything_logged)
    assert logged.count('"message":"event processed"') == 5
    for personal in (CUSTOMER_PHONE, CUSTOMER_BSUID, CUSTOMER_BSUID.split(".")[1], base64.b64encode(CUSTOMER_BSUID.encode()).decode()[:12]):
        assert personal not in logged
    assert base64.b64encode(CUSTOMER_PHONE.encode()).decode()[:12] not in logged


def test_library_loggers_print_no_secret_token_or_message_text_even_at_debug(
    flow: Flow, private_key: str, everything_logged: pytest.LogCaptureFixture
) -> None:
    # Given the root logger at DEBUG, and credentials and a message that can be recognised
    # When zenpy creates the ticket, simple-salesforce logs in and writes the Task, and botocore reads the
    # secrets and writes DynamoDB and SQS
    flow.webhook(sample("meta-whatsapp-text"))
    flow.process_all()
    assert flow.zendesk.calls["POST /tickets.json"] == 1
    assert len(flow.salesforce.tasks) == 1
    # Then no captured record carries the Zendesk token, the Salesforce key, the webhook secret or the text
    logged = logged_text(everything_logged)
    private_key_line = private_key.splitlines()[1]
    for secret_or_text in ("zendesk-token", "3MVG9-key", private_key_line, "test-app-secret", MESSAGE_TEXT):
        assert secret_or_text not in logged
    # And the libraries that print bodies, URLs and tokens at DEBUG printed nothing at all (moto is the test's AWS)
    talkative = {"boto3", "botocore", "urllib3", "requests", "zenpy", "simple_salesforce", "zeep"}
    assert [record.name for record in everything_logged.records if record.name.split(".")[0] in talkative] == []
