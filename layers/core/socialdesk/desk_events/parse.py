"""An event-subscribed Zendesk webhook body, read into a `DeskEvent` (or nothing, for events no sink needs).

The envelope (developer.zendesk.com/api-reference/webhooks/event-types/ticket-events; field names as in the public
schema `dust-tt/dust` front/lib/triggers/built-in-webhooks/zendesk/schemas/json_schema_ticket_comment_added.ts):
`{"type": "zen:event-type:ticket.comment_added", "id": "<event uuid>", "time": "...", "subject": "zen:ticket:<id>",
"detail": {"id", "external_id", "tags", "status", ...}, "event": {"comment": {"id", "body", "is_public",
"author": {"id", "is_staff", "name"}}}}`; `ticket.status_changed` carries `event: {"current", "previous"}`.
Zendesk writes ids as numbers or as digit strings and statuses in capitals (`OPEN`): both are read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from socialdesk.model.desk_event import DeskEvent, DeskEventKind

KINDS = {
    "zen:event-type:ticket.comment_added": DeskEventKind.COMMENT_ADDED,
    "zen:event-type:ticket.status_changed": DeskEventKind.STATUS_CHANGED,
}


class UnreadableEventError(ValueError):
    """A signed body that is not an event-subscribed ticket webhook we can read (a 400: Zendesk should not retry it)."""


def parse_event(payload: Any) -> DeskEvent | None:
    """The delivery as a `DeskEvent`; None for an event type no sink subscribes to."""
    if not isinstance(payload, dict):
        raise UnreadableEventError("the body is not a JSON object")
    kind = KINDS.get(str(payload.get("type")))
    if kind is None:
        return None
    detail = _object(payload, "detail")
    event = _object(payload, "event")
    try:
        return msgspec.convert(
            {
                "event_id": payload.get("id"),
                "kind": kind,
                "ticket_id": _int(detail.get("id")),
                "occurred_at": _time(payload.get("time")),
                "ticket_tags": tuple(str(tag) for tag in detail.get("tags") or () if isinstance(tag, str)),
                "ticket_external_id": detail.get("external_id") or None,
                "comment": _comment(event) if kind == DeskEventKind.COMMENT_ADDED else None,
                "status": _status(event.get("current") if kind == DeskEventKind.STATUS_CHANGED else detail.get("status")),
                "previous_status": _status(event.get("previous")) if kind == DeskEventKind.STATUS_CHANGED else None,
            },
            DeskEvent,
        )
    except (msgspec.ValidationError, TypeError, ValueError) as exc:
        raise UnreadableEventError(f"{kind} event: {exc}") from None


def _comment(event: dict[str, Any]) -> dict[str, Any]:
    comment = _object(event, "comment")
    author = _object(comment, "author")
    attachments = comment.get("attachments") or ()
    return {
        "id": _int(comment.get("id")),
        "body": str(comment.get("body") or ""),
        "is_public": comment.get("is_public") is True,
        "author_id": _int(author.get("id")),
        "author_is_staff": author.get("is_staff") is True,
        "attachment_urls": tuple(
            str(item["content_url"]) for item in attachments if isinstance(item, dict) and isinstance(item.get("content_url"), str)
        ),
    }


def _object(parent: dict[str, Any], name: str) -> dict[str, Any]:
    value = parent.get(name)
    if not isinstance(value, dict):
        raise UnreadableEventError(f"`{name}` is not an object")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise UnreadableEventError("an id is neither a number nor a digit string")
    return int(value)


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise UnreadableEventError("`time` is missing")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise UnreadableEventError("`time` has no time zone")
    return parsed.astimezone(UTC)  # Zendesk may stamp any offset: notes and fields print UTC


def _status(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) and value else None
