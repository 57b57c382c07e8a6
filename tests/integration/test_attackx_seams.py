"""Attacks on the seams between acknowledgements (issue 10), the response clock (issue 11) and agents' replies (issue 12),
through the whole deployed path: webhook → ingest → process → Zendesk's signed event → desk_events → outbound → the
platform (an HTTP fake) → sla_check, on moto from the template and the virtual clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from socialdesk.devtools.zendesk_events import comment_added
from socialdesk.platforms.meta_send import GRAPH_API
from tests.integration.test_agent_reply_flow import PHONE_NUMBER_ID, agent_comment, notes, ticket_of
from tests.support.log_capture import logged_text
from tests.support.process_stack import RULES, Flow, process_stack
from tests.support.sla_world import FLOW_SLA, waiting_since

DUE_AT_FIELD = 360000000030
STATE_FIELD = 360000000031
TOKENS = {"whatsapp_tokens": {PHONE_NUMBER_ID: "EAAGwhatsapp"}}


@pytest.fixture
def sla_flow(tmp_path: Path, private_key: str) -> Iterator[Flow]:
    rules = tmp_path / "socialdesk.toml"
    sla = FLOW_SLA.replace("[sla]\n", f"[sla]\ndue_at_field = {DUE_AT_FIELD}\n", 1)
    rules.write_text(f"{RULES}\n[replies]\nstate_field = {STATE_FIELD}\n{sla}")
    with process_stack(rules, private_key) as stack:
        yield stack


class WhatsApp:
    """The Cloud API's send endpoint: each call recorded; accepted (a new wamid) or refused with `error`."""

    def __init__(self, flow: Flow, *, error: dict[str, Any] | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.error = error
        assert flow.http is not None
        flow.http.add_callback("POST", f"{GRAPH_API}/{PHONE_NUMBER_ID}/messages", callback=self._call)

    def _call(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls.append(json.loads(request.body))
        if self.error is not None:
            return 400, {"content-type": "application/json"}, json.dumps({"error": self.error})
        return 200, {"content-type": "application/json"}, json.dumps({"messages": [{"id": f"wamid.AGENT{len(self.calls)}"}]})


def status_changed(ticket_id: int, external_id: str, *, previous: str, current: str, at: datetime, event_id: str | None = None) -> dict[str, Any]:
    """Zendesk's `ticket.status_changed` event as its event-subscribed webhook sends it."""
    return {
        "type": "zen:event-type:ticket.status_changed",
        "account_id": 1234567,
        "id": event_id or f"status-{ticket_id}-{current}-{at.timestamp()}",
        "time": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "zendesk_event_version": "2022-11-06",
        "subject": f"zen:ticket:{ticket_id}",
        "detail": {"id": str(ticket_id), "external_id": external_id, "tags": ["socialdesk"], "status": current.upper()},
        "event": {"current": current.upper(), "previous": previous.upper()},
    }


def drain_outbound(flow: Flow) -> None:
    while flow.outbound_once() is not None:
        pass


def at_minute(flow: Flow, since: datetime, minute: float) -> None:
    assert flow.clock is not None
    flow.clock.move_to(since + timedelta(minutes=minute))


def due_at(flow: Flow, ticket_id: int) -> str | None:
    for item in flow.zendesk.tickets[ticket_id].get("custom_fields", []):
        if item["id"] == DUE_AT_FIELD:
            value = item["value"]
            return str(value) if value else None
    return None


def breach_notes(flow: Flow, ticket_id: int) -> list[str]:
    return [note for note in notes(flow, ticket_id) if note.startswith("Response SLA")]


def test_an_agent_reply_whatsapp_accepted_stops_the_clock_and_no_escalation_follows(sla_flow: Flow) -> None:
    """Given a WhatsApp customer's ticket under a 15-minute target,
    When an agent answers in Zendesk at minute 5 and WhatsApp accepts the reply,
    Then the checks at minutes 16 and 26 escalate nothing, the ticket carries no breach, and its "due at" field is empty."""
    whatsapp = WhatsApp(sla_flow)
    ticket_id, ticket = ticket_of(sla_flow, "meta-whatsapp-text", TOKENS)
    since = waiting_since(sla_flow.aws.resource("StateTable"))
    at_minute(sla_flow, since, 1)
    sla_flow.sla_check()
    assert due_at(sla_flow, ticket_id) is not None, "the due-at field shows the running clock"
    at_minute(sla_flow, since, 5)
    assert sla_flow.desk_webhook(agent_comment(ticket_id, ticket, 7001, "Your parcel left today.")) == 200
    drain_outbound(sla_flow)
    assert len(whatsapp.calls) == 1
    escalated = []
    for minute in (16, 26):
        at_minute(sla_flow, since, minute)
        escalated.append(int(sla_flow.sla_check()["escalated"]))
    assert escalated == [0, 0]
    assert "sla_breached" not in sla_flow.zendesk.tickets[ticket_id]["tags"]
    assert breach_notes(sla_flow, ticket_id) == []
    assert due_at(sla_flow, ticket_id) is None


def test_an_agent_reply_whatsapp_refused_leaves_the_customer_waiting_and_is_escalated(sla_flow: Flow) -> None:
    """Given a WhatsApp customer's ticket under a 15-minute target,
    When an agent answers at minute 5 but the Cloud API refuses the reply (131026, undeliverable),
    Then the ticket gets a "not delivered" note and the check at minute 16 escalates the conversation (level 1) all the same."""
    WhatsApp(sla_flow, error={"message": "Message undeliverable", "type": "OAuthException", "code": 131026, "fbtrace_id": "A1"})
    ticket_id, ticket = ticket_of(sla_flow, "meta-whatsapp-text", TOKENS)
    since = waiting_since(sla_flow.aws.resource("StateTable"))
    at_minute(sla_flow, since, 5)
    assert sla_flow.desk_webhook(agent_comment(ticket_id, ticket, 7002, "Your parcel left today.")) == 200
    drain_outbound(sla_flow)
    assert any(note.startswith("Agent reply not delivered") or "not sent" in note.lower() for note in notes(sla_flow, ticket_id))
    at_minute(sla_flow, since, 16)
    assert int(sla_flow.sla_check()["escalated"]) == 1
    assert "sla_breached" in sla_flow.zendesk.tickets[ticket_id]["tags"]


def test_a_ticket_solved_in_zendesk_is_never_escalated_and_its_reopening_restarts_the_clock(sla_flow: Flow) -> None:
    """Given a WhatsApp customer's ticket under a 15-minute target, and nobody answering,
    When Zendesk's signed webhook says at minute 4 the ticket was solved,
    Then the checks at 16 and 26 escalate nothing and the due-at field is emptied;
    And when Zendesk later says at minute 40 the ticket was reopened, the check 16 minutes after that escalates it once."""
    WhatsApp(sla_flow)
    ticket_id, ticket = ticket_of(sla_flow, "meta-whatsapp-text", TOKENS)
    since = waiting_since(sla_flow.aws.resource("StateTable"))
    at_minute(sla_flow, since, 1)
    sla_flow.sla_check()
    at_minute(sla_flow, since, 4)
    solve = status_changed(ticket_id, ticket["external_id"], previous="open", current="solved", at=since + timedelta(minutes=4))
    assert sla_flow.desk_webhook(solve) == 200
    escalated = []
    for minute in (16, 26):
        at_minute(sla_flow, since, minute)
        escalated.append(int(sla_flow.sla_check()["escalated"]))
    assert escalated == [0, 0]
    assert due_at(sla_flow, ticket_id) is None
    at_minute(sla_flow, since, 40)
    reopen = status_changed(ticket_id, ticket["external_id"], previous="solved", current="open", at=since + timedelta(minutes=40))
    assert sla_flow.desk_webhook(reopen) == 200
    escalated = []
    for minute in (41, 54, 56, 57):
        at_minute(sla_flow, since, minute)
        escalated.append(int(sla_flow.sla_check()["escalated"]))
    assert escalated == [0, 0, 1, 0]
    assert "sla_breached" in sla_flow.zendesk.tickets[ticket_id]["tags"]


def end_state_of_submit_as_solved(flow: Flow, order: str) -> tuple[Any, ...]:
    """An agent's "Submit as Solved" at minute 5: a public comment and the solve in one update, both events delivered in
    `order` ("comment-first" or "status-first"), each twice. What the customer, the ticket and the checks see."""
    whatsapp = WhatsApp(flow)
    ticket_id, ticket = ticket_of(flow, "meta-whatsapp-text", TOKENS)
    since = waiting_since(flow.aws.resource("StateTable"))
    at = since + timedelta(minutes=5)
    at_minute(flow, since, 5)
    comment = agent_comment(ticket_id, ticket, 7003, "Your parcel left today.", at=at, event_id="evt-comment-7003")
    solve = status_changed(ticket_id, ticket["external_id"], previous="open", current="solved", at=at, event_id="evt-solve-7003")
    deliveries = [comment, solve] if order == "comment-first" else [solve, comment]
    for payload in (*deliveries, *deliveries):
        assert flow.desk_webhook(payload) == 200
        drain_outbound(flow)
    escalated = []
    for minute in (16, 26, 60):
        at_minute(flow, since, minute)
        escalated.append(int(flow.sla_check()["escalated"]))
    return (
        [call["text"]["body"] for call in whatsapp.calls],
        [note.replace(str(ticket_id), "T") for note in notes(flow, ticket_id) if note.startswith("Agent reply")],
        escalated,
        "sla_breached" in flow.zendesk.tickets[ticket_id]["tags"],
        due_at(flow, ticket_id),
    )


def test_submit_as_solved_gives_the_same_end_state_whichever_event_zendesk_delivers_first(tmp_path: Path, private_key: str) -> None:
    """Given an agent who answers a WhatsApp customer with "Submit as Solved" (a comment and a solve at the same instant),
    When Zendesk delivers the status change before the comment, each twice,
    Then the end state equals the in-order delivery's: one WhatsApp call, one note, nothing escalated, no due-at field."""
    states = []
    for order in ("comment-first", "status-first"):
        rules = tmp_path / f"{order}.toml"
        sla = FLOW_SLA.replace("[sla]\n", f"[sla]\ndue_at_field = {DUE_AT_FIELD}\n", 1)
        rules.write_text(f"{RULES}\n[replies]\nstate_field = {STATE_FIELD}\n{sla}")
        with process_stack(rules, private_key) as flow:
            states.append(end_state_of_submit_as_solved(flow, order))
    in_order, out_of_order = states
    assert in_order[0] == ["Your parcel left today."]
    assert in_order[2] == [0, 0, 0] and in_order[3] is False
    assert out_of_order == in_order


def test_the_customer_writing_after_an_agent_reply_restarts_the_clock_and_the_due_at_field_follows(sla_flow: Flow) -> None:
    """Given a WhatsApp ticket answered by an agent at minute 5 (accepted),
    When the customer writes again at minute 30 and nobody answers,
    Then the due-at field shows minute 45 (the next-response target) and the check at 46 escalates once."""
    from tests.support.webhooks import meta_post, sample_body, to_bytes

    WhatsApp(sla_flow)
    ticket_id, ticket = ticket_of(sla_flow, "meta-whatsapp-text", TOKENS)
    since = waiting_since(sla_flow.aws.resource("StateTable"))
    at_minute(sla_flow, since, 5)
    assert sla_flow.desk_webhook(agent_comment(ticket_id, ticket, 7004, "Your parcel left today.")) == 200
    drain_outbound(sla_flow)
    at_minute(sla_flow, since, 6)
    sla_flow.sla_check()
    assert due_at(sla_flow, ticket_id) is None
    at_minute(sla_flow, since, 30)
    again = sample_body("meta-whatsapp-text")
    message = again["entry"][0]["changes"][0]["value"]["messages"][0]
    message["id"] = "wamid.AGAIN30"
    message["timestamp"] = str(int((since + timedelta(minutes=30)).timestamp()))
    message["text"]["body"] = "Still nothing arrived"
    sla_flow.webhook(meta_post(to_bytes(again)))
    sla_flow.process_all()
    at_minute(sla_flow, since, 31)
    sla_flow.sla_check()
    shown = due_at(sla_flow, ticket_id)
    assert shown is not None
    assert datetime.fromisoformat(shown.replace("Z", "+00:00")) == (since + timedelta(minutes=45)).replace(microsecond=0).astimezone(UTC)
    escalated = []
    for minute in (44, 46):
        at_minute(sla_flow, since, minute)
        escalated.append(int(sla_flow.sla_check()["escalated"]))
    assert escalated == [0, 1]


def test_no_log_line_along_message_reply_solve_and_escalation_holds_the_number_or_any_words(
    sla_flow: Flow, everything_logged: pytest.LogCaptureFixture
) -> None:
    """Given every logger at DEBUG,
    When a WhatsApp customer writes, an agent's reply is refused, the ticket is escalated, then solved and reopened in Zendesk,
    Then no log line holds the customer's number, their words or the agent's words."""
    WhatsApp(sla_flow, error={"message": "(#131026) Message undeliverable to 16505551234", "type": "OAuthException", "code": 131026})
    ticket_id, ticket = ticket_of(sla_flow, "meta-whatsapp-text", TOKENS)
    since = waiting_since(sla_flow.aws.resource("StateTable"))
    at_minute(sla_flow, since, 5)
    assert sla_flow.desk_webhook(agent_comment(ticket_id, ticket, 7005, "Dear Señor Müller, your refund of 42 € is on its way")) == 200
    drain_outbound(sla_flow)
    at_minute(sla_flow, since, 16)
    sla_flow.sla_check()
    at = since + timedelta(minutes=20)
    at_minute(sla_flow, since, 20)
    assert sla_flow.desk_webhook(status_changed(ticket_id, ticket["external_id"], previous="open", current="solved", at=at)) == 200
    at_minute(sla_flow, since, 25)
    reopen = status_changed(ticket_id, ticket["external_id"], previous="solved", current="open", at=at + timedelta(minutes=5))
    assert sla_flow.desk_webhook(reopen) == 200
    logged = logged_text(everything_logged)
    for secret in ("16505551234", "6505551234", "Mi pedido no ha llegado", "Señor Müller", "refund of 42"):
        assert secret not in logged, secret
    assert ticket["external_id"] not in logged or "16505551234" not in ticket["external_id"]


def test_a_comment_added_that_zendesk_sends_for_a_customer_reply_by_email_is_not_sent_to_the_platform(sla_flow: Flow) -> None:
    """Given a WhatsApp ticket, When the customer (not staff) adds a public comment in Zendesk,
    Then nothing is sent to WhatsApp and the clock keeps running (escalated at minute 16)."""
    whatsapp = WhatsApp(sla_flow)
    ticket_id, ticket = ticket_of(sla_flow, "meta-whatsapp-text", TOKENS)
    since = waiting_since(sla_flow.aws.resource("StateTable"))
    at_minute(sla_flow, since, 5)
    event = comment_added(
        ticket_id=ticket_id, comment_id=7006, body="hello?", external_id=ticket["external_id"], tags=tuple(ticket["tags"]), staff=False
    )
    assert sla_flow.desk_webhook(event) == 200
    drain_outbound(sla_flow)
    assert whatsapp.calls == []
    at_minute(sla_flow, since, 16)
    assert int(sla_flow.sla_check()["escalated"]) == 1
