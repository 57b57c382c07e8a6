"""Acknowledgements through the real handlers (moto, zenpy, simple-salesforce), with the shipped rules: the jobs process
queues on the template's OutboundQueue for the outbound function."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from socialdesk.model.outbound import Channel, JobKind, OutboundJob, decode_job
from tests.integration.test_classification_flow import shipped_classification, whatsapp_saying
from tests.support.process_stack import RULES, Flow, process_stack

ROOT = Path(__file__).resolve().parents[2]


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
def stack_with_outbound(tmp_path: Path, private_key: str) -> Iterator[tuple[Flow, QueuedJobs]]:
    rules = tmp_path / "socialdesk.toml"
    rules.write_text(RULES + "\n" + shipped_classification() + "\n" + shipped_acknowledgement(), encoding="utf-8")
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
