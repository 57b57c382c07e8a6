"""A customer's message classified on its way to the ticket: real handlers, zenpy and simple-salesforce, shipped classification rules."""

from __future__ import annotations

from pathlib import Path

from tests.support.process_stack import RULES, process_stack
from tests.support.webhooks import meta_post, sample_body, to_bytes

ROOT = Path(__file__).resolve().parents[2]


def shipped_classification() -> str:
    """The `[classification]` part of the shipped rules file, up to the next top-level section."""
    text = (ROOT / "config" / "socialdesk.toml").read_text(encoding="utf-8")
    start = text.index("[classification]")
    return text[start : text.index("\n[salesforce]", start)]


def whatsapp_saying(text: str) -> dict[str, object]:
    payload = sample_body("meta-whatsapp-text")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = text
    return meta_post(to_bytes(payload))


def test_a_korean_complaint_becomes_an_urgent_ticket_tagged_lang_ko_and_negative(tmp_path: Path, private_key: str) -> None:
    # Given the shipped classification rules
    rules = tmp_path / "socialdesk.toml"
    rules.write_text(RULES + "\n" + shipped_classification(), encoding="utf-8")
    with process_stack(rules, private_key) as flow:
        # When a Korean customer complains on WhatsApp
        flow.webhook(whatsapp_saying("배송이 일주일째 안 와요. 너무 실망했어요, 환불해주세요 😡"))
        flow.process_all()
        # Then the ticket is urgent and tagged for agents
        [ticket] = flow.zendesk.tickets.values()
        assert ticket["priority"] == "urgent"
        assert {"lang_ko", "sentiment_negative", "intent_refund_policy", "priority_signal_urgent_keywords"} <= set(ticket["tags"])
        # And the Salesforce Task says the same
        [task] = flow.salesforce.tasks.values()
        assert "Classification: lang=ko sentiment=negative priority=urgent intents=delivery_status,refund_policy" in task["Description"]


def test_an_angry_follow_up_in_spanish_raises_the_open_tickets_priority(tmp_path: Path, private_key: str) -> None:
    # Given the shipped classification rules and a calm WhatsApp question that opened a ticket
    rules = tmp_path / "socialdesk.toml"
    rules.write_text(RULES + "\n" + shipped_classification(), encoding="utf-8")
    with process_stack(rules, private_key) as flow:
        first = whatsapp_saying("Hola, ¿a qué hora abren mañana?")
        flow.webhook(first)
        flow.process_all()
        [ticket] = flow.zendesk.tickets.values()
        calm = ticket.get("priority")
        # When the customer writes again, angry, asking for a refund (a new message id, the same chat)
        payload = sample_body("meta-whatsapp-text")
        message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
        message["id"] = "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUFGRTk3QjlGRTk4RDE2QkQ3MwA="
        message["text"]["body"] = "¡Es una vergüenza! Quiero un reembolso ya 😡"
        flow.webhook(meta_post(to_bytes(payload)))
        flow.process_all()
        # Then the same ticket is now urgent and carries the new tags, with both messages on it
        [ticket] = flow.zendesk.tickets.values()
        assert calm != "urgent"
        assert ticket["priority"] == "urgent"
        assert {"lang_es", "sentiment_negative", "priority_signal_urgent_keywords"} <= set(ticket["tags"])
        assert [comment["body"] for comment in ticket["comments"] if comment.get("public", True)][
            -1
        ] == "¡Es una vergüenza! Quiero un reembolso ya 😡"
