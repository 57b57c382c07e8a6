"""Amazon Comprehend DetectSentiment as the classifier's `SentimentService` (`classification.sentiment = "comprehend"`).

DetectSentiment takes at most 5,000 bytes of UTF-8 text and one of its languages (en, es, fr, de, it, pt, ar, hi, ja,
ko, zh, zh-TW): longer text is cut at a character boundary, and a language it lacks falls back to English. Every error
is raised to the classifier, which keeps its offline result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from socialdesk.classify.sentiment import Sentiment, from_comprehend

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_comprehend import ComprehendClient
    from mypy_boto3_comprehend.literals import LanguageCodeType

MAX_BYTES = 5000
LANGUAGES = frozenset({"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"})


class ComprehendSentiment:
    def __init__(self, client: Callable[[], ComprehendClient]) -> None:
        self._client = client

    def detect(self, text: str, language: str) -> Sentiment:
        code: LanguageCodeType = language if language in LANGUAGES else "en"  # type: ignore[assignment]
        clipped = text.encode("utf-8")[:MAX_BYTES].decode("utf-8", errors="ignore")
        answer: Any = self._client().detect_sentiment(Text=clipped, LanguageCode=code)
        return from_comprehend(answer)
