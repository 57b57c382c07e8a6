"""Agents' replies against each platform's rules, decided when outbound sends them: every refusal a note saying what to do."""

from __future__ import annotations

from datetime import timedelta

import pytest

from socialdesk.model.event import Platform
from socialdesk.model.outbound import Channel, JobKind, OutboundJob
from socialdesk.outbound.reply_policy import ReplyPolicy
from socialdesk.outbound.send_job import SendJob
from socialdesk.platforms.x_text import weighted_length
from socialdesk.rules import ReplyRules
from tests.unit.test_send_job import NOW, World, world  # noqa: F401 (the fixture)

PAGE = "448242228374517"
COMMENT = "448242228374517_1221316769125949"


def with_rules(world: World, **rules: object) -> SendJob:  # noqa: F811
    return SendJob(
        ledger=world.store,
        senders=world.sender,
        desk=world.desk,
        conversations=world.store,
        clock=lambda: NOW,
        replies=ReplyPolicy(ReplyRules(**rules), world.store),  # type: ignore[arg-type]
        answers=world.store,
    )


def reply(world: World, **changes: object) -> OutboundJob:  # noqa: F811
    fields: dict[str, object] = {"job_id": "reply:4014:77", "kind": JobKind.AGENT_REPLY, "customer_message_at": NOW - timedelta(hours=1)}
    return world.job(**{**fields, **changes})


def meta(world: World, platform: Platform, channel: Channel, age: timedelta, **changes: object) -> OutboundJob:  # noqa: F811
    return reply(world, platform=platform, channel=channel, account_id=PAGE, reply_to_id=COMMENT, customer_message_at=NOW - age, **changes)


def test_an_accepted_agent_reply_is_noted_with_its_id_and_stops_the_response_clock(world: World) -> None:  # noqa: F811
    """Given X takes the agent's reply, when it is sent, then the note names the post id and the answer is recorded once."""
    world.sender.script = ["1880000000000000777"]
    job = reply(world, text="Your parcel left today.")
    with_rules(world).handle(job, delivery_id="m1", attempt=1)
    assert world.notes() == ["Agent reply sent on X as a public reply (post id 1880000000000000777): Your parcel left today."]
    assert world.store.answers == [(job.conversation_key, "1880000000000000777", "agent_reply")]


def test_a_refused_agent_reply_never_stops_the_clock(world: World) -> None:  # noqa: F811
    """Given an X reply over 280 weighted characters, when sent, then nothing goes out, the note says by how much, no answer recorded."""
    text = "배송" * 141  # 282 characters, each Hangul syllable counting 2: 564
    with_rules(world).handle(reply(world, text=text), delivery_id="m1", attempt=1)
    assert world.sender.sent == [] and world.store.answers == []
    [note] = world.notes()
    assert "it is 564 characters as X counts them, over X's 280" in note and "Shorten it by 284" in note


@pytest.mark.parametrize(
    ("rule", "sent_text", "note_part"),
    [
        ("send", "Track it at https://acme.example/t/4411 today", "post id"),
        ("strip", "Track it at today", "the link was left out"),
        ("refuse", None, "a public X reply with a link costs 20 times a plain one"),
    ],
)
def test_a_public_x_reply_with_a_link_follows_the_configured_rule(world: World, rule: str, sent_text: str | None, note_part: str) -> None:  # noqa: F811
    """Given the rules' x_links, when an agent's public X reply holds a link, then it is sent, sent without it, or refused."""
    world.sender.script = ["1880000000000000777"]
    with_rules(world, x_links=rule).handle(reply(world, text="Track it at https://acme.example/t/4411 today"), delivery_id="m1", attempt=1)
    assert [job.text for job in world.sender.sent] == ([sent_text] if sent_text else [])
    [note] = world.notes()
    assert note_part in note


def test_an_x_dm_may_hold_a_link_whatever_the_rule(world: World) -> None:  # noqa: F811
    """Given x_links = refuse, when the reply is an X DM, then it goes out with its link (the rule is about public posts)."""
    world.sender.script = ["1900000000000000001"]
    with_rules(world).handle(reply(world, channel=Channel.DIRECT_MESSAGE, text="See https://acme.example/help"), delivery_id="m1", attempt=1)
    assert [job.text for job in world.sender.sent] == ["See https://acme.example/help"]


def test_whatsapp_outside_the_window_sends_the_configured_template_and_says_so(world: World) -> None:  # noqa: F811
    """Given the customer wrote 30 hours ago and a template is configured, when the agent replies, then the template goes out."""
    world.sender.script = ["wamid.T1"]
    job = reply(world, platform=Platform.WHATSAPP, channel=Channel.DIRECT_MESSAGE, customer_message_at=NOW - timedelta(hours=30))
    with_rules(world, whatsapp_template="agent_follow_up", whatsapp_template_language="en_US").handle(job, delivery_id="m1", attempt=1)
    [sent] = world.sender.sent
    assert (sent.template, sent.language) == ("agent_follow_up", "en_US")
    [note] = world.notes()
    assert "the template 'agent_follow_up' was sent instead of the text" in note


def test_whatsapp_outside_the_window_without_a_template_is_a_note_and_no_call(world: World) -> None:  # noqa: F811
    """Given the customer wrote 30 hours ago and no template, when the agent replies, then no call and the note says what to do."""
    job = reply(world, platform=Platform.WHATSAPP, channel=Channel.DIRECT_MESSAGE, customer_message_at=NOW - timedelta(hours=30))
    with_rules(world).handle(job, delivery_id="m1", attempt=1)
    assert world.sender.sent == []
    [note] = world.notes()
    assert "30 hours ago, outside WhatsApp's 24-hour window" in note and "replies.whatsapp_template" in note


@pytest.mark.parametrize(
    ("age", "accounts", "tag", "note_part"),
    [
        (timedelta(hours=2), (), None, "sent on Messenger"),
        (timedelta(hours=30), (PAGE,), "HUMAN_AGENT", "sent with the HUMAN_AGENT tag"),
        (timedelta(hours=30), (), None, "list the account in replies.human_agent_accounts"),
        (timedelta(days=8), (PAGE,), None, "nothing can reach them until they write again"),
    ],
    ids=["inside 24 h", "human agent", "no permission", "after 7 days"],
)
def test_messenger_answers_within_24_hours_and_with_human_agent_up_to_7_days_only_when_permitted(
    world: World,  # noqa: F811
    age: timedelta,
    accounts: tuple[str, ...],
    tag: str | None,
    note_part: str,
) -> None:
    """Given the customer's last message `age` ago, when the agent replies on Messenger, then RESPONSE, HUMAN_AGENT or a note."""
    world.sender.script = ["m_1"]
    with_rules(world, human_agent_accounts=accounts).handle(meta(world, Platform.MESSENGER, Channel.DIRECT_MESSAGE, age), delivery_id="m1", attempt=1)
    assert [job.messaging_tag for job in world.sender.sent] == ([tag] if "sent" in note_part else [])
    [note] = world.notes()
    assert note_part in note


def test_a_messenger_customer_who_came_from_an_ad_is_answered_for_seven_days_without_a_tag(world: World) -> None:  # noqa: F811
    """Given a Messenger customer who wrote from a Click-to-Messenger ad 3 days ago (Meta: the window "may last up to 7 days"),
    When the agent replies, Then it is sent as a plain RESPONSE, without the HUMAN_AGENT tag; after 8 days a note says why not."""
    world.sender.script = ["m_ad_1"]
    use_case = with_rules(world)
    use_case.handle(meta(world, Platform.MESSENGER, Channel.DIRECT_MESSAGE, timedelta(days=3), from_ad=True), delivery_id="m1", attempt=1)
    assert [job.messaging_tag for job in world.sender.sent] == [None]
    late = meta(world, Platform.MESSENGER, Channel.DIRECT_MESSAGE, timedelta(days=8), from_ad=True, job_id="reply:4014:79")
    use_case.handle(late, delivery_id="m2", attempt=1)
    assert len(world.sender.sent) == 1
    assert "nothing can reach them until they write again" in world.notes()[-1]


def test_a_second_private_reply_to_the_same_comment_is_refused_with_a_note(world: World) -> None:  # noqa: F811
    """Given a private reply sent to a comment, when an agent replies privately to it again, then no call and the note says why."""
    world.sender.script = ["m_private_1", "m_private_2"]
    use_case = with_rules(world)
    use_case.handle(meta(world, Platform.FACEBOOK, Channel.PRIVATE_REPLY, timedelta(hours=1)), delivery_id="m1", attempt=1)
    second = meta(world, Platform.FACEBOOK, Channel.PRIVATE_REPLY, timedelta(hours=1), job_id="reply:4014:78")
    use_case.handle(second, delivery_id="m2", attempt=1)
    assert len(world.sender.sent) == 1
    assert "a private reply to this comment was already sent" in world.notes()[-1]


def test_a_private_reply_after_seven_days_is_refused(world: World) -> None:  # noqa: F811
    """Given a comment 8 days old, when the agent replies privately, then no call and the note says to answer publicly."""
    with_rules(world).handle(meta(world, Platform.INSTAGRAM, Channel.PRIVATE_REPLY, timedelta(days=8)), delivery_id="m1", attempt=1)
    assert world.sender.sent == []
    assert "possible only within 7 days" in world.notes()[0]


def test_attachments_a_platform_cannot_take_by_url_are_listed_in_the_note(world: World) -> None:  # noqa: F811
    """Given an agent's X reply with an attachment, when sent, then the text goes out and the note lists the file not sent."""
    world.sender.script = ["1880000000000000777"]
    with_rules(world).handle(reply(world, attachment_urls=("https://acme.zendesk.com/a/1.png",)), delivery_id="m1", attempt=1)
    assert "1 attachment(s) not sent" in world.notes()[0] and "https://acme.zendesk.com/a/1.png" in world.notes()[0]


def test_acknowledgements_are_left_to_their_own_policy(world: World) -> None:  # noqa: F811
    """Given an automatic acknowledgement over 280 characters (its policy's business), when sent, then the reply rules do not touch it."""
    world.sender.script = ["1880000000000000777"]
    with_rules(world).handle(world.job(text="배송" * 141), delivery_id="m1", attempt=1)
    assert len(world.sender.sent) == 1


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("hello", 5),
        ("안녕하세요", 10),
        ("こんにちは", 10),
        ("café", 4),
        ("see https://example.com/a/very/long/path/that/goes/on/and/on", 27),
        ("👍", 2),
        ("👍🏽", 2),
        ("👨‍👩‍👧", 2),
        ("“quoted” — dash…", 17),  # the ellipsis (U+2026) is outside the light ranges: 2
    ],
)
def test_x_weighted_length_counts_as_twitter_text_does(text: str, length: int) -> None:
    """Given texts in Latin, CJK, with a URL and emoji sequences, when weighed, then X's counts (twitter-text config v3)."""
    assert weighted_length(text) == length
