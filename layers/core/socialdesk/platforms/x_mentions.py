"""@mentions as X reads them: what summons the brand, and names that must not summon anyone.

twitter-text (github.com/twitter/twitter-text, `regexp/atSigns`: `[@\uff20]`) takes the full-width at sign U+FF20, which
Japanese and Chinese keyboards type, as an at sign: U+FF20 then `AcmeHelp` mentions and notifies @AcmeHelp.
"""

from __future__ import annotations

import re

AT_SIGNS = "@\uff20"
_MENTION = re.compile(rf"(?<![\w{AT_SIGNS}])[{AT_SIGNS}](\w{{1,15}})(?!\w)")
_LEADING_MENTIONS = re.compile(rf"^(?:[{AT_SIGNS}]\w+\s+)+")


def mentioned_handles(text: str | None) -> set[str]:
    """The handles `text` mentions, lower-cased and without their at sign."""
    return {match.group(1).lower() for match in _MENTION.finditer(text or "")}


def is_handle_of(handle: str | None, handles: tuple[str, ...]) -> bool:
    """Whether `handle` is one of `handles` (X handles are case-insensitive; a leading at sign is not part of it)."""
    return handle is not None and handle.lstrip(AT_SIGNS).lower() in {name.lstrip(AT_SIGNS).lower() for name in handles}


def without_leading_mentions(text: str) -> str:
    """`text` without the `@handle ` words in front of it, which X puts before a reply's own words."""
    return _LEADING_MENTIONS.sub("", text.strip())


def unmentioned(name: str) -> str:
    """A customer-chosen name (display name) that mentions no one when the brand writes it: its at signs dropped."""
    return name.translate({ord(sign): None for sign in AT_SIGNS}).strip()
