"""Keys and reasons made safe to log: the customer's phone number or e-mail never reaches a log line.

WhatsApp names its customers by phone number, and since April 2026 by a business-scoped user id
(BSUID, `US.13491208655302741918`): whichever keys them is the user id in the customer key
(`whatsapp:<BSUID or phone>`) and the chat in the conversation key (`whatsapp:<phone number id>:chat:<BSUID or
phone>`), and WhatsApp message ids (`wamid.…`) carry one of them base64-encoded, so the event key does too.
A BSUID is no phone number, but it names one person to this business as surely (and keys that person's
records in Zendesk and Salesforce), so it is treated the same. Logs are kept for weeks and read by more
people than tickets are, so every key bound for a log line goes through `log_key`, every free-text
reason through `log_text`, and every value of every line (`log_value`, applied by the one log formatter in
`observability.py`) once more: keys are embedded in other names too (job ids `ack:<conversation key>:<epoch>`,
store anchors `CONV#<conversation key>`), and no call site has to remember them.

What is replaced and what is not (a decision):
- WhatsApp keys: every part after the brand's phone number id (Meta's id for the brand's number,
  not a customer's) except the scope word `chat`;
- any platform's key: a part holding an e-mail address or a `+`-prefixed number;
- X, Facebook, Instagram and Messenger keys otherwise stay readable. Their ids are platform-scoped
  numbers that name no one outside the platform, operators need them to find the post or thread,
  and they are the tickets' external ids. Hashing every key would make each log line opaque and
  protect nothing more.

A replaced part becomes `~` and the first 8 hex digits of SHA-256 over it: the same for a customer
in every container, function and deployment, with no key to deploy or rotate, so the lines of one
conversation can be found together (they also name the ticket). It is not a keyed hash, so it is
pseudonymisation, not encryption: phone numbers are few enough to enumerate. Keeping only 32 bits is
deliberate: each value then fits several possible numbers in a country's numbering plan, so a value
never names one customer by itself, while collisions in a brand's own logs stay rare. Whoever may
read logs can correlate; to name the customer they must open the ticket, which Zendesk guards.
"""

from __future__ import annotations

import hashlib
import re

_PSEUDONYM_HEX_DIGITS = 8
_WHATSAPP_SCOPES = frozenset({"chat"})
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_WHATSAPP_KEY = re.compile(r"whatsapp:[^\s,;'\"()\[\]{}<>]+")
# E.164 numbers have at most 15 digits; X ids (19) and epoch milliseconds (13) are longer or rarely this shape in a trace.
_PHONE_LIKE = re.compile(r"(?<![\w~:])\+?\d{8,15}(?!\w)")


def pseudonym(value: str) -> str:
    """A short stable stand-in for a personal value: `~` and 8 hex digits of its SHA-256."""
    return "~" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:_PSEUDONYM_HEX_DIGITS]


def _pseudonymised(part: str) -> bool:
    """Already replaced: a value passes through `log_key` at its call site and again in the formatter."""
    return part.startswith("~")


def log_key(key: str | None) -> str | None:
    """`key` (event, conversation or customer key, or a name embedding one) with every part naming the customer replaced."""
    if key is None:
        return None
    parts = key.split(":")
    # A job id or anchor embeds the key after its own prefix (`ack:whatsapp:…`, `CONV#whatsapp:…`).
    start = next((index for index, part in enumerate(parts) if part == "whatsapp" or part.endswith("#whatsapp")), None)
    if start is not None:
        # `whatsapp:<phone>` (customer) has no brand part; event and conversation keys name the brand's number id second.
        kept = start + (2 if len(parts) - start >= 3 else 1)
        return ":".join(
            part if index < kept or part in _WHATSAPP_SCOPES or _pseudonymised(part) else pseudonym(part) for index, part in enumerate(parts)
        )
    return ":".join(pseudonym(part) if ("@" in part or part.startswith("+")) and not _pseudonymised(part) else part for part in parts)


def log_text(text: str) -> str:
    """Free text (a failure reason) with any WhatsApp key and e-mail address in it replaced as `log_key` does."""
    text = _WHATSAPP_KEY.sub(lambda match: log_key(match.group(0)) or "", text)
    return _EMAIL.sub(lambda match: pseudonym(match.group(0)), text)


def log_value(value: object) -> object:
    """Any value of a log line (nested in lists and dicts too) with the WhatsApp keys and e-mail addresses in its text replaced."""
    if isinstance(value, str):
        return log_text(value) if "whatsapp" in value or "@" in value else value
    if isinstance(value, dict):
        return {key: log_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [log_value(item) for item in value]
    return value


def log_trace(text: str) -> str:
    """An exception's message and traceback, which no code of ours words: `log_text`, and any phone-like number replaced too."""
    return _PHONE_LIKE.sub(lambda match: pseudonym(match.group(0)), log_text(text))
