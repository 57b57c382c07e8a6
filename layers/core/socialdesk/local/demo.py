"""`socialdesk demo`: the local stack, a realistic morning of social customer service, and what came of it.

Six customers write on five platforms over the last two hours: a WhatsApp thread with a
follow-up (and Meta delivering one message twice), an X mention the brand answered publicly,
a Facebook post where the Page answered one commenter and a second one joined, a Messenger
question, and an Instagram comment nobody answered. A like arrives too. The clock then
moves 90 minutes ahead, and the summary shows every conversation, its ticket, its Salesforce
activity and how long it has waited. Everything is built from the committed samples, re-dated
and signed with the local test secrets.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from socialdesk.devtools.samples import body_json, load, redated, with_json_body
from socialdesk.local.output import printable, say
from socialdesk.local.send import send_event

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager
    from pathlib import Path

    from socialdesk.local.console import ConversationRow
    from socialdesk.local.runner import LocalRunner

ADVANCE = timedelta(minutes=90)
PAGE = "448242228374517"


@dataclass
class Step:
    description: str
    event: dict[str, Any]


class Scenario:
    def __init__(self, events_dir: Path, now: datetime) -> None:
        self._events = events_dir
        self._now = now

    def steps(self) -> list[Step]:
        whatsapp_first = self._whatsapp("wamid.demo-dana-1", "Mi pedido #4411 no ha llegado y nadie me contesta", minutes_ago=55)
        return [
            Step("WhatsApp: Dana writes about a missing order", whatsapp_first),
            Step(
                "X: Sam mentions the brand about an app bug",
                self._x_mention("1952000000000000001", "@AcmeHelp the app logs me out every 5 minutes", minutes_ago=50),
            ),
            Step("Meta delivers Dana's WhatsApp message a second time", whatsapp_first),
            Step("X: the brand answers Sam publicly", self._x_brand_reply("1952000000000000002", "1952000000000000001", minutes_ago=38)),
            Step(
                "Facebook: Lee comments on a post",
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
                "Messenger: Kim asks about delivery times",
                self._messenger("m_demo_kim", "6781111111111111", "Do you deliver to Porto on Saturdays?", minutes_ago=15),
            ),
            Step(
                "Instagram: a comment nobody answers",
                self._instagram("17860000000000001", "jo.makes", "Two weeks and no reply to my email 😡", minutes_ago=100),
            ),
            Step("X: someone likes the brand's answer", self._x_like()),
        ]

    # --- builders, each from a committed sample ---------------------------------------------

    def _sample(self, name: str) -> tuple[dict[str, Any], Any]:
        event = load(self._events / f"{name}.json")
        return event, copy.deepcopy(body_json(event))

    def _signed(self, event: dict[str, Any], payload: Any, minutes_ago: int) -> dict[str, Any]:
        return with_json_body(event, redated(payload, self._now - timedelta(minutes=minutes_ago)))

    def _whatsapp(self, message_id: str, text: str, *, minutes_ago: int) -> dict[str, Any]:
        event, payload = self._sample("meta-whatsapp-text")
        payload["entry"][0]["changes"][0]["value"]["messages"][0].update(id=message_id, text={"body": text})
        return self._signed(event, payload, minutes_ago)

    def _x_mention(self, tweet_id: str, text: str, *, minutes_ago: int) -> dict[str, Any]:
        event, payload = self._sample("x-mention")
        tweet = payload["tweet_create_events"][0]
        tweet.update(id=int(tweet_id), id_str=tweet_id, text=text)
        tweet["user"].update(id=555000111, id_str="555000111", name="Sam Okafor", screen_name="samokafor", followers_count=48200)
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


def run_demo(runner_factory: Callable[[], AbstractContextManager[LocalRunner]], events_dir: Path) -> int:
    """Replay the scenario against a fresh local stack, print the summary, and return the exit code."""
    with runner_factory() as runner:
        say("demo", "replaying a morning of social customer service")
        statuses = []
        for step in Scenario(events_dir, runner.clock()).steps():
            say("demo", step.description)
            status, _ = send_event(runner.url, step.event)
            statuses.append(status)
            runner.wait_until_idle()
        runner.advance(ADVANCE)
        say("demo", f"moved the local clock {int(ADVANCE.total_seconds() // 60)} minutes ahead")
        rows = runner.rows()
        print(summary(rows, statuses, runner.url))
        problems = checks(rows, statuses)
    for problem in problems:
        print(f"check failed: {problem}")
    return 1 if problems else 0


def summary(rows: list[ConversationRow], statuses: list[int], url: str) -> str:
    """The table of conversations and the totals. Every cell goes through `printable`, as every line the local stack prints
    does: a customer's name (theirs to choose) shows its line breaks and escape sequences as escapes, never acting on the
    terminal or starting a line of its own."""
    header = ("Platform", "Customer", "Msgs", "Ticket", "Salesforce", "Brand replies", "Response clock")
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
            )
        )
        for row in rows
    ]
    widths = [max(len(line[column]) for line in table) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    accepted = sum(1 for status in statuses if status == 200)
    lines += [
        "",
        f"{len(statuses)} webhooks sent, {accepted} accepted · {len(rows)} conversations · {sum(1 for row in rows if row.ticket != '—')} tickets · "
        f"{sum(row.salesforce_activities for row in rows)} Salesforce activities · {sum(row.brand_replies for row in rows)} brand replies recognised",
        "Auto-acknowledgements and SLA escalation are not built yet (README, Status): the response clock shows how long each customer has waited.",
        f"The console showed this live at {printable(url)}/ (run `./uvw run socialdesk local` to keep it open).",
    ]
    return "\n".join(lines)


def _activities(count: int) -> str:
    return f"{count} activit{'y' if count == 1 else 'ies'}"


def checks(rows: list[ConversationRow], statuses: list[int]) -> list[str]:
    """What the scenario must have produced; any miss makes the demo exit 1."""
    problems = []
    if any(status != 200 for status in statuses):
        problems.append(f"some webhooks were not accepted: {statuses}")
    by_platform = {row.platform: row for row in rows}
    expectations = {
        "one conversation per thread (5: the two Facebook commenters share their post's)": len(rows) == 5,
        "one ticket per conversation": all(row.ticket.startswith("#") for row in rows) and len({row.ticket for row in rows}) == len(rows),
        "the duplicate WhatsApp delivery absorbed (2 messages)": by_platform.get("WhatsApp") is not None and by_platform["WhatsApp"].messages == 2,
        "the brand's X and Facebook replies recognised": sum(row.brand_replies for row in rows) == 2,
        "every customer message in Salesforce (7)": sum(row.salesforce_activities for row in rows) == 7,
        "the unanswered Instagram comment still waiting": by_platform.get("Instagram") is not None
        and by_platform["Instagram"].waiting_minutes is not None,
    }
    problems += [name for name, met in expectations.items() if not met]
    return problems
