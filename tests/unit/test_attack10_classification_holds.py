"""Attacks on issue 10's classification that the current code withstands: handles, emoji, full-width text, escalation."""

from __future__ import annotations

import msgspec
import pytest

from socialdesk.classify import Classifier
from tests.support.events import follow_up
from tests.unit.test_acknowledgement import SHIPPED, AckWorld, at_now

assert SHIPPED.classification is not None
CLASSIFIER = Classifier(SHIPPED.classification)


def _classify(text: str) -> tuple[str | None, str, str | None, tuple[str, ...]]:
    result = CLASSIFIER.classify(msgspec.structs.replace(at_now("x-dm"), text=text))
    return result.language, result.sentiment, result.priority, result.intents


@pytest.mark.parametrize(
    ("text", "language"),
    [("hola @AcmeHelp", "es"), ("@AcmeHelp https://t.co/x1 #ayuda gracias!!", "es"), ("Bom dia @acme", "pt"), ("merci @acme 🙏", "fr")],
)
def test_handles_urls_hashtags_and_emoji_do_not_make_a_short_message_english(text: str, language: str) -> None:
    """Given a short message around an @handle, a link, a hashtag or an emoji
    When it is classified
    Then the customer's own words decide the language."""
    assert _classify(text)[0] == language


@pytest.mark.parametrize("text", ["최악이에요 😡", "😡😡", "最悪 😡", "gracias por nada 😡"])
def test_an_angry_emoji_or_a_negative_keyword_is_negative_in_any_language(text: str) -> None:
    """Given an angry message in Korean, Japanese, Spanish or emoji alone
    Then it is negative, and the negative signal raises the priority."""
    _, sentiment, priority, _ = _classify(text)
    assert sentiment == "negative"
    assert priority in ("high", "urgent")


def test_a_full_width_refund_is_still_the_refund_intent_and_urgent() -> None:
    """Given "REFUND please" typed in full-width letters (U+FF32 ...) on a full-width keyboard
    Then NFKC folding finds the refund intent and the urgent keyword."""
    _, _, priority, intents = _classify("\uff32\uff25\uff26\uff35\uff2e\uff24 please")
    assert "refund_policy" in intents and priority == "urgent"


def test_a_follow_up_that_escalates_raises_the_tickets_priority_and_tags() -> None:
    """Given a ticket opened by a calm Spanish question (normal priority)
    When the customer follows up "URGENTE, quiero un reembolso YA 😡 estafa"
    Then the ticket becomes urgent and carries the negative and urgent tags; still only one automatic message."""
    world = AckWorld()
    first = at_now("meta-whatsapp-text", text="Hola, tengo una pregunta sobre mi cuenta")
    world.handle(first)
    assert world.ticket_of(first).priority == "normal"
    world.handle(msgspec.structs.replace(follow_up(first, 1), text="Esto es URGENTE, quiero un reembolso YA 😡 estafa"))
    ticket = world.ticket_of(first)
    assert ticket.priority == "urgent"
    assert {"sentiment_negative", "priority_signal_urgent_keywords"} <= set(ticket.tags)
    assert len(world.outbound.distinct) == 1
