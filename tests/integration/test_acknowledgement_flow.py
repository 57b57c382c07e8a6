"""Acknowledgements through the real handlers (moto, zenpy, simple-salesforce), with the shipped rules: the jobs process
queues on the template's OutboundQueue for the outbound function."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from socialdesk.composition import clients
from socialdesk.model.outbound import Channel, JobKind, OutboundJob, decode_job
from socialdesk.platforms.meta_send import GRAPH_API
from socialdesk.platforms.x_send import X_API
from tests.integration.test_classification_flow import shipped_classification, whatsapp_saying
from tests.support.process_stack import RULES, Flow, process_stack
from tests.support.webhooks import sample

ROOT = Path(__file__).resolve().parents[2]
PHONE_NUMBER_ID = "106540352242922"
X_TWEETS = f"{X_API}/2/tweets"


def shipped_acknowledgement() -> str:
    """The shipped `[calendars.*]` and `[acknowledgement]` sections (the end of the rules file)."""
    text = (ROOT / "config" / "socialdesk.toml").read_text(encoding="utf-8")
    return text[text.index("[calendars.support]") :]


class QueuedJobs:
    """The jobs process queued on the template's OutboundQueue (in moto), for the outbound function."""

    def __init__(self, flow: Flow) -> None:
        self._flow = flow

    @property
    def jobs(self) -> list[OutboundJob]:
        return [decode_job(message["Body"]) for message in self._flow.aws.drain(self._flow.aws.resource("OutboundQueue"))]


@contextmanager
def stack_with_outbound(tmp_path: Path, private_key: str, *, acknowledgement: str | None = None) -> Iterator[tuple[Flow, QueuedJobs]]:
    """The stack under the shipped classification and `acknowledgement` rules (the shipped ones unless given)."""
    rules = tmp_path / "socialdesk.toml"
    rules.write_text(RULES + "\n" + shipped_classification() + "\n" + (acknowledgement or shipped_acknowledgement()), encoding="utf-8")
    with process_stack(rules, private_key) as flow:
        yield flow, QueuedJobs(flow)


def test_a_korean_whatsapp_message_is_acknowledged_in_korean_once_despite_a_duplicate_delivery(tmp_path: Path, private_key: str) -> None:
    with stack_with_outbound(tmp_path, private_key) as (flow, jobs):
        # When a Korean customer writes on WhatsApp, and Meta delivers the webhook twice
        webhook = whatsapp_saying("안녕하세요, 주문한 물건에 대해 문의드립니다")
        flow.webhook(webhook)
        flow.webhook(webhook)
        flow.process_all()
        # Then one ticket, tagged auto_acknowledged, and one job: a Korean WhatsApp message naming it, disclosed as automated
        [ticket] = flow.zendesk.tickets.values()
        assert "auto_acknowledged" in ticket["tags"]
        [job] = jobs.jobs
        assert job.kind is JobKind.ACKNOWLEDGEMENT and job.channel is Channel.DIRECT_MESSAGE and job.language == "ko"
        assert f"번호 #{ticket['id']}" in job.text and job.text.endswith("\n자동 응답")
        assert job.ticket_id == ticket["id"] and job.job_id.startswith("ack:whatsapp:")


def test_a_spanish_refund_question_is_answered_from_the_faq_and_the_ticket_says_so(tmp_path: Path, private_key: str) -> None:
    with stack_with_outbound(tmp_path, private_key) as (flow, jobs):
        flow.webhook(whatsapp_saying("Hola, ¿cómo funciona el reembolso si devuelvo un artículo?"))
        flow.process_all()
        [ticket] = flow.zendesk.tickets.values()
        [job] = jobs.jobs
        assert job.kind is JobKind.SELF_SERVICE and job.text.startswith("Reembolsos:")
        assert job.text.endswith("Responde aquí para hablar con una persona.\nRespuesta automática")
        assert "auto_answered" in ticket["tags"]


def test_a_whatsapp_customer_outside_the_window_gets_the_configured_template_and_the_ticket_says_so(tmp_path: Path, private_key: str) -> None:
    # Given the shipped rules with the WhatsApp template switched on, and a WhatsApp token in PlatformSecret
    sent: list[dict[str, Any]] = []

    def whatsapp(request: Any) -> tuple[int, dict[str, str], str]:
        sent.append(json.loads(request.body))
        return 200, {"content-type": "application/json"}, json.dumps({"messaging_product": "whatsapp", "messages": [{"id": "wamid.TEMPLATE1"}]})

    with stack_with_outbound(tmp_path, private_key, acknowledgement=with_template(shipped_acknowledgement())) as (flow, _):
        flow.aws.put_secret("PlatformSecret", {"whatsapp_tokens": {PHONE_NUMBER_ID: "EAAGwhatsapp"}})
        assert flow.http is not None and flow.clock is not None
        flow.http.add_callback("POST", f"{GRAPH_API}/{PHONE_NUMBER_ID}/messages", callback=whatsapp)
        # When a Spanish customer's message is processed 25 hours after they wrote it (a long outage, say)
        flow.webhook(whatsapp_saying("Hola, mi pedido no ha llegado todavía"))
        flow.clock.shift(timedelta(hours=25))
        flow.process_all()
        while flow.outbound_once() is not None:
            pass
        # Then WhatsApp received the template in Spanish, not free text (which it would fail with 131047)
        [body] = sent
        assert body["type"] == "template" and body["template"]["name"] == "ticket_received"
        assert body["template"]["language"]["code"] == "es" and "text" not in body
        # And the agent reads that the template went, with its wamid
        [ticket] = flow.zendesk.tickets.values()
        notes = [comment["body"] for comment in flow.zendesk.comments(ticket["id"]) if not comment["public"]]
        assert any(note.startswith("Automatic acknowledgement sent on WhatsApp as the template ticket_received (es)") for note in notes)
        assert any("wamid.TEMPLATE1" in note for note in notes)


def with_template(rules: str) -> str:
    commented = '# whatsapp_template = "ticket_received"'
    assert commented in rules
    return rules.replace(commented, 'whatsapp_template = "ticket_received"')


def test_an_x_mention_x_refuses_to_answer_in_public_is_answered_by_dm_when_the_rules_allow(tmp_path: Path, private_key: str) -> None:
    # Given the shipped rules with x_dm_fallback on, the brand's X credentials, and X refusing the public reply as
    # unsummoned (a 403 whose detail is X's, as quoted in gptme/gptme-contrib PR 811) but taking the DM
    rules = shipped_acknowledgement().replace('x_handles = ["AcmeHelp"]', 'x_handles = ["AcmeHelp"]\nx_dm_fallback = true')
    calls: list[tuple[str, dict[str, Any]]] = []

    def x_api(request: Any) -> tuple[int, dict[str, str], str]:
        calls.append((request.url, json.loads(request.body)))
        if request.url == X_TWEETS:
            detail = "Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author."
            return (
                403,
                {"content-type": "application/json"},
                json.dumps({"detail": detail, "title": "Forbidden", "type": "about:blank", "status": 403}),
            )
        return (
            201,
            {"content-type": "application/json"},
            json.dumps({"data": {"dm_conversation_id": "123456789-900", "dm_event_id": "1950000000000000555"}}),
        )

    with stack_with_outbound(tmp_path, private_key, acknowledgement=rules) as (flow, _):
        flow.aws.put_secret("PlatformSecret", {"x_api_key": "ck", "x_api_secret": "cs", "x_access_token": "900-tok", "x_access_token_secret": "ts"})
        assert flow.http is not None
        flow.http.add_callback("POST", X_TWEETS, callback=x_api)
        flow.http.add_callback("POST", f"{X_API}/2/dm_conversations/with/123456789/messages", callback=x_api)
        # When a customer's post mentioning @AcmeHelp goes through ingest, process and outbound
        flow.webhook(sample("x-mention"))
        flow.process_all()
        while flow.outbound_once() is not None:
            pass
        # Then the public reply was tried once, and the acknowledgement went as one DM with the same text
        assert [url for url, _ in calls] == [X_TWEETS, f"{X_API}/2/dm_conversations/with/123456789/messages"]
        assert calls[1][1]["text"] == calls[0][1]["text"]
        # And the agent reads that it went as a DM, and why
        [ticket] = flow.zendesk.tickets.values()
        notes = [comment["body"] for comment in flow.zendesk.comments(ticket["id"]) if not comment["public"]]
        [note] = [note for note in notes if note.startswith("Automatic acknowledgement sent on X")]
        assert "as a direct message, as X refused a public reply because the customer did not mention or quote the brand" in note
        assert "1950000000000000555" in note


def test_a_delayed_acknowledgement_is_cancelled_when_the_brand_answers_from_the_whatsapp_business_app_meanwhile(
    tmp_path: Path, private_key: str
) -> None:
    # Given WhatsApp acknowledgements delayed by two minutes, and a WhatsApp token (WhatsApp must never be called)
    rules = shipped_acknowledgement().replace("window_hours = 24 ", "delay_seconds = 120\nwindow_hours = 24 ")
    sent: list[Any] = []
    with stack_with_outbound(tmp_path, private_key, acknowledgement=rules) as (flow, _):
        flow.aws.put_secret("PlatformSecret", {"whatsapp_tokens": {PHONE_NUMBER_ID: "EAAGwhatsapp"}})
        assert flow.http is not None and flow.clock is not None

        def whatsapp(request: Any) -> tuple[int, dict[str, str], str]:
            sent.append(request)
            return 500, {}, "{}"

        flow.http.add_callback("POST", f"{GRAPH_API}/{PHONE_NUMBER_ID}/messages", callback=whatsapp)
        delays = held_back_jobs(flow)
        # When a customer writes, their acknowledgement is queued two minutes late
        flow.webhook(sample("meta-whatsapp-text"))
        flow.process_all()
        assert delays == [120]
        # And a person answers from the WhatsApp Business app (a coexistence echo) before the two minutes are up
        flow.clock.shift(30)
        flow.webhook(sample("meta-whatsapp-smb-echo"))
        flow.process_all()
        flow.clock.shift(90)
        while flow.outbound_once() is not None:
            pass
        # Then nothing was sent, and the agent reads that the acknowledgement was cancelled and why
        assert sent == []
        [ticket] = flow.zendesk.tickets.values()
        notes = [comment["body"] for comment in flow.zendesk.comments(ticket["id"]) if not comment["public"]]
        assert any(note.startswith("Automatic acknowledgement not sent on WhatsApp: a person answered the conversation first") for note in notes)


def held_back_jobs(flow: Flow) -> list[int]:
    """The DelaySeconds of each job process queues on OutboundQueue, recorded and then dropped (moto would wait in real
    time), so the test moves the virtual clock itself."""
    delays: list[int] = []
    queue = flow.aws.resource("OutboundQueue")

    def hold(params: dict[str, Any], **_: Any) -> None:
        if params.get("QueueUrl") == queue:
            for entry in params["Entries"]:
                delays.append(entry.pop("DelaySeconds", 0))

    clients.sqs().meta.events.register("before-parameter-build.sqs.SendMessageBatch", hold)
    return delays
