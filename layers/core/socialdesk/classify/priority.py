"""Which Zendesk priority a message deserves, from configurable signals; the highest signal wins."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from socialdesk.classify.text import contains, for_matching
from socialdesk.model.priority import priority_rank as rank

if TYPE_CHECKING:
    from socialdesk.classify.sentiment import Sentiment
    from socialdesk.model import SocialEvent
    from socialdesk.rules import ClassificationRules, InfluencerPriority


class Prioritised(msgspec.Struct, frozen=True):
    priority: str | None
    signals: tuple[str, ...]
    """Every signal that fired (`vip`, `followers`, `verified`, `negative`, `urgent_keywords`), highest first."""
    vip: bool


def highest(*priorities: str | None) -> str | None:
    return max(priorities, key=rank, default=None) or None


def is_vip(event: SocialEvent, rules: ClassificationRules) -> bool:
    author = event.author
    if author is None or not rules.vip:
        return False
    names = {f"{event.platform}:{author.id}"}
    if author.handle:
        names.add(f"{event.platform}:@{author.handle.lstrip('@').casefold()}")
    return any(entry.casefold() in names or entry in names for entry in rules.vip)


def prioritise(event: SocialEvent, sentiment: Sentiment, rules: ClassificationRules, influencer: InfluencerPriority | None) -> Prioritised:
    signals = rules.priority
    author = event.author
    vip = is_vip(event, rules)
    matching = for_matching(event.text or "")
    urgent = any(contains(matching, keyword) for keywords in rules.urgent_keywords.values() for keyword in keywords)
    fired: list[tuple[str, str | None]] = [
        ("vip", signals.vip if vip else None),
        ("followers", influencer.priority if influencer and author and (author.follower_count or 0) >= influencer.min_followers else None),
        ("verified", signals.verified if author and author.verified else None),
        ("negative", signals.negative if sentiment.label == "negative" else None),
        ("urgent_keywords", signals.urgent_keywords if urgent else None),
    ]
    named = sorted(((name, priority) for name, priority in fired if priority), key=lambda item: -rank(item[1]))
    return Prioritised(priority=named[0][1] if named else None, signals=tuple(name for name, _ in named), vip=vip)
