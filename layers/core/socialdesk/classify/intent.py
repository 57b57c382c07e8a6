"""What the customer asks, among the questions the rules configure (delivery status, refund policy, opening hours…)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from socialdesk.classify.text import contains, for_matching

if TYPE_CHECKING:
    from socialdesk.rules import Intent

ANY_LANGUAGE = "any"


def intents(text: str, language: str | None, configured: tuple[Intent, ...]) -> tuple[str, ...]:
    """Every configured intent the text matches, in configured order (the first is the one an answer would be chosen by).

    The message's language's keywords and patterns, and those under `any`; with the language unknown, every language's.
    """
    matching = for_matching(text)
    found = []
    for intent in configured:
        languages = [ANY_LANGUAGE, language] if language else None
        keywords = [word for lang, words in intent.keywords.items() if languages is None or lang in languages for word in words]
        patterns = [pattern for lang, items in intent.patterns.items() if languages is None or lang in languages for pattern in items]
        if any(contains(matching, word) for word in keywords) or any(re.search(pattern, matching, re.IGNORECASE) for pattern in patterns):
            found.append(intent.name)
    return tuple(found)
