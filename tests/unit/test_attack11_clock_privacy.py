"""Attack on the privacy of log lines (issue 11): the response clock failing inside desk_events names no WhatsApp customer."""

from __future__ import annotations

import json
import logging
import tomllib
from datetime import UTC, datetime

import pytest

from socialdesk.desk_events.receiver import SIGNING_SECRET_KEY, DeskEventsWebhook
from socialdesk.devtools.zendesk_events import TEST_SIGNING_SECRET, apigw_event, signed_request
from socialdesk.http import HttpRequest
from socialdesk.model.conversation import ConversationActivity
from socialdesk.rules import RulesConfig
from socialdesk.sla.clock import ClockDeskEvents, ResponseClock
from socialdesk.sla.policy import ClockState, Policies
from tests.support.fakes import FakeSecrets
from tests.support.log_capture import logged_text
from tests.support.process_fakes import InMemoryStore
from tests.support.sla_world import SLA_RULES, RecordedMetrics

NOW = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)


class EverChangingClocks:
    """A `ClockStore` whose every conditional write loses to another writer (a very busy conversation)."""

    def __init__(self, key: str) -> None:
        self.key = key

    def clock_state(self, key: str) -> ClockState | None:
        activity = ConversationActivity(first_customer_at=NOW, last_customer_at=NOW, waiting_since=NOW)
        return ClockState(key=key, ticket_id=4014, activity=activity, platform="whatsapp", kind="direct_message", priority="normal", rev=3)

    def write_clock(self, before: ClockState, after: ClockState) -> bool:
        return False

    def record_answer(self, conversation_key: str, *, at: datetime, reference: str, source: str) -> None:
        return None


@pytest.mark.parametrize("customer", ["4915112345678", "US.13491208655302741918"], ids=["phone_number", "bsuid"])
def test_a_solve_the_clock_cannot_take_is_retried_without_logging_the_whatsapp_customer(customer: str, caplog: pytest.LogCaptureFixture) -> None:
    """Given a WhatsApp conversation (its key holds the customer's phone number or business-scoped user id) whose clock
    keeps changing under every write, and Zendesk's signed `ticket.status_changed` (solved) for its ticket
    When desk_events receives it
    Then it answers 503 (Zendesk retries) and no log line holds the phone number or the BSUID."""
    key = f"whatsapp:106540352242922:chat:{customer}"
    rules = RulesConfig.model_validate(tomllib.loads(SLA_RULES))
    policies = Policies.of(rules)
    assert policies is not None
    clock = ResponseClock(EverChangingClocks(key), policies, RecordedMetrics())  # type: ignore[arg-type]
    secrets = FakeSecrets(name="Zendesk webhook secret", current={SIGNING_SECRET_KEY: TEST_SIGNING_SECRET})
    webhook = DeskEventsWebhook(secrets=secrets, ledger=InMemoryStore(), sinks=[ClockDeskEvents(clock)], max_body_bytes=65536, clock=lambda: NOW)
    payload = {
        "type": "zen:event-type:ticket.status_changed",
        "id": "ev-solve",
        "time": "2026-12-04T18:00:00Z",
        "subject": "zen:ticket:4014",
        "detail": {"id": "4014", "external_id": key, "tags": ["socialdesk"], "status": "SOLVED"},
        "event": {"current": "SOLVED", "previous": "OPEN"},
    }
    body, headers = signed_request(payload, at=NOW)
    caplog.set_level(logging.DEBUG)
    answer = webhook.handle(HttpRequest.from_apigw_v2(apigw_event(body, headers)))
    assert answer.status == 503, json.loads(answer.body)
    text = logged_text(caplog)
    assert "kept changing" in text or "ClockBusyError" in text, text
    assert customer not in text
    assert customer.removeprefix("US.") not in text
