"""Attack on the privacy of log lines (README: a WhatsApp customer's number is never logged, also inside failure reasons)
along an agent's WhatsApp reply that the Cloud API refuses with an error naming the recipient."""

from __future__ import annotations

import json
from typing import Any

import pytest

from socialdesk.platforms.meta_send import GRAPH_API
from tests.integration.test_agent_reply_flow import PHONE_NUMBER_ID, agent_comment, notes, ticket_of
from tests.support.log_capture import logged_text
from tests.support.process_stack import Flow

CUSTOMER_NUMBER = "16505551234"  # the sample customer's WhatsApp number (meta-whatsapp-text)


@pytest.mark.parametrize(
    "details",
    [
        f"Recipient phone number +{CUSTOMER_NUMBER} not in allowed list",
        f"Invalid parameter 'to': {CUSTOMER_NUMBER}",
        "Recipient phone number +1 650-555-1234 is not a valid WhatsApp user",
    ],
)
def test_a_whatsapp_refusal_naming_the_customers_number_logs_no_number(
    flow: Flow,
    everything_logged: pytest.LogCaptureFixture,
    details: str,
) -> None:
    """Given an agent's WhatsApp reply, when the Cloud API refuses it with an error whose details name the recipient's
    number, then the ticket's note says why, and no log line of any function holds the number (it is replaced by `~`
    and 8 hex digits, as the README promises for failure reasons)."""

    def refuse(request: Any) -> tuple[int, dict[str, str], str]:
        error = {"message": "(#131009) Parameter value is not valid", "code": 131009, "error_data": {"details": details}}
        return 400, {"content-type": "application/json"}, json.dumps({"error": error})

    assert flow.http is not None
    flow.http.add_callback("POST", f"{GRAPH_API}/{PHONE_NUMBER_ID}/messages", callback=refuse)
    ticket_id, ticket = ticket_of(flow, "meta-whatsapp-text", {"whatsapp_tokens": {PHONE_NUMBER_ID: "EAAGwhatsapp"}})
    assert flow.desk_webhook(agent_comment(ticket_id, ticket, 910, "Your parcel left today.")) == 200
    while flow.outbound_once() is not None:
        pass
    assert any(note.startswith("Agent reply not delivered on WhatsApp") for note in notes(flow, ticket_id))
    logged = logged_text(everything_logged)
    assert "reply not delivered" in logged
    assert CUSTOMER_NUMBER not in logged and "650-555-1234" not in logged, [line for line in logged.splitlines() if "555" in line]
