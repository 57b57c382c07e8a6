"""The local console's rows and threads: what an operator sees while `socialdesk local` runs.

The sandboxes are the real ones, in memory; the notes are built by the rules that write them to
tickets, so the console and the notes cannot drift apart unnoticed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from socialdesk.crm.port import CrmContact
from socialdesk.crm.sandbox import SandboxCrm
from socialdesk.desk.port import Comment, DeskUser, NewTicket
from socialdesk.desk.sandbox import SandboxDesk
from socialdesk.local.console import LAST_MESSAGE_CHARS, conversation_rows, conversation_thread, shortened, shown
from socialdesk.local.console_page import PAGE_HEADERS, render_page
from socialdesk.model.conversation import ConversationActivity
from socialdesk.platforms.sandbox_send import SandboxSend
from socialdesk.process.activity_content import crm_activity
from socialdesk.process.ticket_content import brand_reply_note, context_note, delivery_failure_note
from tests.support.events import sample_event

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
KEY = "facebook:448242228374517:post:448242228374517_1221316769125949"
TICKET_URL = "https://acme.zendesk.com/agent/tickets/{}"


def conversation_item(
    key: str = KEY, *, ticket_id: int | None, customer_minutes: Sequence[int], brand_minutes: Sequence[int] = (), **extra: Any
) -> dict[str, Any]:
    """A conversation as the store keeps it and the console reads it: its facts, and how many message times it holds."""
    facts = ConversationActivity.of(
        (NOW - timedelta(minutes=minutes) for minutes in customer_minutes), (NOW - timedelta(minutes=minutes) for minutes in brand_minutes)
    )
    item: dict[str, Any] = {
        "pk": f"CONV#{key}",
        "sk": "CONV",
        **{name: value.isoformat() for name, value in msgspec.structs.asdict(facts).items() if value is not None},
        "customer_messages": len(set(customer_minutes)),
        "brand_messages": len(set(brand_minutes)),
        **extra,
    }
    if ticket_id is not None:
        item["ticket_id"] = ticket_id
    return item


def desk_with_ticket(*comments: tuple[str | None, str]) -> tuple[SandboxDesk, int, dict[str, int]]:
    """A sandbox ticket whose comments are (customer name, text) for public ones and (None, text) for notes."""
    desk = SandboxDesk()
    users = {name: desk.upsert_user(DeskUser(external_id=f"facebook:{name}", name=name)) for name, _ in comments if name}
    first_name, first_text = comments[0]
    assert first_name is not None
    ticket_id = desk.create_ticket(
        NewTicket(subject="Facebook comment", requester_id=users[first_name], body=first_text, external_id=KEY), idempotency_key="k"
    )
    for name, text in comments[1:]:
        desk.add_comment(ticket_id, Comment(body=text, public=name is not None, author_id=users[name] if name else None))
    return desk, ticket_id, users


def test_two_comments_in_the_same_second_count_as_two_messages_from_both_commenters() -> None:
    # Given two customers commenting on one Facebook post within the same second: the store keeps one message time
    desk, ticket_id, _ = desk_with_ticket(("Dana Rodríguez", "Todavía espero mi reembolso"), ("Sam K", "Same here, no refund yet"))
    item = conversation_item(ticket_id=ticket_id, customer_minutes=[5])
    # When the console lists the conversation
    [row] = conversation_rows([item], desk.state, SandboxCrm().state, NOW)
    # Then it counts both messages and names both commenters, in the order they wrote
    assert row.messages == 2
    assert row.customers == ["Dana Rodríguez", "Sam K"]
    assert row.customer == "Dana Rodríguez, Sam K"
    assert row.last_message == "Same here, no refund yet"


def test_a_long_list_of_commenters_stays_one_line_in_the_row_and_whole_in_the_thread() -> None:
    names = [f"Customer {number}" for number in range(5)]
    desk, ticket_id, _ = desk_with_ticket(*((name, "me too") for name in names))
    item = conversation_item(ticket_id=ticket_id, customer_minutes=[5])
    [row] = conversation_rows([item], desk.state, SandboxCrm().state, NOW)
    thread = conversation_thread(KEY, [item], desk.state, SandboxCrm().state, NOW)
    assert row.customer == "Customer 0, Customer 1, Customer 2 and 2 more"
    assert thread is not None
    assert thread.customers == names


def test_the_last_message_is_cut_between_words_never_inside_one() -> None:
    # Given a last message longer than the row shows
    text = "Mi pedido #4411 no ha llegado y nadie me contesta desde hace tres semanas, ¿alguien puede decirme dónde está?"
    desk, ticket_id, _ = desk_with_ticket(("Dana Rodríguez", text))
    [row] = conversation_rows([conversation_item(ticket_id=ticket_id, customer_minutes=[5])], desk.state, SandboxCrm().state, NOW)
    # Then the row ends on a whole word of hers, marked as shortened
    assert row.last_message == "Mi pedido #4411 no ha llegado y nadie me contesta desde hace tres semanas, ¿alguien puede…"
    assert len(row.last_message) <= LAST_MESSAGE_CHARS
    assert text.startswith(row.last_message.removesuffix("…"))
    assert text[len(row.last_message) - 1] == " "


def test_shortening_keeps_short_text_and_cuts_at_the_last_space_before_the_limit() -> None:
    assert shortened("short enough", 20) == "short enough"
    assert shortened("one two three four", 10) == "one two…"
    assert shortened("one two three", 8) == "one two…"  # the limit falls on a space: the word before it is whole
    assert shortened("https://example.com/a-very-long-link", 10) == "https://e…"  # one word longer than the limit: no space to cut at


def test_the_thread_shows_every_message_reply_note_warning_activity_and_the_ticket_status() -> None:
    # Given a WhatsApp conversation: the customer's message, the context note, the brand's reply, a failed delivery, her follow-up
    message, reply, failed = sample_event("meta-whatsapp-text"), sample_event("meta-fb-page-reply"), sample_event("meta-whatsapp-status-failed")
    key = message.conversation_key
    desk, crm = SandboxDesk(), SandboxCrm()
    dana = desk.upsert_user(DeskUser(external_id="whatsapp:16505551234", name="Dana Rodríguez"))
    ticket_id = desk.create_ticket(
        NewTicket(subject="WhatsApp message", requester_id=dana, body=message.text or "", external_id=key), idempotency_key="k"
    )
    for comment in (
        Comment(body=context_note(message, key), public=False),
        Comment(body=brand_reply_note(reply), public=False),
        Comment(body=delivery_failure_note(failed), public=False),
        Comment(body="¿Alguna novedad?", public=True, author_id=dana),
    ):
        desk.add_comment(ticket_id, comment, reopen=comment.public)
    crm.record_activity(
        crm_activity(message, ticket_url=TICKET_URL.format(ticket_id)),
        contact=CrmContact(external_id="whatsapp:16505551234", name="Dana Rodríguez"),
        contact_id=None,
        persona_id=None,
    )
    item = conversation_item(key, ticket_id=ticket_id, customer_minutes=[30, 5], brand_minutes=[20])
    # When the operator opens it
    thread = conversation_thread(key, [item], desk.state, crm.state, NOW)
    # Then every comment and note is there in order, each of its kind, with the ticket's status and the Salesforce activity
    assert thread is not None
    assert [(entry.kind, entry.author) for entry in thread.entries] == [
        ("customer", "Dana Rodríguez"),
        ("context", "socialdesk"),
        ("brand", "socialdesk"),
        ("warning", "socialdesk"),
        ("customer", "Dana Rodríguez"),
    ]
    assert thread.entries[3].text.startswith("⚠ A WhatsApp message to the customer was not delivered (131047")
    assert [(ticket.id, ticket.status) for ticket in thread.tickets] == [(ticket_id, "open")]
    [activity] = thread.activities
    assert (activity.contact, activity.text) == ("Dana Rodríguez", message.text)
    assert thread.clock == "waiting 5 min"
    # And the row counts the messages, the brand's reply and the activity the thread shows
    [row] = conversation_rows([item], desk.state, crm.state, NOW)
    assert (row.messages, row.brand_replies, row.salesforce_activities, row.ticket) == (2, 1, 1, f"#{ticket_id} open")


def test_a_follow_up_ticket_keeps_the_closed_ones_messages_in_the_thread() -> None:
    # Given a conversation whose first ticket was closed, and a follow-up ticket opened for the next message
    desk, first, users = desk_with_ticket(("Dana Rodríguez", "first question"))
    desk.state.tickets[first].status = "closed"
    second = desk.create_ticket(
        NewTicket(subject="again", requester_id=users["Dana Rodríguez"], body="second question", external_id=KEY, follow_up_of=first),
        idempotency_key="k2",
    )
    item = conversation_item(ticket_id=second, customer_minutes=[60, 5], previous_ticket_ids=[first])
    # Then the thread holds both tickets' messages, and the row both messages and the current ticket
    thread = conversation_thread(KEY, [item], desk.state, SandboxCrm().state, NOW)
    assert thread is not None
    assert [(entry.ticket, entry.text) for entry in thread.entries] == [(first, "first question"), (second, "second question")]
    assert [(ticket.id, ticket.status, ticket.follow_up_of) for ticket in thread.tickets] == [(first, "closed", None), (second, "new", first)]
    [row] = conversation_rows([item], desk.state, SandboxCrm().state, NOW)
    assert (row.messages, row.ticket) == (2, f"#{second} new")


def test_without_the_ticket_in_the_sandbox_the_counts_come_from_the_store() -> None:
    # Given real Zendesk credentials: the conversation's ticket is not in the sandbox
    item = conversation_item(ticket_id=77, customer_minutes=[30, 20], brand_minutes=[10], customer_key="x:1")
    [row] = conversation_rows([item], SandboxDesk().state, SandboxCrm().state, NOW)
    assert (row.messages, row.brand_replies, row.ticket, row.customer, row.last_message) == (2, 1, "#77", "x:1", "—")
    thread = conversation_thread(KEY, [item], SandboxDesk().state, SandboxCrm().state, NOW)
    assert thread is not None
    assert [(ticket.id, ticket.status) for ticket in thread.tickets] == [(77, "not in the sandbox")]
    assert thread.entries == []


def test_an_unknown_conversation_has_no_thread() -> None:
    assert (
        conversation_thread("x:1:thread:2", [conversation_item(ticket_id=None, customer_minutes=[1])], SandboxDesk().state, SandboxCrm().state, NOW)
        is None
    )


def test_customer_text_reaches_the_console_with_its_control_characters_shown_as_escapes() -> None:
    # Given a customer whose name and message carry terminal escapes, a bidi override, NUL and markup
    hostile_name, hostile_text = "Dana\u202e\x1b[2J", "<img src=x onerror=alert(1)>\x00 line one\nline two\u2028"
    desk, ticket_id, _ = desk_with_ticket((hostile_name, hostile_text))
    item = conversation_item(ticket_id=ticket_id, customer_minutes=[5])
    [row] = conversation_rows([item], desk.state, SandboxCrm().state, NOW)
    thread = conversation_thread(KEY, [item], desk.state, SandboxCrm().state, NOW)
    assert thread is not None
    # Then what the page reads shows those characters as visible escapes; newlines stay, and markup stays text for the page to show
    assert row.customer == "Dana\\u202e\\u001b[2J"
    assert thread.entries[0].text == "<img src=x onerror=alert(1)>\\u0000 line one\nline two\\u2028"
    assert shown("Mi pedido 📦 — ¿me ayudan? 👩‍👩‍👧\n\tok") == "Mi pedido 📦 — ¿me ayudan? 👩‍👩‍👧\n\tok"


def test_the_page_updates_itself_by_script_without_reloading_and_admits_no_inline_script() -> None:
    page = render_page(url="http://127.0.0.1:3000", backends="Zendesk: sandbox · Salesforce: sandbox · AWS: moto")
    # Then it loads its own script and stylesheet, refreshes nothing by itself, and carries no inline script or style
    assert '<script src="/console/console.js" defer></script>' in page
    assert 'http-equiv="refresh"' not in page
    assert "<script>" not in page and "<style" not in page and " on" + "click=" not in page
    assert PAGE_HEADERS["Content-Security-Policy"].startswith("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';")
    assert "Zendesk: sandbox · Salesforce: sandbox · AWS: moto" in page


def test_the_empty_state_hint_sends_to_the_port_in_use() -> None:
    # Given the stack runs on port 3001
    page = render_page(url="http://127.0.0.1:3001", backends="")
    # Then the hint's command sends there
    assert "No conversations yet. Send one: <code>./uvw run socialdesk send x-mention --url http://127.0.0.1:3001</code>" in page


def test_backends_are_shown_as_text() -> None:
    assert "&lt;b&gt;" in render_page(url="http://127.0.0.1:3000", backends="<b>")


def test_the_thread_shows_the_automatic_messages_the_platforms_sent_where_they_went_marked_as_automated() -> None:
    # Given a Facebook comment, and the FAQ answer the sandbox platform sent it a minute later; another conversation's too
    desk, ticket_id, _ = desk_with_ticket(("Lee Park", "Refund still missing after 3 weeks"), ("Ana Silva", "Same problem here!"))
    first, second = (comment.created_at for comment in desk.state.tickets[ticket_id].comments)
    assert first is not None and second is not None
    answer = SandboxSend(
        id="sandbox-facebook-3",
        platform="facebook",
        account_id="448242228374517",
        channel="public_reply",
        recipient_id="7011111111111111",
        text="Refunds: you can return any item within 30 days.\u202e\nAutomated reply",
        job_id=f"ack:{KEY}:1",
        reply_to_id="1221316769125949_demo_1",
        sent_at=first + (second - first) / 2,
        kind="self_service",
        language="en",
        conversation_key=KEY,
        ticket_id=ticket_id,
    )
    elsewhere = msgspec.structs.replace(answer, id="sandbox-x-1", platform="x", conversation_key="x:1:thread:2", kind="acknowledgement")
    agent = msgspec.structs.replace(answer, id="sandbox-facebook-4", kind="agent_reply")
    item = conversation_item(ticket_id=ticket_id, customer_minutes=[5])
    # When the operator opens the conversation
    thread = conversation_thread(KEY, [item], desk.state, SandboxCrm().state, NOW, sent=[answer, elsewhere, agent])
    # Then the answer is in the thread between the two comments, marked as automated, with the platform's message id; an
    # agent's reply the platform received is there too, marked as delivered (not as automated)
    assert thread is not None
    assert [entry.kind for entry in thread.entries] == ["customer", "automated", "delivered", "customer"]
    assert thread.entries[2].author == "agent reply, as the customer received it"
    automated = thread.entries[1]
    assert automated.author == "socialdesk (automated FAQ answer, en)"
    assert (automated.message_id, automated.channel, automated.ticket) == ("sandbox-facebook-3", "public_reply", ticket_id)
    assert automated.text == "Refunds: you can return any item within 30 days.\\u202e\nAutomated reply"  # shown, never acting
    # And without what the platforms sent, the thread is the ticket's alone
    plain = conversation_thread(KEY, [item], desk.state, SandboxCrm().state, NOW)
    assert plain is not None
    assert [entry.kind for entry in plain.entries] == ["customer", "customer"]


def test_each_row_shows_its_sla_state_due_overdue_or_breached_at_its_level() -> None:
    # Given three waiting conversations as the response clock leaves them (store/clock.py's sla_due and sla_level)
    due = {"sla_due": (NOW + timedelta(minutes=12)).isoformat()}
    overdue = {"sla_due": (NOW - timedelta(minutes=3)).isoformat()}
    breached = {"sla_due": (NOW + timedelta(minutes=7)).isoformat(), "sla_level": 1}
    items = [
        conversation_item(f"{KEY}:{name}", ticket_id=None, customer_minutes=[5], **fields)
        for name, fields in (("due", due), ("overdue", overdue), ("breached", breached), ("answered", {}))
    ]
    # When the console builds its rows
    rows = {row.key.rsplit(":", 1)[1]: row.sla for row in conversation_rows(items, SandboxDesk().state, SandboxCrm().state, NOW)}
    # Then each says where its clock stands
    assert rows == {"due": "due in 12 min", "overdue": "overdue 3 min", "breached": "breached, level 1 (next in 7 min)", "answered": "—"}
