"""Customer text that tries to act on a terminal, a line-based reader, an encoder or a ticket list."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import msgspec
import pytest

from socialdesk.ingest.json_body import decode
from socialdesk.local.console import ConversationRow
from socialdesk.local.demo import summary
from socialdesk.local.output import _FunctionLines, printable, say
from socialdesk.model import Author, EventKind, Platform, SocialEvent, make_event
from socialdesk.platforms.sandbox_send import SandboxSend
from socialdesk.ports.queues import sqs_safe
from socialdesk.process.activity_content import crm_contact
from socialdesk.process.labels import NAME_MAX_CHARS
from socialdesk.process.ticket_content import SUBJECT_MAX_CHARS, SUBJECT_NAME_CHARS, context_note, desk_user, subject
from tests.support.ingest import Harness
from tests.support.webhooks import api_event, meta_post, sample_body, to_bytes

# Clear screen, set the window title, and a CR/LF that starts a forged line.
HOSTILE = "Dana\x1b[2J\x1b]0;pwned\x07\r\n13:07:01.714  process   forged line\u2028\u202e\ud800"


def test_local_output_shows_control_characters_as_escapes(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a sandbox line carrying a hostile display name
    say("sandbox", f"[sandbox zendesk] ticket #1 created: WhatsApp message from {HOSTILE}")
    # Then exactly one line is printed, without ESC, BEL, CR, U+2028, the bidi override or the lone surrogate
    printed = capsys.readouterr().out
    assert printed.count("\n") == 1
    for raw in ("\x1b", "\x07", "\r", "\u2028", "\u202e"):
        assert raw not in printed
    assert "\\x1b[2J" in printed and "\\r\\n13:07:01.714" in printed and "\\u202e" in printed and "\\ud800" in printed


def test_printable_keeps_ordinary_text_and_emoji() -> None:
    assert printable("Mi pedido #4411 no ha llegado 📦 — ¿me ayudan? 👩‍👩‍👧") == "Mi pedido #4411 no ha llegado 📦 — ¿me ayudan? 👩‍👩‍👧"


def test_a_function_warning_with_a_stack_trace_prints_one_safe_line_per_trace_line(capsys: pytest.CaptureFixture[str]) -> None:
    record = logging.LogRecord("socialdesk", logging.WARNING, __file__, 1, "something failed", None, None)
    record.exc_text = "Traceback (most recent call last):\n  ValueError: \x1b[31mred"
    _FunctionLines().emit(record)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert "\x1b" not in "".join(lines)


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "x\\ud800", "\\ud800\\u0041"], ids=["high", "low", "trailing-high", "high-then-ascii"])
def test_a_lone_surrogate_escape_in_one_message_is_replaced_and_the_delivery_queued(harness: Harness, escape: str) -> None:
    # Given a signed WhatsApp delivery whose text holds a lone UTF-16 surrogate escape (valid JSON grammar,
    # refused by msgspec: the whole delivery used to get a 400), next to a second, ordinary message
    payload = sample_body("meta-whatsapp-text")
    messages = payload["entry"][0]["changes"][0]["value"]["messages"]
    messages.append(json.loads(json.dumps(messages[0])) | {"id": "wamid.second"})
    messages[0]["text"]["body"] = "MARK"
    body = to_bytes(payload).replace(b"MARK", f"hola {escape} adios".encode())
    # When it is received
    response = harness.send(meta_post(body))
    # Then both are queued, the surrogate replaced by U+FFFD, and every queued body encodes as UTF-8
    assert (response.status, json.loads(response.body)["queued"]) == (200, 2)
    texts = [event.text for event in harness.events.events]
    assert texts[0] is not None and "\ufffd" in texts[0] and texts[0].startswith("hola ")
    for message in harness.events.messages:
        message.body.encode("utf-8")


def test_a_text_body_holding_a_lone_surrogate_is_a_4xx_not_an_exception(harness: Harness) -> None:
    # Given a Lambda event whose body string holds a lone surrogate (the event JSON had a "\ud800" escape)
    event = api_event("POST", "/webhooks/meta", headers={"x-hub-signature-256": "sha256=00"})
    event["body"] = '{"object": "page", "entry": ["\ud800"]}'
    # Then it is refused as unsigned (it used to raise UnicodeEncodeError: a 500)
    assert harness.send(event).status == 401


def test_characters_sqs_refuses_are_written_as_json_escapes(harness: Harness) -> None:
    # Given a message with U+FFFE and U+FFFF, which SQS refuses (InvalidMessageContents: 503 for ever)
    payload = sample_body("meta-whatsapp-text")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "odd \ufffe\uffff end"
    harness.send(meta_post(json.dumps(payload, ensure_ascii=False).encode("utf-8")))
    # Then the queued body holds them only as escapes, and decodes to the same text
    [message] = harness.events.messages
    assert "\ufffe" not in message.body and "\\ufffe" in message.body
    assert harness.events.events[0].text == "odd \ufffe\uffff end"


def test_numbers_no_reader_can_hold_stay_their_digits() -> None:
    # Given a body with an integer of 5,000 digits and 1e999 (msgspec refuses both: the whole delivery got a 400)
    document = decode(b'{"timestamp": ' + b"9" * 5000 + b', "x": 1e999, "ok": 1}')
    # Then they stay strings, so only the item that reads one as a number is quarantined
    assert document == {"timestamp": "9" * 5000, "x": "1e999", "ok": 1}
    assert sqs_safe("plain") == "plain"


def event_from(name: str, text: str = "where is my order?") -> SocialEvent:
    return make_event(
        platform=Platform.WHATSAPP,
        kind=EventKind.DIRECT_MESSAGE,
        event_id="wamid.1",
        message_id="wamid.1",
        conversation_key="whatsapp:1:chat:2",
        account_id="1",
        created_at=datetime(2026, 11, 23, tzinfo=UTC),
        from_brand=False,
        author={"id": "2", "display_name": name},
        text=text,
    )


def test_a_display_name_cannot_forge_lines_or_fill_the_subject() -> None:
    # Given a customer whose display name is 2,000 characters with CR/LF and escape sequences (it made a 2,105-character subject)
    name = ("Dana\r\nPriority: urgent\x1b[2J" * 100)[:2000]
    text = "ignore \r\nprevious\x1b]0;title\x07 lines " * 20
    # When the ticket subject is written
    written = subject(event_from(name, text))
    # Then it is one line, within Zendesk's 255 characters, and still says what was written
    assert len(written) <= SUBJECT_MAX_CHARS
    assert not any(char in written for char in "\r\n\x1b\x07")
    assert written.startswith("WhatsApp message from Dana Priority: urgent")
    assert len(written.split("…", 1)[0].removeprefix("WhatsApp message from ")) < SUBJECT_NAME_CHARS
    assert written.endswith("…")


def test_an_ordinary_subject_is_unchanged() -> None:
    assert subject(event_from("Dana Rodríguez")) == "WhatsApp message from Dana Rodríguez: where is my order?"


def test_a_2000_character_display_name_with_line_breaks_and_controls_is_one_zendesk_user_name_within_255() -> None:
    # Given a customer whose display name is 2,000 characters of CR/LF, NUL, ESC sequences, C1 controls, line separators
    # and bidi overrides around ordinary words
    name = ("Dana\r\nRole: admin\x00\x1b[2J\x85\u2028\u202eX " * 100)[:2000]
    event = event_from(name)
    # When socialdesk names the customer to Zendesk (their end user), in the context note and to Salesforce
    user_name = desk_user(event).name
    context = context_note(event, event.conversation_key)
    contact_name = crm_contact(event).name
    # Then the Zendesk user's name is one line of at most 255 characters (Zendesk refuses longer ones), saying who it is
    assert len(name) == 2000
    assert len(user_name) <= NAME_MAX_CHARS == 255
    assert user_name.startswith("Dana Role: admin [2J X Dana Role: admin [2J X")  # ESC gone, its harmless letters left
    assert user_name.endswith("…")
    assert not any(ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F or char in "\u2028\u2029\u202e" for char in user_name)
    # And the context note gains no line from it, and Salesforce gets the same name
    assert context.count("\n") == context_note(event_from("Dana"), event.conversation_key).count("\n")
    assert f"Customer: {user_name}, id 2" in context.splitlines()
    assert contact_name == user_name


@pytest.mark.parametrize(
    ("display_name", "handle", "platform", "named"),
    [
        ("\r\n\x1b\u2028 ", "dana_r", Platform.INSTAGRAM, "@dana_r"),
        (None, "dana\r\nr", Platform.WHATSAPP, "dana r"),
        ("\x00", "\r\n", Platform.WHATSAPP, "WhatsApp user 2"),
        ("Dana Rodríguez 📦", None, Platform.WHATSAPP, "Dana Rodríguez 📦"),
    ],
    ids=["only-controls-then-handle", "handle-with-line-break", "nothing-readable", "ordinary"],
)
def test_a_name_with_nothing_readable_left_falls_back_to_the_handle_then_the_platform_id(
    display_name: str | None, handle: str | None, platform: Platform, named: str
) -> None:
    # Given a customer whose display name (or handle) is nothing but control characters and spaces
    event = msgspec.structs.replace(event_from("x"), platform=platform, author=Author(id="2", display_name=display_name, handle=handle))
    # When they are named to Zendesk
    # Then the name is the next thing that reads, never blank (Zendesk requires a name)
    assert desk_user(event).name == named


def demo_row(platform: str, customer: str) -> ConversationRow:
    return ConversationRow(
        key=f"{platform}:1:dm:2",
        platform=platform,
        customer=customer,
        customers=[customer],
        messages=2,
        last_message="where is my order?",
        ticket="#4014 open",
        salesforce_activities=2,
        brand_replies=0,
        clock="waiting 1 h 30 min",
        waiting_minutes=90,
        last_activity="2026-11-23T10:00:00+00:00",
    )


def test_the_demo_summary_shows_a_hostile_customer_name_as_escapes_on_its_own_row() -> None:
    # Given the demo's conversations, one customer's name carrying CR/LF, a clear-screen sequence, a title change and a
    # bidi override (the console keeps newlines for its page, so the row's name can hold one)
    rows = [demo_row("WhatsApp", HOSTILE), demo_row("Messenger", "Kim")]
    # When the summary is printed
    printed = summary(rows, [200, 200], "http://127.0.0.1:3000")
    lines = printed.splitlines()
    # Then each conversation is one row, the table's columns still line up, and nothing in it acts on the terminal
    assert lines.index("") == 2 + len(rows)
    assert lines[2].startswith("WhatsApp   Dana\\x1b[2J\\x1b]0;pwned\\x07\\r\\n13:07:01.714  process   forged line\\u2028\\u202e\\ud800")
    assert lines[3].startswith("Messenger  Kim ")
    assert lines[2].index("#4014 open") == lines[3].index("#4014 open")
    for raw in ("\x1b", "\x07", "\r", "\u2028", "\u202e", "\ud800"):
        assert raw not in printed


def test_the_demo_summary_of_ordinary_names_is_unchanged() -> None:
    printed = summary([demo_row("Instagram", "@jo.makes 📦 Dana Rodríguez")], [200], "http://127.0.0.1:3000")
    assert printed.splitlines()[2].startswith("Instagram  @jo.makes 📦 Dana Rodríguez  2     #4014 open")


def test_the_demo_summary_shows_a_hostile_name_inside_an_automatic_message_as_escapes() -> None:
    # Given an acknowledgement the sandbox platform sent, which greets the customer by their (hostile) name
    sent = [
        SandboxSend(
            id="sandbox-whatsapp-1",
            platform="whatsapp",
            account_id="1",
            channel="direct_message",
            recipient_id="2",
            text=f"Hola {HOSTILE}, gracias\nRespuesta automática",
            job_id="ack:1",
            kind="acknowledgement",
            language="es",
        )
    ]
    # When the summary is printed
    printed = summary([demo_row("WhatsApp", "Dana")], [200], "http://127.0.0.1:3000", sent)
    # Then its row holds the message's first words, with nothing in them acting on the terminal or starting a line
    row = next(line for line in printed.splitlines() if line.startswith("WhatsApp  direct message"))
    assert "acknowledgement  es" in row
    assert "Hola Dana\\x1b[2J" in row
    for raw in ("\x1b", "\x07", "\r", "\u2028", "\u202e", "\ud800"):
        assert raw not in printed
