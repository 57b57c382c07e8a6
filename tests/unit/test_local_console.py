"""The local console page: what an evaluator sees while `socialdesk local` runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from socialdesk.local.console import ConversationRow, render_page

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _row(**changes: object) -> ConversationRow:
    values: dict[str, object] = {
        "key": "whatsapp:106540352242922:16505551234",
        "platform": "WhatsApp",
        "customer": "Dana Rodríguez",
        "messages": 2,
        "last_message": "¿Alguna novedad?",
        "ticket": "#1 open",
        "salesforce_activities": 2,
        "brand_replies": 0,
        "clock": "waiting 1 h 25 min",
        "waiting_minutes": 85,
        "last_activity": NOW.isoformat(),
    }
    return ConversationRow(**{**values, **changes})  # type: ignore[arg-type]


def test_each_conversation_shows_its_ticket_activity_and_clock() -> None:
    page = render_page([_row()], now=NOW, simulated=timedelta(0), backends="Zendesk: sandbox · Salesforce: sandbox · AWS: moto")
    assert "<td>Dana Rodríguez</td><td>2</td><td>¿Alguna novedad?</td><td>#1 open</td><td>2</td><td>0</td>" in page
    assert '<td class="waiting">waiting 1 h 25 min</td>' in page
    assert "Zendesk: sandbox · Salesforce: sandbox · AWS: moto · clock 2026-11-23 10:00 UTC · 1 conversation ·" in page


def test_an_answered_conversation_is_not_marked_as_waiting() -> None:
    page = render_page([_row(waiting_minutes=None, clock="answered after 12 min")], now=NOW, simulated=timedelta(0), backends="")
    assert '<td class="answered">answered after 12 min</td>' in page


def test_customer_text_is_shown_as_text_never_as_markup() -> None:
    # Given a customer whose name and message are HTML (anyone can write anything on social media)
    row = _row(customer='<img src=x onerror="alert(1)">', last_message="<script>alert('hi')</script> & more")
    page = render_page([row], now=NOW, simulated=timedelta(0), backends="")
    # Then the page shows the characters and runs nothing
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;hi&#x27;)&lt;/script&gt; &amp; more" in page


def test_an_empty_stack_says_how_to_send_the_first_event() -> None:
    page = render_page([], now=NOW, simulated=timedelta(0), backends="")
    assert "No conversations yet. Send one: <code>uv run socialdesk send x-mention</code>" in page
    assert "0 conversations" in page


def test_a_moved_clock_is_labelled_as_simulated() -> None:
    page = render_page([], now=NOW, simulated=timedelta(minutes=90), backends="")
    assert "clock 2026-11-23 10:00 UTC (simulated, 1 h 30 min ahead)" in page


def test_the_page_refreshes_itself_without_any_script() -> None:
    page = render_page([_row()], now=NOW, simulated=timedelta(0), backends="")
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "<script" not in page
