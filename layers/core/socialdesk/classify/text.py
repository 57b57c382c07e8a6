"""Social text made fit for detection: no @handles, URLs, hashtags, emoji or punctuation-only noise.

"hola @acme" reads as English to a language model that sees the handle; "@acme https://t.co/x1 wtf" is three
words of which one is the customer's. What is left is the customer's own words, lower-cased where that helps.
"""

from __future__ import annotations

import re
import unicodedata

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@\w+")
_HASHTAG = re.compile(r"(?<![\w#])[#\uff03]\w+")
_SPACES = re.compile(r"\s+")
_APOSTROPHES = "'\u2019"  # kept inside words: "j'ai", "it's"


def for_detection(text: str) -> str:
    """The words alone: handles, URLs, hashtags, emoji, digits, punctuation and symbols become spaces."""
    text = _HASHTAG.sub(" ", _HANDLE.sub(" ", _URL.sub(" ", text)))
    kept = (char if char.isalpha() or char in _APOSTROPHES else " " for char in text)
    return _SPACES.sub(" ", "".join(kept)).strip(" " + _APOSTROPHES)


def for_matching(text: str) -> str:
    """Case-folded, NFKC-normalised text without URLs and handles, for keyword and pattern matching (hashtags keep their word)."""
    text = _HANDLE.sub(" ", _URL.sub(" ", unicodedata.normalize("NFKC", text)))
    return _SPACES.sub(" ", text.replace("#", " ").casefold()).strip()


def is_spaced_script(keyword: str) -> bool:
    """Whether words of this keyword are separated by spaces (Latin and the like): then a match must start a word."""
    first = keyword.strip()[:1]
    return bool(first) and not ("\u1100" <= first <= "\u11ff" or "\u3040" <= first <= "\u9fff" or "\uac00" <= first <= "\ud7af")


def contains(matching_text: str, keyword: str) -> bool:
    """`keyword` (case-folded here) in text from `for_matching`: at a word start in spaced scripts ("refund" in "refunded",
    not "mal" in "normal"), anywhere in Korean, Japanese and Chinese ("환불" in "빨리환불해주세요")."""
    folded = keyword.casefold().strip()
    if not folded:
        return False
    if not is_spaced_script(folded):
        return folded in matching_text
    return re.search(r"(?<!\w)" + re.escape(folded), matching_text) is not None


def is_short(text: str) -> bool:
    """One to three words, as the language goals count them; Japanese and Chinese write no spaces: at most 8 characters."""
    words = for_detection(text)
    if not words or len(words.split()) > 3:
        return False
    return is_spaced_script(words) or "\uac00" <= words[0] <= "\ud7af" or len(words) <= 8
