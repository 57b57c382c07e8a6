"""platforms/messaging_state.py: the one line telling the agent what a reply can be and until when, for every platform."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from socialdesk.model.event import EventKind, Platform
from socialdesk.model.outbound import Channel, JobKind, OutboundJob
from socialdesk.platforms.messaging_state import messaging_state, private_reply_used
from socialdesk.rules import ReplyRules

WROTE = datetime(2026, 12, 4, 14, 3, 59, tzinfo=UTC)
PAGE = "448242228374517"


def state(platform: Platform, kind: EventKind, rules: ReplyRules | None = None, *, from_ad: bool = False, private_reply_used: bool = False) -> str:
    return messaging_state(
        platform, kind, WROTE, account_id=PAGE, rules=rules or ReplyRules(), from_ad=from_ad, private_reply_used=private_reply_used
    )


def test_whatsapp_says_free_text_until_24_hours_after_the_customer_then_the_template() -> None:
    """Given a template configured, when a WhatsApp customer wrote at 14:03:59, then free text until 5 Dec 14:03 UTC, then the template."""
    line = state(Platform.WHATSAPP, EventKind.DIRECT_MESSAGE, ReplyRules(whatsapp_template="order_update"))
    assert line == "WhatsApp: 24-hour window open until 5 Dec 14:03 UTC: free text, then a template only"


def test_whatsapp_without_a_template_says_nothing_reaches_the_customer_after_the_window() -> None:
    """Given no template, when the line is made, then after the window it says nothing reaches them and names the key."""
    assert state(Platform.WHATSAPP, EventKind.DIRECT_MESSAGE).endswith("then nothing until the customer writes (no replies.whatsapp_template)")


@pytest.mark.parametrize(("platform", "name"), [(Platform.MESSENGER, "Messenger"), (Platform.INSTAGRAM, "Instagram")])
def test_a_meta_chat_has_the_24_hour_window_and_then_nothing(platform: Platform, name: str) -> None:
    """Given an account without Human Agent permission, when a chat's line is made, then 24 hours, then nothing."""
    assert state(platform, EventKind.DIRECT_MESSAGE) == f"{name}: 24-hour window open until 5 Dec 14:03 UTC, then nothing until the customer writes"


def test_a_listed_human_agent_account_may_answer_for_7_days_with_the_tag() -> None:
    """Given the Page in replies.human_agent_accounts, when its chat's line is made, then the HUMAN_AGENT tag until 11 Dec."""
    line = state(Platform.MESSENGER, EventKind.DIRECT_MESSAGE, ReplyRules(human_agent_accounts=(PAGE,)))
    assert line == "Messenger: 24-hour window open until 5 Dec 14:03 UTC, then the HUMAN_AGENT tag until 11 Dec 14:03 UTC"


def test_a_chat_started_from_a_click_to_messenger_ad_has_7_days() -> None:
    """Given a message from an ad (`from_ad`), when its line is made, then the 7-day ad window's end."""
    line = state(Platform.MESSENGER, EventKind.DIRECT_MESSAGE, from_ad=True)
    assert line == "Messenger: 7-day ad window (Click-to-Messenger) open until 11 Dec 14:03 UTC, then nothing until the customer writes"


@pytest.mark.parametrize(("platform", "name"), [(Platform.FACEBOOK, "Facebook"), (Platform.INSTAGRAM, "Instagram")])
def test_a_comment_may_get_one_private_reply_within_7_days(platform: Platform, name: str) -> None:
    """Given a customer's comment, when its line is made, then a public reply, and one private reply until 7 days after."""
    assert state(platform, EventKind.COMMENT) == (
        f"{name} comment: public reply; a private reply (tag socialdesk_private) is possible until 11 Dec 14:03 UTC (one per comment)"
    )


def test_a_comment_whose_private_reply_was_used_says_so() -> None:
    """Given the comment's one private reply sent, when its line is made, then it says it was used and names no time."""
    assert state(Platform.FACEBOOK, EventKind.COMMENT, private_reply_used=True) == (
        "Facebook comment: public reply; the one private reply to this comment was used"
    )


@pytest.mark.parametrize(
    ("x_links", "links"),
    [("refuse", "no links (rules refuse them)"), ("strip", "links are left out (rules strip them)"), ("send", "links cost 20 times a plain reply")],
)
def test_an_x_post_says_280_characters_and_what_the_rules_do_with_links(x_links: str, links: str) -> None:
    """Given replies.x_links, when an X post's line is made, then 280 characters, the links rule, and the private way."""
    line = state(Platform.X, EventKind.POST, ReplyRules.model_validate({"x_links": x_links}))
    assert line == f"X post: public reply, 280 characters, {links}; answer privately with the tag socialdesk_private (a DM)"


def test_an_x_dm_has_no_window() -> None:
    """Given an X DM, when its line is made, then a DM reply of 280 characters with no window."""
    assert state(Platform.X, EventKind.DIRECT_MESSAGE) == "X DM: reply by DM, 280 characters, no window"


def test_times_are_shown_in_utc_whatever_the_messages_zone() -> None:
    """Given a message time in UTC+5:30 (19:33:59 there), when the line is made, then the end is 14:03 UTC the next day."""
    wrote = WROTE.astimezone(timezone(timedelta(hours=5, minutes=30)))
    line = messaging_state(Platform.WHATSAPP, EventKind.DIRECT_MESSAGE, wrote, account_id=PAGE, rules=ReplyRules())
    assert "until 5 Dec 14:03 UTC" in line


def test_a_window_ending_at_the_turn_of_the_year_names_the_new_days_date() -> None:
    """Given a WhatsApp message at 31 Dec 23:59:30 UTC, when the line is made, then the window ends 1 Jan 23:59 UTC."""
    wrote = datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC)
    line = messaging_state(Platform.WHATSAPP, EventKind.DIRECT_MESSAGE, wrote, account_id=PAGE, rules=ReplyRules())
    assert "until 1 Jan 23:59 UTC" in line


@pytest.mark.parametrize(
    ("channel", "state_field", "written"),
    [(Channel.PRIVATE_REPLY, 777, True), (Channel.PUBLIC_REPLY, 777, False), (Channel.PRIVATE_REPLY, None, False)],
)
def test_only_an_agents_private_reply_marks_it_used_and_only_where_a_field_is_configured(
    channel: Channel, state_field: int | None, written: bool
) -> None:
    """Given an accepted agent reply, when outbound asks what the state field becomes, then a private reply marks the
    comment's one used, a public one changes nothing, and without replies.state_field nothing is written."""
    job = OutboundJob(
        job_id="reply:4014:907", kind=JobKind.AGENT_REPLY, platform=Platform.INSTAGRAM, account_id=PAGE, conversation_key="k", channel=channel,
        recipient_id="1", text="hi", reply_to_id="c1",
    )  # fmt: skip
    expected = ((777, "Instagram comment: public reply; the one private reply to this comment was used"),) if written else ()
    assert private_reply_used(job, state_field) == expected


@pytest.mark.parametrize(
    ("platform", "kind", "expected"),
    [
        (Platform.WHATSAPP, EventKind.DIRECT_MESSAGE, "WhatsApp: 24-hour window open until 24 hours after the customer's last message: free text"),
        (Platform.MESSENGER, EventKind.DIRECT_MESSAGE, "Messenger: 24-hour window open until 24 hours after the customer's last message, then"),
        (
            Platform.FACEBOOK,
            EventKind.COMMENT,
            "Facebook comment: public reply; a private reply (tag socialdesk_private) is possible until 7 days after their comment",
        ),
    ],
)
def test_without_a_time_the_line_counts_from_the_customers_last_message(platform: Platform, kind: EventKind, expected: str) -> None:
    """Given no time (the context note, the same whichever message opened the ticket), when the line is made, then it
    names each window's length from the customer's last message instead of a date."""
    assert messaging_state(platform, kind, None, account_id=PAGE, rules=ReplyRules()).startswith(expected)
