"""What an agent's reply can be, and until when, as one line on the ticket (issue 12: seen before the agent writes).

The rules are reply_policy's (its windows, imported, not restated) and Meta's ad window (acknowledge/policy.py). Every
time is absolute ("until 5 Dec 14:03 UTC"): the line stays true after the window closes without anyone rewriting it, so
no extra Zendesk call is needed when it does (the SLA check's `messaging_window_closing` flag still warns ahead of it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from socialdesk.acknowledge.policy import AD_MESSAGING_WINDOW
from socialdesk.model.event import EventKind, Platform
from socialdesk.model.outbound import Channel, JobKind
from socialdesk.outbound.reply_policy import HUMAN_AGENT_WINDOW, PRIVATE_REPLY_WINDOW, WINDOW
from socialdesk.platforms.x_text import MAX_WEIGHTED_LENGTH

if TYPE_CHECKING:
    from socialdesk.desk.port import FieldValue
    from socialdesk.model.outbound import OutboundJob
    from socialdesk.rules import ReplyRules

_X_LINKS = {"refuse": "no links (rules refuse them)", "strip": "links are left out (rules strip them)", "send": "links cost 20 times a plain reply"}


def messaging_state(
    platform: Platform,
    kind: EventKind,
    last_customer_at: datetime,
    *,
    account_id: str,
    rules: ReplyRules,
    from_ad: bool = False,
    private_reply_used: bool = False,
) -> str:
    """One short line: what the agent's reply can be for a conversation whose customer last wrote at `last_customer_at`."""
    if platform is Platform.WHATSAPP:
        after = "a template only" if rules.whatsapp_template else "nothing until the customer writes (no replies.whatsapp_template)"
        return f"WhatsApp: 24-hour window open until {_at(last_customer_at + WINDOW)}: free text, then {after}"
    if platform is Platform.X:
        if kind is EventKind.DIRECT_MESSAGE:
            return f"X DM: reply by DM, {MAX_WEIGHTED_LENGTH} characters, no window"
        return (
            f"X post: public reply, {MAX_WEIGHTED_LENGTH} characters, {_X_LINKS[rules.x_links]};"
            " answer privately with the tag socialdesk_private (a DM)"
        )
    name = platform.value.capitalize()
    if kind is EventKind.DIRECT_MESSAGE:
        return f"{name}: {_meta_window(last_customer_at, account_id=account_id, rules=rules, from_ad=from_ad)}"
    return _comment(name, None if private_reply_used else last_customer_at + PRIVATE_REPLY_WINDOW)


def private_reply_used(job: OutboundJob, state_field: int | None) -> tuple[FieldValue, ...]:
    """The state field's value once the platform accepted an agent's private reply: the comment's one is used (the note
    saying it was sent carries it, no call of its own)."""
    if state_field is None or job.kind is not JobKind.AGENT_REPLY or job.channel is not Channel.PRIVATE_REPLY:
        return ()
    return ((state_field, _comment(job.platform.value.capitalize(), None)),)


def _comment(name: str, private_until: datetime | None) -> str:
    """`private_until` None: the comment's one private reply was used."""
    if private_until is None:
        return f"{name} comment: public reply; the one private reply to this comment was used"
    return f"{name} comment: public reply; a private reply (tag socialdesk_private) is possible until {_at(private_until)} (one per comment)"


def _meta_window(last_customer_at: datetime, *, account_id: str, rules: ReplyRules, from_ad: bool) -> str:
    if from_ad:
        return (
            f"7-day ad window (Click-to-Messenger) open until {_at(last_customer_at + AD_MESSAGING_WINDOW)}, then nothing until the customer writes"
        )
    then = (
        f"the HUMAN_AGENT tag until {_at(last_customer_at + HUMAN_AGENT_WINDOW)}"
        if account_id in rules.human_agent_accounts
        else "nothing until the customer writes"
    )
    return f"24-hour window open until {_at(last_customer_at + WINDOW)}, then {then}"


def _at(moment: datetime) -> str:
    """UTC to the minute, rounded down: the line never promises a minute the window does not have."""
    utc = moment.astimezone(UTC)
    return f"{utc.day} {utc:%b %H:%M} UTC"
