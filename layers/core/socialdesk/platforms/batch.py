"""What one authenticated webhook delivery normalises into."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import msgspec

from socialdesk.model import SocialEvent

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

# What a payload of an unexpected shape raises inside a normaliser. Anything else is a bug
# and propagates, so the platform redelivers once it is fixed. ArithmeticError (OverflowError):
# a number of a few hundred digits meets float or C arithmetic somewhere; it is that item's fault only.
UNREADABLE_ITEM_ERRORS = (KeyError, TypeError, ValueError, IndexError, AttributeError, ArithmeticError, msgspec.ValidationError)


class Ignored(msgspec.Struct, frozen=True):
    """An authenticated item that carries no customer-service work (likes, typing, ...)."""

    reason: str


class Unreadable(msgspec.Struct, frozen=True, kw_only=True):
    """An item of a type we handle whose shape we could not read: it is quarantined, never dropped."""

    reason: str
    item: Any


class NormalisedBatch(msgspec.Struct):
    events: list[SocialEvent] = msgspec.field(default_factory=list)
    ignored: Counter[str] = msgspec.field(default_factory=Counter)
    unreadable: list[Unreadable] = msgspec.field(default_factory=list)

    def ignore(self, reason: str, count: int = 1) -> None:
        self.ignored[reason] += count

    def set_aside(self, item: Any, reason: str) -> None:
        self.unreadable.append(Unreadable(reason=reason, item=item))

    def guarded(self, item: Any, read: Callable[[], None]) -> None:
        """Run `read` over a container item (an entry, an activity); if its shape is off, set the whole item aside."""
        try:
            read()
        except UNREADABLE_ITEM_ERRORS as exc:
            self.set_aside(item, f"{type(exc).__name__}: {exc}")

    def add(self, item: Any, build: Callable[[], SocialEvent | Ignored]) -> None:
        """Normalise one item; a malformed item is set aside without failing its siblings."""
        try:
            result = build()
        except UNREADABLE_ITEM_ERRORS as exc:
            self.set_aside(item, f"{type(exc).__name__}: {exc}")
            return
        if isinstance(result, Ignored):
            self.ignore(result.reason)
        else:
            self.events.append(result)

    def set_aside_older_than(self, cutoff: datetime) -> None:
        """Quarantine events that happened before `cutoff`: replays of a signed body outliving its dedupe record."""
        stale = [event for event in self.events if event.created_at < cutoff]
        if stale:
            self.events = [event for event in self.events if event.created_at >= cutoff]
            for event in stale:
                self.set_aside(msgspec.to_builtins(event), f"StaleEvent: created {event.created_at.isoformat()}, before {cutoff.isoformat()}")
