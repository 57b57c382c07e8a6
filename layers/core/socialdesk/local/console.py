"""What the local console shows: one row per conversation, and one conversation's whole thread.

The store keeps no message text (privacy), so words, notes and names come from the sandbox
helpdesk and CRM; the store gives the conversations, their tickets and the response clock. Where a
conversation's tickets are not in the sandbox (real Zendesk credentials), its counts fall back to
the store's message items, one per message.

Customer text is hostile: every string a customer could have written passes through `shown`
here, and the page puts it in the DOM as text, never as markup.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from boto3.dynamodb.types import TypeDeserializer

from socialdesk.desk.sandbox import SANDBOX_AGENT_ID
from socialdesk.model import Platform
from socialdesk.model.conversation import ConversationActivity
from socialdesk.model.outbound import JobKind
from socialdesk.process.labels import PLATFORM_LABELS
from socialdesk.store.dynamodb import ACTIVITY_FIELDS

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from socialdesk.crm.sandbox import SandboxActivity, SandboxCrmState
    from socialdesk.desk.sandbox import SandboxComment, SandboxDeskState, SandboxTicket
    from socialdesk.platforms.sandbox_send import SandboxSend

_deserialize = TypeDeserializer().deserialize
LAST_MESSAGE_CHARS = 90
CUSTOMERS_IN_ROW = 3
AUTOMATIC_KINDS = (JobKind.ACKNOWLEDGEMENT, JobKind.SELF_SERVICE)
# Controls (but newline and tab, which the page shows as such), line separators, bidi overrides and lone
# surrogates: shown as escapes, so no text can reorder, hide or forge what is around it.
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# How socialdesk's own internal notes begin (process/ticket_content.py; a test builds each with it).
_NOTE_KINDS = (("Replied on ", "brand"), ("⚠", "warning"), ("Social context (socialdesk)", "context"))


class ConversationRow(msgspec.Struct, kw_only=True):
    key: str
    platform: str
    customer: str
    """Everyone who wrote in the thread, on one line."""
    customers: list[str]
    messages: int
    last_message: str
    ticket: str
    salesforce_activities: int
    brand_replies: int
    clock: str
    waiting_minutes: int | None
    last_activity: str
    sla: str = "—"
    """The response clock's SLA state (sla/): `due in 12 min`, `overdue 3 min` (the check has not run yet), `breached, level 2`."""


class ThreadTicket(msgspec.Struct, kw_only=True):
    id: int
    status: str
    subject: str
    follow_up_of: int | None = None


class ThreadEntry(msgspec.Struct, kw_only=True):
    ticket: int | None
    kind: str
    """`customer` (a public comment), `agent` (the sandbox agent's public comment), `brand` (their reply), `warning` (a failed
    delivery), `context` or `note`; or, as the platform received them (not ticket comments), `automated` (an acknowledgement
    or FAQ answer) and `delivered` (an agent's reply)."""
    author: str
    at: str | None
    text: str
    message_id: str | None = None
    """An automated entry's id on the platform (the sandbox platforms give one as the platform would)."""
    channel: str | None = None
    """An automated entry's channel: `public_reply`, `private_reply` or `direct_message`."""


class ThreadActivity(msgspec.Struct, kw_only=True):
    id: str
    contact: str
    subject: str
    text: str
    at: str
    permalink: str | None = None


class Thread(msgspec.Struct, kw_only=True):
    key: str
    platform: str
    customers: list[str]
    tickets: list[ThreadTicket]
    entries: list[ThreadEntry]
    """Every comment and note of every ticket the conversation has had, oldest ticket first."""
    activities: list[ThreadActivity]
    clock: str
    waiting_minutes: int | None


@dataclass
class StoreItems:
    """The StateTable items the console reads, as plain values."""

    conversations: list[dict[str, Any]] = field(default_factory=list)
    parked: list[dict[str, Any]] = field(default_factory=list)


def read_store(dynamodb: Any, table: str) -> StoreItems:
    """Conversations and parked events, in one scan (a local table is small)."""
    found = StoreItems()
    request: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "begins_with(pk, :conv) OR begins_with(pk, :park)",
        "ExpressionAttributeValues": {":conv": {"S": "CONV#"}, ":park": {"S": "PARK#"}},
    }
    # Each message's time is an item of its own beside its conversation's (store/dynamodb.py): counted onto it here.
    counts: Counter[tuple[str, str]] = Counter()
    while True:
        page = dynamodb.scan(**request)
        for raw in page.get("Items", []):
            item = {name: _deserialize(value) for name, value in raw.items()}
            if not str(item["pk"]).startswith("CONV#"):
                found.parked.append(item)
            elif item["sk"] == "CONV":
                found.conversations.append(item)
            else:
                counts[(str(item["pk"]), "brand_messages" if str(item["sk"]).startswith("T#B#") else "customer_messages")] += 1
        if "LastEvaluatedKey" not in page:
            for item in found.conversations:
                item.update({side: counts[(str(item["pk"]), side)] for side in ("customer_messages", "brand_messages")})
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def conversation_rows(items: list[dict[str, Any]], desk: SandboxDeskState, crm: SandboxCrmState, now: datetime) -> list[ConversationRow]:
    """One row per conversation that has had a message, most recent first."""
    rows = [_gathered(item, desk, crm).row(now) for item in items if "first_customer_at" in item or "last_brand_at" in item]
    return sorted(rows, key=lambda row: row.last_activity, reverse=True)


def conversation_thread(
    key: str,
    items: list[dict[str, Any]],
    desk: SandboxDeskState,
    crm: SandboxCrmState,
    now: datetime,
    *,
    sent: Sequence[SandboxSend] = (),
) -> Thread | None:
    """The whole thread of the conversation `key`, or None when the store has no such conversation; `sent`: what the sandbox
    platforms sent, whose automatic messages for this conversation join the thread where they went out."""
    item = next((item for item in items if item["pk"] == f"CONV#{key}"), None)
    if item is None:
        return None
    thread = _gathered(item, desk, crm).thread(now)
    for message in sent:
        if message.conversation_key == key and message.kind in (*AUTOMATIC_KINDS, JobKind.AGENT_REPLY):
            _insert_in_time(thread.entries, _automated_entry(message))
    return thread


def _author(names: Mapping[int, str], author_id: int | None) -> str:
    if author_id is None:
        return "socialdesk"
    if author_id == SANDBOX_AGENT_ID:
        return "agent (sandbox Zendesk)"
    return shown(names.get(author_id, f"user {author_id}"))


def _automated_entry(message: SandboxSend) -> ThreadEntry:
    """A message the sandbox platform received: an automatic one, or an agent's reply as the customer sees it."""
    if message.kind == JobKind.AGENT_REPLY:
        kind, author = "delivered", "agent reply, as the customer received it"
    else:
        language = f", {message.language}" if message.language else ""
        kind, author = "automated", f"socialdesk (automated {'FAQ answer' if message.kind == JobKind.SELF_SERVICE else 'acknowledgement'}{language})"
    return ThreadEntry(
        ticket=message.ticket_id,
        kind=kind,
        author=author,
        at=message.sent_at.isoformat() if message.sent_at else None,
        text=shown(message.text),
        message_id=shown(message.id),
        channel=message.channel,
    )


def _insert_in_time(entries: list[ThreadEntry], entry: ThreadEntry) -> None:
    """After every entry at or before it (an entry without a time stays where it is); at the end when it has no time."""
    if entry.at is None:
        entries.append(entry)
        return
    at = datetime.fromisoformat(entry.at)
    later = next((index for index, found in enumerate(entries) if found.at is not None and datetime.fromisoformat(found.at) > at), len(entries))
    entries.insert(later, entry)


@dataclass
class _Gathered:
    """One conversation with what the sandboxes hold for it."""

    key: str
    activity: ConversationActivity
    stored_messages: tuple[int, int]
    """Customer and brand messages the store has times for: the counts where the sandbox lacks the tickets."""
    ticket_id: int | None
    in_sandbox: list[SandboxTicket]
    names: dict[int, str]
    fallback_customer: str | None
    crm_activities: list[SandboxActivity]
    contact_names: dict[str, str]
    sla_due: datetime | None = None
    sla_level: int = 0

    @property
    def platform(self) -> str:
        value = self.key.split(":", 1)[0]
        try:
            return PLATFORM_LABELS[Platform(value)]
        except ValueError:
            return shown(value)

    @property
    def comments(self) -> list[tuple[SandboxTicket, SandboxComment]]:
        return [(ticket, comment) for ticket in self.in_sandbox for comment in ticket.comments]

    @property
    def customers(self) -> list[str]:
        """Every author of a public comment, in the order they first wrote."""
        authors = [comment.author_id for _, comment in self.comments if comment.public and comment.author_id not in (None, SANDBOX_AGENT_ID)]
        names = [shown(self.names.get(author, f"user {author}")) for author in dict.fromkeys(authors)]
        if not names and self.fallback_customer:
            names = [shown(self.fallback_customer)]
        return names

    def row(self, now: datetime) -> ConversationRow:
        public = [comment.body for _, comment in self.comments if comment.public and comment.author_id != SANDBOX_AGENT_ID]
        notes = [_note_kind(comment.body) for _, comment in self.comments if not comment.public]
        customers = self.customers
        current = next((ticket for ticket in self.in_sandbox if ticket.id == self.ticket_id), None)
        waiting = self.activity.waiting_since
        return ConversationRow(
            key=self.key,
            platform=self.platform,
            customer=_names_line(customers),
            customers=customers,
            messages=len(public) if self.in_sandbox else self.stored_messages[0],
            last_message=shortened(shown(public[-1].strip().splitlines()[0]), LAST_MESSAGE_CHARS) if public and public[-1].strip() else "—",
            ticket=f"#{current.id} {current.status}" if current else (f"#{self.ticket_id}" if self.ticket_id is not None else "—"),
            salesforce_activities=len(self.crm_activities),
            brand_replies=notes.count("brand") if self.in_sandbox else self.stored_messages[1],
            clock=_clock(self.activity, now),
            waiting_minutes=int((now - waiting).total_seconds() // 60) if waiting else None,
            last_activity=max(filter(None, (self.activity.last_customer_at, self.activity.last_brand_at)), default=now).isoformat(),
            sla=sla_state(self.sla_level, self.sla_due, now),
        )

    def thread(self, now: datetime) -> Thread:
        waiting = self.activity.waiting_since
        entries = [
            ThreadEntry(
                ticket=ticket.id,
                kind=("agent" if comment.author_id == SANDBOX_AGENT_ID else "customer") if comment.public else _note_kind(comment.body),
                author=_author(self.names, comment.author_id),
                at=comment.created_at.isoformat() if comment.created_at else None,
                text=shown(comment.body),
            )
            for ticket, comment in self.comments
        ]
        activities = [
            ThreadActivity(
                id=found.id,
                contact=shown(self.contact_names.get(found.contact_id, found.contact_id)),
                subject=shown(found.activity.subject),
                text=shown(found.activity.text),
                at=found.activity.occurred_at.isoformat(),
                permalink=shown(found.activity.permalink) if found.activity.permalink else None,
            )
            for found in sorted(self.crm_activities, key=lambda found: found.activity.occurred_at)
        ]
        tickets = [
            ThreadTicket(id=ticket.id, status=ticket.status, subject=shown(ticket.subject), follow_up_of=ticket.follow_up_of)
            for ticket in self.in_sandbox
        ]
        if self.ticket_id is not None and all(ticket.id != self.ticket_id for ticket in self.in_sandbox):
            tickets.append(ThreadTicket(id=self.ticket_id, status="not in the sandbox", subject=""))
        return Thread(
            key=self.key,
            platform=self.platform,
            customers=self.customers,
            tickets=tickets,
            entries=entries,
            activities=activities,
            clock=_clock(self.activity, now),
            waiting_minutes=int((now - waiting).total_seconds() // 60) if waiting else None,
        )


def _gathered(item: dict[str, Any], desk: SandboxDeskState, crm: SandboxCrmState) -> _Gathered:
    ticket_id = int(item["ticket_id"]) if "ticket_id" in item else None
    ticket_ids = [*(int(value) for value in item.get("previous_ticket_ids", [])), *([ticket_id] if ticket_id is not None else [])]
    customer_key = str(item.get("customer_key", "")) or None
    user = desk.users.get(customer_key) if customer_key else None
    # An activity belongs to the conversation whose ticket it links to (several customers can share one thread).
    linked = {str(number) for number in ticket_ids}
    return _Gathered(
        key=str(item["pk"]).removeprefix("CONV#"),
        activity=ConversationActivity(**{name: datetime.fromisoformat(item[name]) for name in ACTIVITY_FIELDS if name in item}),
        stored_messages=(int(item.get("customer_messages", 0)), int(item.get("brand_messages", 0))),
        ticket_id=ticket_id,
        in_sandbox=[desk.tickets[number] for number in dict.fromkeys(ticket_ids) if number in desk.tickets],
        names={user.id: user.name for user in desk.users.values()},
        fallback_customer=user.name if user else customer_key,
        crm_activities=[found for found in crm.activities.values() if (found.activity.ticket_url or "").rsplit("/", 1)[-1] in linked],
        contact_names={contact.id: contact.name for contact in crm.contacts.values()},
        sla_due=datetime.fromisoformat(item["sla_due"]) if "sla_due" in item else None,
        sla_level=int(item.get("sla_level", 0)),
    )


def sla_state(level: int, due: datetime | None, now: datetime) -> str:
    """What the SLA check has done and will do next, as the store's clock fields (store/clock.py) say."""
    if level:
        return f"breached, level {level}" + (f" (next in {duration(due - now)})" if due is not None and due > now else "")
    if due is None:
        return "—"
    return f"due in {duration(due - now)}" if due > now else f"overdue {duration(now - due)}"


def shown(text: str) -> str:
    """`text` with every character that could hide, reorder or forge what is around it written as an escape (`\\u202e`)."""
    return _HIDDEN.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def shortened(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, cut between words and ended with `…` (one word longer than `limit` is cut)."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if not text[limit - 1].isspace() and (boundary := re.search(r"\s\S*$", head)) and boundary.start() > 0:
        head = head[: boundary.start()]
    return head.rstrip() + "…"


def _names_line(names: list[str]) -> str:
    if not names:
        return "—"
    if len(names) <= CUSTOMERS_IN_ROW:
        return ", ".join(names)
    return f"{', '.join(names[:CUSTOMERS_IN_ROW])} and {len(names) - CUSTOMERS_IN_ROW} more"


def _note_kind(body: str) -> str:
    return next((kind for start, kind in _NOTE_KINDS if body.startswith(start)), "note")


def _clock(activity: ConversationActivity, now: datetime) -> str:
    if activity.waiting_since is not None:
        return f"waiting {duration(now - activity.waiting_since)}"
    if activity.first_response_at is not None and activity.first_customer_at is not None:
        return f"answered after {duration(activity.first_response_at - activity.first_customer_at)}"
    return "—"


def duration(span: timedelta) -> str:
    minutes = max(0, int(span.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} days"
