"""Whether, where and what to answer a customer's message automatically: pure functions over the rules.

`decide` gives nothing, an acknowledgement or a self-service answer (an intent with a configured answer) with its channel
and text; `job` turns it into the outbound job. Platform rules decided here (as the platforms document them this month):

- X: a public reply only to a post that mentions the brand (`x_handles`) or quotes its post: a self-serve app is refused
  otherwise (U+FF20, the full-width at sign, mentions too); never a link in a public reply (one costs 20 times a summoned
  reply): everything X would link, bare domains too, is removed from it (platforms/x_links.py), and a customer's display
  name never mentions anyone. A post by any of the brand's handles is the brand's, never answered. DMs go as DMs.
  Should X still refuse the public reply as unsummoned (403), outbound sends a DM instead when `x_dm_fallback` allows.
- Facebook: a comment reply, or one private reply per comment within 7 days of it.
- Instagram: public replies only to top-level comments; private replies within 7 days; DMs inside 24 hours.
- Messenger: a `RESPONSE` inside 24 hours of the customer's message, or 7 days after a message from an ad.
- WhatsApp: free text inside the 24-hour customer-service window, else the configured template, else nothing.

An optional delay (`delay_seconds`, per platform and kind in `delays`) queues the job later; outbound then cancels it if
a person answered the conversation meanwhile. Every automatic message ends with the disclosure line ("Automated reply"
in the customer's language); an answer also says how to reach a person. The once-per-window guarantee is the store's
conditional write (process/process_event.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from socialdesk.calendars import ALWAYS_OPEN, Calendar
from socialdesk.model import EventKind, Platform
from socialdesk.model.outbound import Channel, JobKind, OutboundJob
from socialdesk.platforms.whatsapp_templates import template_language
from socialdesk.platforms.x_links import without_links
from socialdesk.platforms.x_mentions import is_handle_of, mentioned_handles, unmentioned

if TYPE_CHECKING:
    from datetime import datetime

    from socialdesk.classify import Classification
    from socialdesk.model import SocialEvent
    from socialdesk.rules import AcknowledgementRules, CalendarRules, RulesConfig

ACKNOWLEDGED_TAG = "auto_acknowledged"
ANSWERED_TAG = "auto_answered"
MESSAGING_WINDOW = timedelta(hours=24)
PRIVATE_REPLY_WINDOW = timedelta(days=7)
# After a customer's first message from a Click-to-Messenger/Direct ad the window "may last up to 7 days" (Messenger
# policy page, updated 28 Sep 2026: developers.facebook.com/documentation/business-messaging/messenger-platform/policy/).
AD_MESSAGING_WINDOW = timedelta(days=7)
X_POST_LIMIT = 280
# X counts these code points once and every other (CJK, emoji) twice: twitter-text's v3 configuration.
_X_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_SPACE_BEFORE_PUNCTUATION = re.compile(r"[ \t]+([,.!?;:、。])")


@dataclass(frozen=True)
class Decision:
    """`kind` None: nothing is sent (`reason` says why). Otherwise the job's kind, channel, language and text."""

    kind: JobKind | None
    reason: str
    channel: Channel | None = None
    language: str | None = None
    text: str = ""
    template: str | None = None
    """A WhatsApp template name: outside the 24-hour window only a template may be sent."""
    template_language: str | None = None
    """The template's WhatsApp language code (`pt_BR` for pt), as the rules map the reply language."""
    fallback_channel: Channel | None = None
    """X: a DM when X refuses the public reply as unsummoned (the rules' `x_dm_fallback`)."""
    delay_seconds: int = 0
    """Sent this much later, and only if no person answered meanwhile (outbound/send_job.py checks)."""

    @property
    def tag(self) -> str | None:
        """What the ticket is tagged: an answer is never a human answer, and agents filter by it."""
        if self.kind is JobKind.SELF_SERVICE:
            return ANSWERED_TAG
        return ACKNOWLEDGED_TAG if self.kind is JobKind.ACKNOWLEDGEMENT else None


NOTHING = "nothing"


def calendar_of(rules: RulesConfig) -> Calendar:
    """The acknowledgement's business calendar; always open when none is named."""
    ack = rules.acknowledgement
    if ack is None or ack.calendar is None:
        return ALWAYS_OPEN
    return calendar_from(rules.calendars[ack.calendar])


def calendar_from(rules: CalendarRules) -> Calendar:
    return Calendar.build(
        zone=rules.zone,
        hours=rules.hours,
        country=rules.country,
        subdivision=rules.subdivision,
        closed_dates=rules.closed,
        always_open=rules.always_open,
    )


def decide(
    event: SocialEvent,
    classification: Classification | None,
    rules: AcknowledgementRules,
    *,
    calendar: Calendar,
    ticket_id: int,
    now: datetime,
) -> Decision:
    """What to send for a customer's message (the brand's own messages and echoes never reach here)."""
    if not rules.enabled:
        return Decision(None, "disabled")
    if (
        event.from_brand
        or by_brand_handle(event, rules)
        or event.kind not in (EventKind.POST, EventKind.REPLY, EventKind.COMMENT, EventKind.DIRECT_MESSAGE)
    ):
        return Decision(None, "not a customer's message")
    if event.content_type == "mention" or event.author is None:
        # A mention is answered through the IG User's /mentions edge, not a comment reply: left to a person.
        return Decision(None, "an Instagram mention is not answered automatically")
    configured = next((choice for kind, choice in rules.channels.get(event.platform, {}).items() if kind == event.kind.value), "none")
    if configured == "none":
        return Decision(None, f"no channel for {event.platform} {event.kind}")
    channel = Channel(configured)
    refused, template = _platform_refusal(event, channel, rules, now=now)
    if refused:
        return Decision(None, refused)
    language = _language(classification, rules)
    answer_intent = next((name for name in (classification.intents if classification else ()) if name in rules.answers), None)
    if answer_intent is not None:
        kind = JobKind.SELF_SERVICE
        body = _in(rules.answers[answer_intent], language, rules.fallback_language)
        text = _join(body, _in(rules.reach_person, language, rules.fallback_language))
    else:
        kind = JobKind.ACKNOWLEDGEMENT
        text = _render(
            _acknowledgement(classification, rules, language, calendar, now), event, rules, language, calendar, ticket_id=ticket_id, now=now
        )
    if not text:
        return Decision(None, f"no template for {language} or {rules.fallback_language}")
    text = _join(text, _in(rules.disclosure, language, rules.fallback_language))
    if channel is Channel.PUBLIC_REPLY and event.platform is Platform.X:
        text = _tidy(without_links(text))
        if x_weighted_length(text) > X_POST_LIMIT:
            return Decision(None, f"x: the public reply is longer than a post ({x_weighted_length(text)} of {X_POST_LIMIT})")
    delay = rules.delay_for(event.platform, event.kind.value)
    fallback = Channel.DIRECT_MESSAGE if rules.x_dm_fallback and event.platform is Platform.X and channel is Channel.PUBLIC_REPLY else None
    template_code = template_language(language, rules.whatsapp_template_languages) if template else None
    return Decision(
        kind,
        "chosen",
        channel=channel,
        language=language,
        text=text,
        template=template,
        template_language=template_code,
        fallback_channel=fallback,
        delay_seconds=delay,
    )


def job(event: SocialEvent, decision: Decision, *, conversation_key: str, ticket_id: int, now: datetime) -> OutboundJob:
    """The job for a decision: its id is the conversation's and its window's (the claiming message's time), so every retry
    of the event that claimed the window queues the same job, which outbound sends once."""
    assert decision.kind is not None and decision.channel is not None and event.author is not None
    return OutboundJob(
        job_id=job_id(claim_key(conversation_key, event), event),
        kind=decision.kind,
        platform=event.platform,
        account_id=event.account_id,
        conversation_key=conversation_key,
        channel=decision.channel,
        recipient_id=event.author.id,
        text=decision.text,
        reply_to_id=event.message_id,
        ticket_id=ticket_id,
        language=decision.language,
        customer_message_at=event.created_at,
        decided_at=now,
        template=decision.template,
        template_language=decision.template_language,
        fallback_channel=decision.fallback_channel,
        delay_seconds=decision.delay_seconds,
    )


def job_id(claim: str, event: SocialEvent) -> str:
    """`ack:<claim key>:<window start epoch>`: the window starts at the message that claimed it."""
    return f"ack:{claim}:{int(event.created_at.timestamp())}"


def claim_key(conversation_key: str, event: SocialEvent) -> str:
    """What one automatic message per window is counted for: the conversation, or in a public comment thread (a Facebook
    post, an Instagram media), which every commenter shares, the conversation and the commenting customer
    (`<conversation key>:by:<author id>`): the reply to one customer's comment says nothing to the next."""
    if event.platform in (Platform.FACEBOOK, Platform.INSTAGRAM) and event.kind is not EventKind.DIRECT_MESSAGE and event.author is not None:
        return f"{conversation_key}:by:{event.author.id}"
    return conversation_key


def mentions_brand(text: str | None, handles: tuple[str, ...]) -> bool:
    """Whether an X post @mentions one of the brand's handles (case-insensitive, not inside a longer handle)."""
    return any(is_handle_of(handle, handles) for handle in mentioned_handles(text))


def by_brand_handle(event: SocialEvent, rules: AcknowledgementRules) -> bool:
    """Written by one of the brand's X accounts (`x_handles`), not only the one socialdesk serves: the brand's own words."""
    return event.platform is Platform.X and event.author is not None and is_handle_of(event.author.handle, rules.x_handles)


def x_weighted_length(text: str) -> int:
    """A post's length as X counts it (without URLs, which a public reply never has): CJK and emoji count twice."""
    return sum(1 if any(low <= ord(char) <= high for low, high in _X_LIGHT_RANGES) else 2 for char in text)


def _platform_refusal(event: SocialEvent, channel: Channel, rules: AcknowledgementRules, *, now: datetime) -> tuple[str | None, str | None]:
    """Why the platform would refuse (or punish) this send, if it would; and a template to send instead (WhatsApp)."""
    age = now - event.created_at
    platform, kind = event.platform, event.kind
    if kind is EventKind.DIRECT_MESSAGE:
        if channel is not Channel.DIRECT_MESSAGE:
            return f"{platform} direct messages are answered by direct message", None
        if platform in (Platform.MESSENGER, Platform.INSTAGRAM) and age >= (AD_MESSAGING_WINDOW if event.from_ad else MESSAGING_WINDOW):
            return f"{platform}: the {'7-day (ad)' if event.from_ad else '24-hour'} messaging window has closed", None
        if platform is Platform.WHATSAPP and age >= MESSAGING_WINDOW:
            if rules.whatsapp_template is None:
                return "whatsapp: outside the 24-hour customer-service window, and no template is configured", None
            return None, rules.whatsapp_template
        return None, None
    if platform is Platform.X:
        if channel is Channel.PUBLIC_REPLY and not (event.quotes_brand or mentions_brand(event.text, rules.x_handles)):
            return "x: a public reply only to a post that mentions the brand or quotes its post", None
        if channel is Channel.PRIVATE_REPLY:
            return "x has no private replies", None
        return None, None
    if platform in (Platform.MESSENGER, Platform.WHATSAPP):
        return f"{platform} has only direct messages", None
    if channel is Channel.PRIVATE_REPLY and age >= PRIVATE_REPLY_WINDOW:
        return f"{platform}: a private reply only within 7 days of the comment", None
    if channel is Channel.DIRECT_MESSAGE:
        return f"{platform}: a comment is answered by a reply or a private reply", None
    if platform is Platform.INSTAGRAM and channel is Channel.PUBLIC_REPLY and not _top_level(event):
        return "instagram: public replies only to top-level comments", None
    return None, None


def _top_level(event: SocialEvent) -> bool:
    """An Instagram comment on the media itself (its `in_reply_to` is the media, or nothing), not a reply to a comment."""
    media_id = event.conversation_key.rpartition(":")[2]
    return event.in_reply_to in (None, media_id)


def _language(classification: Classification | None, rules: AcknowledgementRules) -> str:
    language = classification.reply_language if classification else rules.fallback_language
    return language if language in rules.templates or language in rules.disclosure else rules.fallback_language


def _acknowledgement(classification: Classification | None, rules: AcknowledgementRules, language: str, calendar: Calendar, now: datetime) -> str:
    for name in classification.intents if classification else ():
        if name in rules.intent_templates:
            return _in(rules.intent_templates[name], language, rules.fallback_language)
    if not calendar.is_open(now) and rules.closed_templates:
        return _in(rules.closed_templates, language, rules.fallback_language)
    return _in(rules.templates, language, rules.fallback_language)


def _render(
    template: str, event: SocialEvent, rules: AcknowledgementRules, language: str, calendar: Calendar, *, ticket_id: int, now: datetime
) -> str:
    author = event.author
    handle = f"@{author.handle.lstrip('@')}" if author and author.handle else ""
    # The customer chooses their display name: "@AcmeRival" must not make the brand mention a third party.
    name = unmentioned(author.display_name if author and author.display_name else "") or handle
    if calendar.is_open(now):
        response_time = _in(rules.response_time, language, rules.fallback_language)
    else:
        opens = calendar.next_opening(now)
        local = opens.astimezone(calendar.tz) if opens else None
        response_time = _in(rules.closed_response_time, language, rules.fallback_language).replace(
            "{opens}", f"{local:%Y-%m-%d %H:%M} {local.tzname()}" if local else ""
        )
    values = {"name": name, "handle": handle or name, "ticket": f"#{ticket_id}", "response_time": response_time}
    return _tidy(re.sub(r"\{(name|handle|ticket|response_time)\}", lambda match: values[match.group(1)], template))


def _in(texts: dict[str, str], language: str, fallback: str) -> str:
    return texts.get(language) or texts.get(fallback) or ""


def _join(text: str, line: str) -> str:
    return f"{text}\n{line}" if line else text


def _tidy(text: str) -> str:
    """No space left before punctuation or doubled where a placeholder was empty or a URL was removed."""
    lines = (re.sub(r"[ \t]{2,}", " ", _SPACE_BEFORE_PUNCTUATION.sub(r"\1", line)).strip() for line in text.split("\n"))
    return "\n".join(lines)
