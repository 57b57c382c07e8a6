"""How long X counts a post: 280 weighted characters, as twitter-text's configuration v3 weighs them.

`twitter/twitter-text` config/v3.json: `maxWeightedTweetLength` 280, `scale` 100, `defaultWeight` 200, code points in
0-4351, 8192-8205, 8208-8223 and 8242-8247 weigh 100 (Latin, Greek, Cyrillic, Hebrew, Arabic, ... and general
punctuation), so CJK, Hangul and emoji count 2; every URL counts `transformedURLLength` 23 whatever its length (t.co);
an emoji sequence (skin tone, variation selector, ZWJ family) counts once, 2; the text is NFC-normalised first.
No maintained Python port exists (`twitter-text-parser` last released in May 2023), so the rules are written out here.
URLs are found with their scheme or a leading `www.` only; bare domains (`example.com`), which X also links, are not.
"""

from __future__ import annotations

import re
import unicodedata

from socialdesk.platforms.x_links import link_spans

MAX_WEIGHTED_LENGTH = 280
URL_WEIGHT = 23
LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
# One emoji each, whatever their parts weigh alone (twitter-text's emoji regex, from twemoji-parser).
_WHOLE_EMOJI = re.compile("[0-9#*]\ufe0f?\u20e3|[\U0001f1e6-\U0001f1ff]{2}")
_ZWJ = 0x200D
_SEQUENCE_PARTS = ((0xFE0E, 0xFE0F), (0x1F3FB, 0x1F3FF), (0xE0020, 0xE007F), (0x20E3, 0x20E3))


def weighted_length(text: str) -> int:
    text = unicodedata.normalize("NFC", text)
    length = 0
    position = 0
    for start, end in link_spans(text):
        length += _weigh(text[position:start]) + URL_WEIGHT * 100
        position = end
    return (length + _weigh(text[position:])) // 100


def strip_links(text: str) -> str:
    """`text` without the parts X would link, each line's spaces tidied and the agent's line breaks kept."""
    position, kept = 0, []
    for start, end in link_spans(text):
        kept.append(text[position:start])
        position = end
    kept.append(text[position:])
    return "\n".join(" ".join(line.split()) for line in "".join(kept).splitlines()).strip()


def _weigh(text: str) -> int:
    weight, position = 0, 0
    for emoji in _WHOLE_EMOJI.finditer(text):
        weight += _weigh_points(text[position : emoji.start()]) + 200
        position = emoji.end()
    return weight + _weigh_points(text[position:])


def _weigh_points(text: str) -> int:
    weight = 0
    joined = False
    for char in text:
        point = ord(char)
        if joined or any(low <= point <= high for low, high in _SEQUENCE_PARTS):
            joined = False  # part of the emoji before it: counted with it
            continue
        if point == _ZWJ and weight:
            joined = True
            continue
        weight += 100 if any(low <= point <= high for low, high in LIGHT_RANGES) else 200
    return weight
