"""How the customer feels: negative, neutral or positive, with a score from -1 to 1.

Offline (the default): VADER's English lexicon for English text, plus the rules' negative keywords for the message's
language (and for every language: customers mix them) and an emoji map that holds in every language (😡 is angry in
Korean too). A negative keyword or emoji outweighs polite words ("thanks for nothing 😡"). Optional: Amazon Comprehend
DetectSentiment behind `SentimentService`; any failure of it falls back to the offline result, never fails the event.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Literal, Protocol

import msgspec

from socialdesk.classify.text import contains, for_matching

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

Label = Literal["negative", "neutral", "positive"]
NEGATIVE_EMOJI = frozenset("😡🤬👎💩😤😠😾💢")
POSITIVE_EMOJI = frozenset(("🙏", "😊", "👍", "❤", "😍", "🥰", "💯", "🙌", "😀", "😃", "👏", "💕", "💖"))
THRESHOLD = 0.25
_KEYWORD_WEIGHT = 0.6
_NEGATIVE_EMOJI_WEIGHT = 0.6
_POSITIVE_EMOJI_WEIGHT = 0.4


class Sentiment(msgspec.Struct, frozen=True):
    label: Label
    score: float
    """From -1 (angry) to 1 (delighted)."""


class SentimentService(Protocol):
    def detect(self, text: str, language: str) -> Sentiment:
        """The sentiment of `text` in `language`; raises on any failure (the offline result is used then)."""
        ...


def offline(text: str, language: str | None, negative_keywords: Mapping[str, Sequence[str]]) -> Sentiment:
    score = _vader(text) if language == "en" else 0.0
    matching = for_matching(text)
    hits = sum(1 for keywords in negative_keywords.values() for keyword in keywords if contains(matching, keyword))
    negative_emoji = sum(1 for char in text if char in NEGATIVE_EMOJI)
    positive_emoji = sum(1 for char in text if char in POSITIVE_EMOJI)
    if hits or negative_emoji:
        score = min(score, 0.0)  # polite words do not cancel an angry one
    score += -_KEYWORD_WEIGHT * hits - _NEGATIVE_EMOJI_WEIGHT * negative_emoji + _POSITIVE_EMOJI_WEIGHT * positive_emoji
    return _labelled(max(-1.0, min(1.0, score)))


def _labelled(score: float) -> Sentiment:
    label: Label = "negative" if score <= -THRESHOLD else "positive" if score >= THRESHOLD else "neutral"
    return Sentiment(label, round(score, 3))


def _vader(text: str) -> float:
    compound = _analyzer().polarity_scores(text)["compound"]
    return float(compound)


def warm() -> None:
    """Load VADER's lexicon now (once per container)."""
    _analyzer()


@functools.cache
def _analyzer() -> Any:
    """VADER's analyser: its lexicon read once per container (imported on first use, by process only)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def from_comprehend(answer: Mapping[str, Any]) -> Sentiment:
    """Comprehend's DetectSentiment answer as a Sentiment: MIXED counts by its positive and negative scores."""
    scores = answer.get("SentimentScore", {})
    score = float(scores.get("Positive", 0.0)) - float(scores.get("Negative", 0.0))
    label: Label = {"NEGATIVE": "negative", "POSITIVE": "positive"}.get(answer.get("Sentiment", ""), "neutral")  # type: ignore[assignment]
    if answer.get("Sentiment") == "MIXED":
        return _labelled(score)
    return Sentiment(label, round(score, 3))
