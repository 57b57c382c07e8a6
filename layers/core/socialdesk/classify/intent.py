"""What the customer asks, among the questions the rules configure (delivery status, refund policy, opening hours…).

Patterns are the operator's regular expressions, run on customer text anyone can write: Python's backtracking `re`
takes time quadratic in the text for a pattern such as `when.*open` (a 25,000-character post cost ~1.3 s CPU), and
exponential for nested quantifiers. So patterns see only the first PATTERN_TEXT_LIMIT characters (a question is asked
near the start), which bounds every pattern's cost by a constant, and the rules refuse nested unbounded quantifiers
at load (rules.py). Keywords are plain substring searches, linear, and see the whole text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from socialdesk.classify.text import contains, for_matching

if TYPE_CHECKING:
    from socialdesk.rules import Intent

ANY_LANGUAGE = "any"
PATTERN_TEXT_LIMIT = 1000
"""Characters of a message the patterns see: ~5 X posts; quadratic work over it is about a million steps at most."""


def intents(text: str, language: str | None, configured: tuple[Intent, ...]) -> tuple[str, ...]:
    """Every configured intent the text matches, in configured order (the first is the one an answer would be chosen by).

    The message's language's keywords and patterns, and those under `any`; with the language unknown, every language's.
    """
    matching = for_matching(text)
    bounded = matching[:PATTERN_TEXT_LIMIT]
    found = []
    for intent in configured:
        languages = [ANY_LANGUAGE, language] if language else None
        keywords = [word for lang, words in intent.keywords.items() if languages is None or lang in languages for word in words]
        patterns = [pattern for lang, items in intent.patterns.items() if languages is None or lang in languages for pattern in items]
        if any(contains(matching, word) for word in keywords) or any(re.search(pattern, bounded, re.IGNORECASE) for pattern in patterns):
            found.append(intent.name)
    return tuple(found)
