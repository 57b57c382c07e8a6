"""The local console: every conversation with its ticket, Salesforce activity and response clock, one page, no build step."""

from __future__ import annotations

import html
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from boto3.dynamodb.types import TypeDeserializer

from socialdesk.crm.sandbox import load_crm_state
from socialdesk.desk.sandbox import load_desk_state
from socialdesk.model import Platform
from socialdesk.model.conversation import ConversationActivity
from socialdesk.process.labels import PLATFORM_LABELS
from socialdesk.store.dynamodb import ACTIVITY_FIELDS

if TYPE_CHECKING:
    from pathlib import Path

_deserialize = TypeDeserializer().deserialize
REFRESH_SECONDS = 2


class ConversationRow(msgspec.Struct, kw_only=True):
    key: str
    platform: str
    customer: str
    messages: int
    last_message: str
    ticket: str
    salesforce_activities: int
    brand_replies: int
    clock: str
    waiting_minutes: int | None
    last_activity: str


def conversation_rows(dynamodb: Any, table: str, sandbox: Path, now: datetime) -> list[ConversationRow]:
    """What the store and the sandboxes know, one row per conversation, most recent first."""
    desk, crm = load_desk_state(sandbox / "zendesk.json"), load_crm_state(sandbox / "salesforce.json")
    # An activity belongs to the conversation whose ticket it links to (several customers can share one thread).
    activities_per_ticket: dict[str, int] = {}
    for recorded in crm.activities.values():
        ticket_id = (recorded.activity.ticket_url or "").rsplit("/", 1)[-1]
        activities_per_ticket[ticket_id] = activities_per_ticket.get(ticket_id, 0) + 1
    rows = []
    items = _conversations(dynamodb, table)
    # Each message's time is an item of its own beside the conversation's (store/dynamodb.py): count them per side.
    sides = Counter((str(item["pk"]), str(item["sk"])[:3]) for item in items if str(item["sk"]).startswith("T#"))
    for item in items:
        if item["sk"] != "CONV":
            continue
        key = str(item["pk"]).removeprefix("CONV#")
        activity = ConversationActivity(**{name: datetime.fromisoformat(item[name]) for name in ACTIVITY_FIELDS if name in item})
        customer_key = str(item.get("customer_key", ""))
        user = desk.users.get(customer_key)
        ticket = desk.tickets.get(int(item["ticket_id"])) if "ticket_id" in item else None
        public = [comment.body for comment in ticket.comments if comment.public] if ticket else []
        waiting = activity.waiting_since
        rows.append(
            ConversationRow(
                key=key,
                platform=_platform_label(key.split(":", 1)[0]),
                customer=user.name if user else customer_key or "—",
                messages=sides[(str(item["pk"]), "T#C")],
                last_message=(public[-1].splitlines()[0][:90] if public else "—"),
                ticket=f"#{ticket.id} {ticket.status}" if ticket else (f"#{item['ticket_id']}" if "ticket_id" in item else "—"),
                salesforce_activities=activities_per_ticket.get(str(item.get("ticket_id", "")), 0),
                brand_replies=sides[(str(item["pk"]), "T#B")],
                clock=_clock(activity, now),
                waiting_minutes=int((now - waiting).total_seconds() // 60) if waiting else None,
                last_activity=max(filter(None, (activity.last_customer_at, activity.last_brand_at)), default=now).isoformat(),
            )
        )
    return sorted(rows, key=lambda row: row.last_activity, reverse=True)


def render_page(rows: list[ConversationRow], *, now: datetime, simulated: timedelta, backends: str) -> str:
    """The console page; it refreshes itself, with no script at all."""
    ahead = f" (simulated, {_duration(simulated)} ahead)" if simulated else ""
    if rows:
        body = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(value))}</td>"
                for value in (row.platform, row.customer, row.messages, row.last_message, row.ticket, row.salesforce_activities, row.brand_replies)
            )
            + f'<td class="{"waiting" if row.waiting_minutes is not None else "answered"}">{html.escape(row.clock)}</td></tr>'
            for row in rows
        )
        table = (
            "<table><thead><tr><th>Platform</th><th>Customer</th><th>Messages</th><th>Last message</th><th>Ticket</th>"
            f"<th>Salesforce activities</th><th>Brand replies</th><th>Response clock</th></tr></thead><tbody>{body}</tbody></table>"
        )
    else:
        table = '<p class="empty">No conversations yet. Send one: <code>uv run socialdesk send x-mention</code></p>'
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}"><link rel="icon" href="data:,">'
        "<title>socialdesk local</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2rem;color:#1d1d1f}table{border-collapse:collapse;width:100%}"
        "th,td{border-bottom:1px solid #ddd;padding:.4rem .6rem;text-align:left;vertical-align:top}th{background:#f4f4f6}"
        ".waiting{color:#b3261e;font-weight:600}.answered{color:#1b6e2d}.meta{color:#555}code{background:#f4f4f6;padding:0 .2rem}"
        "</style></head><body><h1>socialdesk · local</h1>"
        f'<p class="meta">{html.escape(backends)} · clock {now:%Y-%m-%d %H:%M} UTC{html.escape(ahead)} · '
        f"{len(rows)} conversation{'s' if len(rows) != 1 else ''} · refreshes every {REFRESH_SECONDS} s</p>"
        f"{table}</body></html>"
    )


def _conversations(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "begins_with(pk, :conv)",
        "ExpressionAttributeValues": {":conv": {"S": "CONV#"}},
    }
    while True:
        page = dynamodb.scan(**request)
        items += [{name: _deserialize(value) for name, value in item.items()} for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _platform_label(value: str) -> str:
    try:
        return PLATFORM_LABELS[Platform(value)]
    except ValueError:
        return value


def _clock(activity: ConversationActivity, now: datetime) -> str:
    if activity.waiting_since is not None:
        return f"waiting {_duration(now - activity.waiting_since)}"
    if activity.first_response_at is not None and activity.first_customer_at is not None:
        return f"answered after {_duration(activity.first_response_at - activity.first_customer_at)}"
    return "—"


def _duration(span: timedelta) -> str:
    minutes = max(0, int(span.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} days"
