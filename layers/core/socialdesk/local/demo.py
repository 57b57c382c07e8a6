"""`socialdesk demo`: the local stack, a realistic morning of social customer service, and what came of it.

Eight customers write on five platforms: a Spanish WhatsApp thread with a follow-up (and Meta
delivering one message twice), an X mention the brand answered publicly, a Facebook post where
the Page answered one commenter and a second one joined, a Messenger question after the office
has closed, a Korean Instagram comment nobody answered, a WhatsApp message delivered a day late
and an X post about the brand that does not mention it. A like arrives too. The clock then moves
90 minutes ahead (the SLA check runs every minute on the way and escalates what is overdue), and the
summary shows every conversation, its ticket, its Salesforce activity, how long it has waited and its SLA
state, then every automatic message as the sandbox platforms sent it
(platform, channel, language, first words): acknowledgements in Spanish, English and Korean, an
out-of-hours one, an FAQ answer, and none where the platform's rules forbid one. Everything is
built from the committed samples, re-dated and signed with the local test secrets.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from socialdesk.acknowledge.policy import calendar_of as _rules_calendar_of
from socialdesk.acknowledge.policy import mentions_brand
from socialdesk.calendars import ALWAYS_OPEN, Calendar
from socialdesk.devtools.samples import body_json, load, redated, with_json_body
from socialdesk.local.agent_reply import ReplyRequest, reply_in_sandbox
from socialdesk.local.console import AUTOMATIC_KINDS, shortened
from socialdesk.local.output import printable, say
from socialdesk.local.send import send_event
from socialdesk.model import Platform
from socialdesk.model.outbound import JobKind
from socialdesk.platforms.sandbox_send import SandboxSend, load_platform_state
from socialdesk.process.labels import PLATFORM_LABELS
from socialdesk.sandbox_state import PLATFORMS_FILE

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from socialdesk.local.console import ConversationRow
    from socialdesk.local.runner import LocalRunner
    from socialdesk.rules import RulesConfig

ADVANCE = timedelta(minutes=90)
PAGE = "448242228374517"
BRAND_HANDLES = ("AcmeHelp",)
FIRST_WORDS_CHARS = 80
DISCLOSURES = {"en": "Automated reply", "es": "Respuesta automática", "ko": "자동 응답"}  # config/socialdesk.toml
CLOSED_EN = "We are closed right now"  # config/socialdesk.toml, closed_templates.en


DANA_NUMBER = "16505551234"
AGENT_REPLY = "Hola Dana, soy Ana del equipo de Acme: tu pedido #4411 sale hoy y te llega el jueves."
MARCO_NUMBER = "393471234567"
X_MENTIONED = "1952000000000000001"
X_UNMENTIONED = "1952000000000000003"


@dataclass
class Step:
    description: str
    event: dict[str, Any]
    office_closed: bool = False
    """Sent while the demo's office is closed: the acknowledgement is the out-of-hours one."""


class Scenario:
    def __init__(self, events_dir: Path, now: datetime) -> None:
        self._events = events_dir
        self._now = now

    def steps(self) -> list[Step]:
        whatsapp_first = self._whatsapp("wamid.demo-dana-1", "Mi pedido #4411 no ha llegado y nadie me contesta", minutes_ago=55)
        return [
            Step("WhatsApp: Dana writes about a missing order, in Spanish", whatsapp_first),
            Step(
                "X: Sam mentions the brand about an app bug",
                self._x_mention("1952000000000000001", "@AcmeHelp the app logs me out every 5 minutes", minutes_ago=50),
            ),
            Step("Meta delivers Dana's WhatsApp message a second time", whatsapp_first),
            Step("X: the brand answers Sam publicly", self._x_brand_reply("1952000000000000002", "1952000000000000001", minutes_ago=38)),
            Step(
                "Facebook: Lee comments on a post about a refund",
                self._facebook_comment("demo_1", "Lee Park", "7011111111111111", "Refund still missing after 3 weeks", minutes_ago=45),
            ),
            Step("WhatsApp: Dana follows up", self._whatsapp("wamid.demo-dana-2", "¿Alguna novedad? Es un regalo de cumpleaños", minutes_ago=30)),
            Step(
                "Facebook: the Page answers Lee",
                self._facebook_comment("demo_2", "Acme Help", PAGE, "Hi Lee, we've sent you a DM", minutes_ago=25, parent="demo_1"),
            ),
            Step(
                "Facebook: Ana comments on the same post",
                self._facebook_comment("demo_3", "Ana Silva", "7022222222222222", "Same problem here!", minutes_ago=20),
            ),
            Step(
                "Messenger: Kim asks about delivery times, after the office has closed",
                self._messenger("m_demo_kim", "6781111111111111", "Do you deliver to Porto on Saturdays?", minutes_ago=15),
                office_closed=True,
            ),
            Step(
                "Instagram: Jo comments in Korean, and nobody answers",
                self._instagram("17860000000000001", "jo.makes", "2주째 이메일 답장이 없어요 😡", minutes_ago=100),
            ),
            Step(
                "WhatsApp: Marco's message from yesterday arrives late (outside the 24-hour window)",
                self._whatsapp(
                    "wamid.demo-marco-1", "My parcel was left at the wrong door", minutes_ago=26 * 60, number=MARCO_NUMBER, name="Marco Rossi"
                ),
            ),
            Step(
                "X: Priya posts about the brand without mentioning it",
                self._x_mention(
                    X_UNMENTIONED, "Acme's checkout keeps timing out on me", minutes_ago=10, user=("555000222", "Priya Nair", "priyanair")
                ),
            ),
            Step("X: someone likes the brand's answer", self._x_like()),
        ]

    # --- builders, each from a committed sample ---------------------------------------------

    def _sample(self, name: str) -> tuple[dict[str, Any], Any]:
        event = load(self._events / f"{name}.json")
        return event, copy.deepcopy(body_json(event))

    def _signed(self, event: dict[str, Any], payload: Any, minutes_ago: int) -> dict[str, Any]:
        return with_json_body(event, redated(payload, self._now - timedelta(minutes=minutes_ago)))

    def _whatsapp(self, message_id: str, text: str, *, minutes_ago: int, number: str | None = None, name: str | None = None) -> dict[str, Any]:
        event, payload = self._sample("meta-whatsapp-text")
        value = payload["entry"][0]["changes"][0]["value"]
        value["messages"][0].update(id=message_id, text={"body": text})
        if number is not None:
            value["messages"][0]["from"] = number
            value["contacts"][0]["wa_id"] = number
        if name is not None:
            value["contacts"][0]["profile"] = {"name": name}
        return self._signed(event, payload, minutes_ago)

    def _x_mention(
        self, tweet_id: str, text: str, *, minutes_ago: int, user: tuple[str, str, str] = ("555000111", "Sam Okafor", "samokafor")
    ) -> dict[str, Any]:
        event, payload = self._sample("x-mention")
        tweet = payload["tweet_create_events"][0]
        tweet.update(id=int(tweet_id), id_str=tweet_id, text=text)
        user_id, name, screen_name = user
        tweet["user"].update(id=int(user_id), id_str=user_id, name=name, screen_name=screen_name, followers_count=48200)
        if not mentions_brand(text, BRAND_HANDLES):  # a post about the brand, not to it: no mention, not a reply to it
            tweet.update(in_reply_to_user_id_str=None, in_reply_to_screen_name=None)
            tweet["entities"]["user_mentions"] = []
        return self._signed(event, payload, minutes_ago)

    def _x_brand_reply(self, tweet_id: str, replying_to: str, *, minutes_ago: int) -> dict[str, Any]:
        event, payload = self._sample("x-brand-reply")
        tweet = payload["tweet_create_events"][0]
        tweet.update(id=int(tweet_id), id_str=tweet_id, text="@samokafor Sorry Sam! A fix ships today; updating the app will sort it.")
        tweet.update(in_reply_to_status_id=int(replying_to), in_reply_to_status_id_str=replying_to, in_reply_to_user_id_str="555000111")
        return self._signed(event, payload, minutes_ago)

    def _x_like(self) -> dict[str, Any]:
        event, payload = self._sample("x-like")
        return self._signed(event, payload, 5)

    def _facebook_comment(self, suffix: str, name: str, author: str, text: str, *, minutes_ago: int, parent: str | None = None) -> dict[str, Any]:
        event, payload = self._sample("meta-fb-comment")
        value = payload["entry"][0]["changes"][0]["value"]
        post_id = value["post_id"]
        value.update(comment_id=f"1221316769125949_{suffix}", message=text, parent_id=f"1221316769125949_{parent}" if parent else post_id)
        value["from"] = {"id": author, "name": name}
        return self._signed(event, payload, minutes_ago)

    def _messenger(self, mid: str, sender: str, text: str, *, minutes_ago: int) -> dict[str, Any]:
        event, payload = self._sample("meta-messenger-message")
        item = payload["entry"][0]["messaging"][0]
        item["sender"] = {"id": sender}
        item["message"] = {"mid": mid, "text": text}
        return self._signed(event, payload, minutes_ago)

    def _instagram(self, comment_id: str, username: str, text: str, *, minutes_ago: int) -> dict[str, Any]:
        event, payload = self._sample("meta-instagram-comment")
        value = payload["entry"][0]["changes"][0]["value"]
        value.update(id=comment_id, text=text)
        value["from"] = {"id": "1239999999999999", "username": username}
        return self._signed(event, payload, minutes_ago)


class DemoOffice:
    """The acknowledgement calendar as the demo runs it: the rules' own, open for every step but the one sent "after closing".

    The demo cannot wait for the evening, so its office closes for one step; the out-of-hours acknowledgement then names
    the rules calendar's real next opening (its hours and holidays, today counted as closed)."""

    def __init__(self) -> None:
        self.closed = False
        self._rules_calendar: Calendar = ALWAYS_OPEN

    def calendar_of(self, rules: RulesConfig) -> DemoOffice:
        self._rules_calendar = _rules_calendar_of(rules)
        return self

    @property
    def tz(self) -> ZoneInfo:
        return self._rules_calendar.tz

    def is_open(self, at: datetime | None = None) -> bool:
        return not self.closed

    def next_opening(self, at: datetime) -> datetime | None:
        if not self.closed:
            return at
        today = at.astimezone(self._rules_calendar.tz).date()
        closed_today = dataclasses.replace(self._rules_calendar, closed_dates=self._rules_calendar.closed_dates | {today})
        return closed_today.next_opening(at)


def run_demo(runner_factory: Callable[[], AbstractContextManager[LocalRunner]], events_dir: Path) -> int:
    """Replay the scenario against a fresh local stack, print the summary, and return the exit code."""
    office = DemoOffice()
    with patch("socialdesk.acknowledge.policy.calendar_of", office.calendar_of), runner_factory() as runner:
        say("demo", "replaying a morning of social customer service")
        statuses = []
        for step in Scenario(events_dir, runner.clock()).steps():
            office.closed = step.office_closed
            say("demo", step.description)
            status, _ = send_event(runner.url, step.event)
            statuses.append(status)
            runner.wait_until_idle()
        office.closed = False
        dana = next((row for row in runner.rows() if row.platform == "WhatsApp" and "Dana" in row.customer), None)
        if dana is not None and dana.ticket.startswith("#"):
            say("demo", "an agent answers Dana from the sandbox Zendesk (socialdesk reply)")
            reply_in_sandbox(runner.url, runner.sandbox_dir, ReplyRequest(ticket=int(dana.ticket[1:].split()[0]), text=AGENT_REPLY))
            runner.wait_until_idle()
        runner.advance(ADVANCE)
        say("demo", f"moved the local clock {int(ADVANCE.total_seconds() // 60)} minutes ahead")
        rows = runner.rows()
        sent = load_platform_state(runner.sandbox_dir / PLATFORMS_FILE).sent
        print(summary(rows, statuses, runner.url, sent))
        problems = checks(rows, statuses, sent)
    for problem in problems:
        print(f"check failed: {problem}")
    return 1 if problems else 0


def summary(rows: list[ConversationRow], statuses: list[int], url: str, sent: list[SandboxSend] | None = None) -> str:
    """The table of conversations, the automatic messages the customers received, and the totals. Every cell goes through
    `printable`, as every line the local stack prints does: a customer's name (theirs to choose) shows its line breaks and
    escape sequences as escapes, never acting on the terminal or starting a line of its own."""
    sent = sent or []
    header = ("Platform", "Customer", "Msgs", "Ticket", "Salesforce", "Brand replies", "Response clock", "SLA")
    table = [header] + [
        tuple(
            printable(cell)
            for cell in (
                row.platform,
                row.customer,
                str(row.messages),
                row.ticket,
                _activities(row.salesforce_activities),
                str(row.brand_replies),
                row.clock,
                row.sla,
            )
        )
        for row in rows
    ]
    lines = _aligned(table)
    automatic = [message for message in sent if message.kind in AUTOMATIC_KINDS]
    lines += ["", f"What the customers received automatically ({len(automatic)} messages, each ending with the automated-reply line):", ""]
    lines += _aligned(
        [("Platform", "Channel", "Kind", "Language", "Message id", "First words")]
        + [
            tuple(
                printable(cell)
                for cell in (
                    _platform_label(message.platform),
                    message.channel.replace("_", " "),
                    "FAQ answer" if message.kind == JobKind.SELF_SERVICE else "acknowledgement",
                    message.language or "—",
                    message.id,
                    shortened(message.text.strip().splitlines()[0] if message.text.strip() else "", FIRST_WORDS_CHARS),
                )
            )
            for message in automatic
        ]
    )
    replies = [message for message in sent if message.kind == JobKind.AGENT_REPLY]
    lines += ["", f"What an agent answered from Zendesk ({len(replies)}: Zendesk's signed webhook → desk_events → outbound):", ""]
    lines += [
        printable(f"{_platform_label(message.platform)} {message.channel.replace('_', ' ')} on #{message.ticket_id}, id {message.id}: {message.text}")
        for message in replies
    ]
    accepted = sum(1 for status in statuses if status == 200)
    lines += [
        "",
        f"{len(statuses)} webhooks sent, {accepted} accepted · {len(rows)} conversations · {sum(1 for row in rows if row.ticket != '—')} tickets · "
        f"{sum(row.salesforce_activities for row in rows)} Salesforce activities · "
        f"{sum(row.brand_replies for row in rows)} brand replies recognised · {len(automatic)} automatic messages",
        "Not answered automatically, as the platforms require: Marco's WhatsApp message (outside the 24-hour window, no template "
        "configured) and Priya's X post (it does not mention the brand). Dana's duplicate delivery and follow-up got none either "
        "(one per conversation per window).",
        f"SLA: {sum(1 for row in rows if row.sla.startswith('breached'))} conversations escalated by the SLA check while the clock moved "
        "ahead (tagged sla_breached, raised, noted on the ticket; level 2 alerts the people on call).",
        f"The console showed this live at {printable(url)}/ (run `./uvw run socialdesk local` to keep it open).",
    ]
    return "\n".join(lines)


def _aligned(table: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def _platform_label(value: str) -> str:
    try:
        return PLATFORM_LABELS[Platform(value)]
    except ValueError:
        return value


def _activities(count: int) -> str:
    return f"{count} activit{'y' if count == 1 else 'ies'}"


def checks(rows: list[ConversationRow], statuses: list[int], sent: list[SandboxSend] | None = None) -> list[str]:
    """What the scenario must have produced; any miss makes the demo exit 1."""
    sent = sent or []
    problems = []
    if any(status != 200 for status in statuses):
        problems.append(f"some webhooks were not accepted: {statuses}")
    by_platform: dict[str, list[ConversationRow]] = {}
    for row in rows:
        by_platform.setdefault(row.platform, []).append(row)
    dana = next((row for row in by_platform.get("WhatsApp", []) if "Dana" in row.customer), None)
    instagram = next(iter(by_platform.get("Instagram", [])), None)

    def to(platform: str, recipient: str | None = None, reply_to: str | None = None) -> list[SandboxSend]:
        return [
            message
            for message in sent
            if message.platform == platform
            and (recipient is None or message.recipient_id == recipient)
            and (reply_to is None or message.reply_to_id == reply_to)
        ]

    def disclosed(message: SandboxSend) -> bool:
        return message.kind in AUTOMATIC_KINDS and message.text.rstrip().endswith(DISCLOSURES.get(message.language or "en", DISCLOSURES["en"]))

    messenger, facebook = to("messenger"), to("facebook", "7011111111111111")  # Lee; Ana, on the same post, is acknowledged too
    expectations = {
        "one conversation per thread (7: the two Facebook commenters share their post's)": len(rows) == 7,
        "one ticket per conversation": all(row.ticket.startswith("#") for row in rows) and len({row.ticket for row in rows}) == len(rows),
        "the duplicate WhatsApp delivery absorbed (2 messages)": dana is not None and dana.messages == 2,
        "the brand's X and Facebook replies recognised": sum(row.brand_replies for row in rows) == 2,
        "every customer message in Salesforce (9)": sum(row.salesforce_activities for row in rows) == 9,
        "the unanswered Instagram comment still waiting for a person": instagram is not None and instagram.waiting_minutes is not None,
        "the Facebook post's unanswered refund question (urgent: 6 minutes round the clock) escalated by the SLA check": any(
            row.platform == "Facebook" and row.sla.startswith("breached") for row in rows
        ),
        "a Spanish acknowledgement to Dana on WhatsApp, once despite the duplicate delivery and her follow-up": [
            (message.kind, message.language) for message in to("whatsapp", DANA_NUMBER) if message.kind in AUTOMATIC_KINDS
        ]
        == [(JobKind.ACKNOWLEDGEMENT, "es")],
        "a Korean acknowledgement to Jo's Instagram comment": [(message.kind, message.language) for message in to("instagram")]
        == [(JobKind.ACKNOWLEDGEMENT, "ko")],
        "an English acknowledgement replying to Sam's X mention": [(message.kind, message.channel) for message in to("x", reply_to=X_MENTIONED)]
        == [(JobKind.ACKNOWLEDGEMENT, "public_reply")],
        "an FAQ answer (self-service, disclosed as automated) to Lee's refund question on Facebook": len(facebook) == 1
        and facebook[0].kind == JobKind.SELF_SERVICE
        and disclosed(facebook[0]),
        "an out-of-hours acknowledgement to Kim on Messenger": len(messenger) == 1
        and messenger[0].kind == JobKind.ACKNOWLEDGEMENT
        and CLOSED_EN in messenger[0].text,
        "nothing to Marco on WhatsApp (outside the 24-hour window, no template)": not to("whatsapp", MARCO_NUMBER)
        and any("Marco" in row.customer for row in by_platform.get("WhatsApp", [])),
        "no public reply to Priya's X post (it does not mention the brand)": not to("x", reply_to=X_UNMENTIONED)
        and any("Priya" in row.customer for row in by_platform.get("X", [])),
        "every automatic message disclosed as automated": bool(sent)
        and all(disclosed(message) for message in sent if message.kind != JobKind.AGENT_REPLY),
        "the agent's reply from Zendesk delivered to Dana on WhatsApp, once": [
            message.text for message in to("whatsapp", DANA_NUMBER) if message.kind == JobKind.AGENT_REPLY
        ]
        == [AGENT_REPLY],
    }
    problems += [name for name, met in expectations.items() if not met]
    return problems
