"""The mention port: an Instagram mention arrives with ids only, and process asks the platform what it says and who
wrote it (platforms/instagram_mentions.py), so the ticket shows the customer's words.

Every lookup ends in one of three ways:
- the event with its text and author filled in (or unchanged when the platform no longer has it: deleted, hidden);
- `MentionUnavailableError`: not now (an outage, a timeout, throttling, the secret unreadable): the event waits;
- `MentionTokenRejectedError`: the Instagram token is missing or refused: an admin must renew it; the event goes on
  with ids only, so nothing is lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from socialdesk.model import SocialEvent


class MentionUnavailableError(Exception):
    def __init__(self, reason: str, *, retry_after: int | None = None, throttled: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.throttled = throttled
        """The platform rationed its answers (a wait, not a failure)."""


class MentionTokenRejectedError(Exception):
    """`code` is what the platform said (Graph 190), or "missing" when PlatformSecret holds no Instagram token."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class MentionLookup(Protocol):
    def complete(self, event: SocialEvent) -> SocialEvent:
        """The mention with the text and author the platform gives for it, or raise one of the errors above."""
        ...
