"""Ticket priorities, lowest first: what classification decides and the helpdesk stores (Zendesk's four)."""

from __future__ import annotations

PRIORITIES = ("low", "normal", "high", "urgent")


def priority_rank(priority: str | None) -> int:
    """0 for no priority (or one not on the scale), then 1 (low) to 4 (urgent): a priority only ever rises by this."""
    return PRIORITIES.index(priority) + 1 if priority in PRIORITIES else 0
