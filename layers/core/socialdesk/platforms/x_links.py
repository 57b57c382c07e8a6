"""Web addresses as X links them, so that a brand's public reply never holds one (a post with a URL costs 20 times a
summoned reply, issue 10).

X's autolinker (twitter-text, github.com/twitter/twitter-text: `extractUrlsWithIndices`, whose
`extractUrlWithoutProtocol` is on by default, and `regexp/validDomain`) links `https://…`, `www.…` and a bare host name
(`cheap-followers.com`, `acme.com/refunds`) whose last label is a top-level domain. Decision: any last label of two or
more letters (or an `xn--` label) counts here, a superset of IANA's list, which grows every month: removing a word
that was no link costs a word, leaving a link costs 20 replies.
"""

from __future__ import annotations

import re

_SCHEME_URL = r"https?://\S+"
# Labels of letters, digits and hyphens; the last one alphabetic (a TLD) or punycode; then a port and a path, optionally.
# twitter-text does not link a domain right after `@`, `$`, `#`, a word character or a `.`/`/`/`-` continuing another.
_BARE_HOST = r"(?<![\w@\uff20$#./-])(?:[^\W_](?:[\w-]{0,62}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[\w-]{1,59})(?::\d{1,5})?(?:/\S*)?(?!\w)"
_LINK = re.compile(f"{_SCHEME_URL}|{_BARE_HOST}", re.IGNORECASE)


def has_link(text: str) -> bool:
    """Whether X would turn part of `text` into a link."""
    return _LINK.search(text) is not None


def without_links(text: str) -> str:
    """`text` with every part X would link removed (the caller tidies the spaces left)."""
    return _LINK.sub("", text)
