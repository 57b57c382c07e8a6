"""Acknowledgements through the real handlers (moto, zenpy, simple-salesforce), with the shipped rules and a fake outbound
queue collecting the jobs process would hand the outbound function."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

from socialdesk.model.outbound import Channel, JobKind, OutboundJob, decode_job, encode_job
from socialdesk.process.process_event import ProcessEvent
from tests.integration.test_classification_flow import shipped_classification, whatsapp_saying
from tests.support.process_stack import RULES, Flow, process_stack

ROOT = Path(__file__).resolve().parents[2]


def shipped_acknowledgement() -> str:
    """The shipped `[calendars.*]` and `[acknowledgement]` sections (the end of the rules file)."""
    text = (ROOT / "config" / "socialdesk.toml").read_text(encoding="utf-8")
    return text[text.index("[calendars.support]") :]


class CollectedJobs:
    def __init__(self) -> None:
        self.jobs: list[OutboundJob] = []

    def enqueue(self, job: OutboundJob) -> None:
        self.jobs.append(decode_job(encode_job(job)))  # as the queue would carry it


@contextmanager
def stack_with_outbound(tmp_path: Path, private_key: str) -> Iterator[tuple[Flow, CollectedJobs]]:
    rules = tmp_path / "socialdesk.toml"
    rules.write_text(RULES + "\n" + shipped_classification() + "\n" + shipped_acknowledgement(), encoding="utf-8")
    jobs = CollectedJobs()
    # The composition wires the real queue at merge; here process is built with the fake one.
    with_outbound = functools.partial(ProcessEvent, outbound=jobs)
    with patch("socialdesk.composition.process.ProcessEvent", with_outbound), process_stack(rules, private_key) as flow:
        yield flow, jobs


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
