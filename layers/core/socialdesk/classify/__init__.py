"""Classification of a customer's message before its ticket is written: language, sentiment, priority, intents.

Pure domain: no I/O but the optional sentiment service (Amazon Comprehend, a port built in composition/process.py).
The results reach agents as Zendesk priority and tags and as a line on the Salesforce activity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from socialdesk.classify import intent, language, priority, sentiment
from socialdesk.observability import logger

if TYPE_CHECKING:
    from socialdesk.classify.sentiment import SentimentService
    from socialdesk.model import SocialEvent
    from socialdesk.rules import ClassificationRules, InfluencerPriority


class Classification(msgspec.Struct, frozen=True, kw_only=True):
    language: str | None
    """Detected among the configured languages; None below the confidence floor (then `reply_language` is the fallback)."""
    reply_language: str
    sentiment: str
    sentiment_score: float
    priority: str | None
    """The highest signal's Zendesk priority, or None when no signal fired."""
    signals: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()
    vip: bool = False

    @property
    def tags(self) -> tuple[str, ...]:
        """`lang_ko`, `sentiment_negative`, `vip`, `intent_<name>`, `priority_signal_<name>`: what agents filter views by."""
        tags = [f"lang_{self.language}"] if self.language else ["lang_unknown"]
        tags.append(f"sentiment_{self.sentiment}")
        if self.vip:
            tags.append("vip")
        tags += [f"intent_{name}" for name in self.intents]
        tags += [f"priority_signal_{name}" for name in self.signals]
        return tuple(tags)

    def summary(self) -> str:
        """One line for the CRM activity: `Classification: lang=ko sentiment=negative priority=urgent intents=refund_policy`."""
        parts = [
            f"lang={self.language or f'unknown (fallback {self.reply_language})'}",
            f"sentiment={self.sentiment}",
            f"priority={self.priority or 'none'}",
            f"intents={','.join(self.intents) or 'none'}",
        ]
        if self.vip:
            parts.append("vip")
        return "Classification: " + " ".join(parts)


class Classifier:
    """`classify(event)`, with the rules and (in comprehend mode) the sentiment service, built once per container."""

    def __init__(self, rules: ClassificationRules, *, influencer: InfluencerPriority | None = None, service: SentimentService | None = None) -> None:
        self._rules = rules
        self._influencer = influencer
        self._service = service if rules.sentiment == "comprehend" else None

    @staticmethod
    def warm() -> None:
        """Load what the first classification would (the language model from the wheel, VADER's lexicon): Lambda INIT
        calls it, so no customer's first message waits for them."""
        language.warm()
        sentiment.warm()

    @property
    def remote(self) -> bool:
        """Whether a service answers part of it (Comprehend): its answer may differ, or fail, on another try."""
        return self._service is not None

    def classify(self, event: SocialEvent) -> Classification:
        return classify(event, self._rules, influencer=self._influencer, service=self._service)


def classify(
    event: SocialEvent, rules: ClassificationRules, *, influencer: InfluencerPriority | None = None, service: SentimentService | None = None
) -> Classification:
    text = event.text or ""
    detected = language.detect(text, languages=rules.languages, floor=rules.confidence_floor)
    reply_language = detected.language or rules.fallback_language
    felt = sentiment.offline(text, detected.language, rules.negative_keywords)
    if service is not None and text.strip():
        try:
            felt = service.detect(text, reply_language)
        except Exception as exc:  # any failure: the offline result stands, the event goes on
            logger.warning("sentiment service failed; using the offline result", extra={"error": type(exc).__name__})
    ranked = priority.prioritise(event, felt, rules, influencer)
    return Classification(
        language=detected.language,
        reply_language=reply_language,
        sentiment=felt.label,
        sentiment_score=felt.score,
        priority=ranked.priority,
        signals=ranked.signals,
        intents=intent.intents(text, detected.language, rules.intents),
        vip=ranked.vip,
    )
