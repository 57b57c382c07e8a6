"""What an agent's reply can be, and until when, as one line on the ticket (issue 12: seen before the agent writes).

The windows are the ones outbound/reply_policy.py applies (platforms/messaging_windows.py), and Meta's ad window. Times
are absolute ("until 5 Dec 14:03 UTC"): the line stays true after the window closes without anyone rewriting it, so no
extra Zendesk call is needed when it does (the SLA check's `messaging_window_closing` flag still warns ahead of it).
Without a time (`last_customer_at` None) the line counts from the customer's last message: the context note, written
once whichever message opens the ticket, says that, true in any delivery order and after any later message.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from socialdesk.model.event import EventKind, Platform
from socialdesk.model.outbound import Channel, JobKind
from socialdesk.platforms.messaging_windows import AD_MESSAGING_WINDOW, HUMAN_AGENT_WINDOW, PRIVATE_REPLY_WINDOW
from socialdesk.platforms.messaging_windows import MESSAGING_WINDOW as WINDOW
from socialdesk.platforms.x_text import MAX_WEIGHTED_LENGTH

if TYPE_CHECKING:
    from collections.abc import Sequence

    from socialdesk.model.outbound import OutboundJob

_X_LINKS = {"refuse": "no links (rules refuse them)", "strip": "links are left out (rules strip them)", "send": "links cost 20 times a plain reply"}
_UNTIL_WRITES = "nothing until the customer writes"


class ReplyRules(Protocol):
    """What the line reads of the rules' `[replies]` (rules.ReplyRules; a protocol, as the rules already import platforms)."""

    @property
    def whatsapp_template(self) -> str | None: ...

    @property
    def x_links(self) -> str: ...

    @property
    def human_agent_accounts(self) -> Sequence[str]: ...


def messaging_state(
    platform: Platform,
    kind: EventKind,
    last_customer_at: datetime | None,
    *,
    account_id: str,
    rules: ReplyRules,
    from_ad: bool = False,
    private_reply_used: bool = False,
) -> str:
    """One short line: what the agent's reply can be for a conversation whose customer last wrote at `last_customer_at`."""
    if platform is Platform.WHATSAPP:
        after = "a template only" if rules.whatsapp_template else f"{_UNTIL_WRITES} (no replies.whatsapp_template)"
        return f"WhatsApp: 24-hour window open {_until(last_customer_at, WINDOW)}: free text, then {after}"
    if platform is Platform.X:
        if kind is EventKind.DIRECT_MESSAGE:
            return f"X DM: reply by DM, {MAX_WEIGHTED_LENGTH} characters, no window"
        return (
            f"X post: public reply, {MAX_WEIGHTED_LENGTH} characters, {_X_LINKS[rules.x_links]};"
            " answer privately with the tag socialdesk_private (a DM)"
        )
    name = platform.value.capitalize()
    if kind is EventKind.DIRECT_MESSAGE:
        if from_ad:
            return f"{name}: 7-day ad window (Click-to-Messenger) open {_until(last_customer_at, AD_MESSAGING_WINDOW)}, then {_UNTIL_WRITES}"
        human_agent = account_id in rules.human_agent_accounts
        then = f"the HUMAN_AGENT tag {_until(last_customer_at, HUMAN_AGENT_WINDOW)}" if human_agent else _UNTIL_WRITES
        return f"{name}: 24-hour window open {_until(last_customer_at, WINDOW)}, then {then}"
    if private_reply_used:
        return _private_reply_used(name)
    until = _until(last_customer_at, PRIVATE_REPLY_WINDOW, since="their comment")
    return f"{name} comment: public reply; a private reply (tag socialdesk_private) is possible {until} (one per comment)"


def private_reply_used(job: OutboundJob, state_field: int | None) -> tuple[tuple[int, str], ...]:
    """The state field's value once the platform accepted an agent's private reply: the comment's one is used (the note
    saying it was sent carries it, no call of its own)."""
    if state_field is None or job.kind is not JobKind.AGENT_REPLY or job.channel is not Channel.PRIVATE_REPLY:
        return ()
    return ((state_field, _private_reply_used(job.platform.value.capitalize())),)


def _private_reply_used(name: str) -> str:
    return f"{name} comment: public reply; the one private reply to this comment was used"


def _until(last_customer_at: datetime | None, window: timedelta, *, since: str = "the customer's last message") -> str:
    """`until 5 Dec 14:03 UTC` (UTC, to the minute rounded down: never a minute the window does not have), or without
    a time `until 24 hours after the customer's last message`."""
    if last_customer_at is None:
        hours = int(window.total_seconds() // 3600)
        span = f"{hours // 24} days" if hours % 24 == 0 and hours > 24 else f"{hours} hours"
        return f"until {span} after {since}"
    end = (last_customer_at + window).astimezone(UTC)
    return f"until {end.day} {end:%b %H:%M} UTC"
