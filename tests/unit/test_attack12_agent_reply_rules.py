"""Attacks on agents' replies against each platform's rules (issue 12): X's weighted count and link rule, private replies,
replies made only of an attachment or only of a link.

Each test names what an agent or a customer would notice; a failing one is a finding against the current code.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from socialdesk.model.event import Platform
from socialdesk.model.outbound import Channel
from socialdesk.platforms.x_text import weighted_length
from socialdesk.ports.outbound import SendRefusedError, SendTokenRejectedError
from tests.unit.test_agent_reply_rules import meta, reply, with_rules
from tests.unit.test_send_job import World, world  # noqa: F401 (the fixture)


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("🇯🇵", 2),  # a flag: two regional indicators, one emoji for twitter-text
        ("🇺🇸🇪🇸", 4),
        ("1️⃣", 2),  # a keycap sequence: one emoji, weighed 2 (the digit alone would be 1)
        ("#️⃣", 2),
        ("see https://example.com/a.", 28),  # the full stop ends the sentence, not the URL: 4 + 23 + 1
        ("(https://example.com/a)", 25),  # an unbalanced closing parenthesis is not part of the URL
    ],
)
def test_flags_keycaps_and_punctuation_after_links_weigh_as_x_weighs_them(text: str, length: int) -> None:
    """Given a flag or a keycap emoji (one emoji each for twitter-text's emoji parsing), or a link followed by punctuation
    (not part of the link for twitter-text), when weighed, then X's count: the agent is told to shorten exactly when X
    would refuse."""
    assert weighted_length(text) == length


def test_an_x_reply_with_two_flags_that_fits_280_is_sent_not_refused(world: World) -> None:  # noqa: F811
    """Given an agent's public X reply of 274 Latin characters and two flags (278 as X counts: each flag is one emoji, 2),
    when outbound sends it, then it goes out, and no note tells the agent to shorten a reply X would take."""
    world.sender.script = ["1880000000000000777"]
    text = "a" * 274 + "🇯🇵🇺🇸"
    with_rules(world, x_links="send").handle(reply(world, text=text), delivery_id="m1", attempt=1)
    assert [job.text for job in world.sender.sent] == [text], world.notes()


def test_an_x_reply_over_280_with_a_keycap_is_refused_before_x_refuses_it(world: World) -> None:  # noqa: F811
    """Given an agent's public X reply of 279 Latin characters and a keycap emoji (281 as X counts), when outbound sends it,
    then nothing reaches X and the note says how much to shorten (not X's own refusal after a paid call)."""
    world.sender.script = ["1880000000000000777"]
    with_rules(world).handle(reply(world, text="a" * 279 + "1️⃣"), delivery_id="m1", attempt=1)
    assert world.sender.sent == []
    assert "over X's 280" in world.notes()[0]


def test_a_link_written_without_https_is_still_refused_by_the_link_rule(world: World) -> None:  # noqa: F811
    """Given replies.x_links = refuse and an agent's public X reply naming `acme.com/track/4411` (X links bare domains: it
    becomes a t.co link and the post costs 20 times a plain reply), when outbound sends it, then it is refused with a note."""
    world.sender.script = ["1880000000000000777"]
    with_rules(world, x_links="refuse").handle(reply(world, text="Track it at acme.com/track/4411 today"), delivery_id="m1", attempt=1)
    assert world.sender.sent == []
    assert "link" in world.notes()[0]


def test_a_reply_that_is_only_a_link_is_not_sent_empty_when_links_are_stripped(world: World) -> None:  # noqa: F811
    """Given replies.x_links = strip and an agent's public X reply that is only a link, when outbound sends it, then no empty
    post reaches X: the agent gets a note that nothing was left to send."""
    world.sender.script = ["1880000000000000777"]
    with_rules(world, x_links="strip").handle(reply(world, text="https://acme.example/track/4411"), delivery_id="m1", attempt=1)
    assert [job.text for job in world.sender.sent] == [], "an empty X reply was sent"
    assert world.notes() and "not delivered" in world.notes()[0]


def test_stripping_a_link_keeps_the_agents_line_breaks(world: World) -> None:  # noqa: F811
    """Given replies.x_links = strip and an agent's reply written on three lines, when the link is left out, then the rest
    of the text reaches the customer as the agent wrote it, line breaks kept."""
    world.sender.script = ["1880000000000000777"]
    text = "Hi Dana,\nTrack it here: https://acme.example/t/4411\nSorry for the wait."
    with_rules(world, x_links="strip").handle(reply(world, text=text), delivery_id="m1", attempt=1)
    [sent] = world.sender.sent
    assert sent.text.splitlines() == ["Hi Dana,", "Track it here:", "Sorry for the wait."]


@pytest.mark.parametrize(
    ("platform", "channel"),
    # Corrected by fix12: WhatsApp was listed here, but the Cloud API takes an image by URL (`image.link`,
    # developers.facebook.com/docs/whatsapp/cloud-api/messages/image-messages), so a WhatsApp photo is sent (the next
    # test's finding 8; tests/contract/test_agent_reply_senders.py); a Facebook private reply takes text only.
    [(Platform.X, Channel.PUBLIC_REPLY), (Platform.FACEBOOK, Channel.PRIVATE_REPLY), (Platform.INSTAGRAM, Channel.PUBLIC_REPLY)],
)
def test_an_attachment_only_reply_where_files_cannot_go_sends_nothing_empty(world: World, platform: Platform, channel: Channel) -> None:  # noqa: F811
    """Given an agent's public comment with a photo and no words, on a platform that takes no file by URL there, when outbound
    sends it, then no empty message reaches the customer, and the note says the attachment was not sent."""
    world.sender.script = ["1880000000000000777"]
    job = reply(world, platform=platform, channel=channel, text="", attachment_urls=("https://acme.zendesk.com/attachments/token/p/photo.png",))
    with_rules(world).handle(job, delivery_id="m1", attempt=1)
    assert [sent.text for sent in world.sender.sent] == [], "an empty message was sent to the customer"
    assert "photo.png" in world.notes()[0]


@pytest.mark.parametrize(
    "first_failure",
    [
        SendTokenRejectedError("190", "Graph 190: Error validating access token"),
        SendRefusedError("the app lacks the permission to send this (Graph code 10)"),
    ],
)
def test_a_private_reply_that_never_went_out_does_not_use_up_the_comments_one_private_reply(
    world: World,  # noqa: F811
    first_failure: Exception,
) -> None:
    """Given an agent's private reply to a Facebook comment that Meta refused (expired token, missing permission: nothing was
    sent), when the admin fixed it and the agent answers privately again, then the second private reply goes out: the
    ticket must not say "a private reply to this comment was already sent" when none was."""
    world.sender.script = [first_failure, "m_PRIVATE2"]
    use_case = with_rules(world)
    use_case.handle(meta(world, Platform.FACEBOOK, Channel.PRIVATE_REPLY, timedelta(hours=2), job_id="reply:4014:77"), delivery_id="m1", attempt=1)
    use_case.handle(meta(world, Platform.FACEBOOK, Channel.PRIVATE_REPLY, timedelta(hours=2), job_id="reply:4014:78"), delivery_id="m2", attempt=1)
    assert [job.job_id for job in world.sender.sent] == ["reply:4014:78"], world.notes()
    assert not any("already sent" in note for note in world.notes())


def test_an_agent_reply_held_back_by_rate_limits_retry_after_retry_is_told_on_the_ticket(world: World) -> None:  # noqa: F811
    """Given an agent's X reply that X answers 429 on every try (a user-level limit whose window resets hours later), when
    outbound has tried it ten times (each try on a fresh container, as SQS redelivers), then the ticket carries a note that
    the reply is held back by X's rate limit, so the agent knows the customer has not received it yet."""
    from socialdesk.ports.outbound import SendRateLimitedError
    from socialdesk.process.failures import WaitError

    world.sender.script = [SendRateLimitedError(6 * 3600, "X 429 (rate limit; window resets in 21600 s)") for _ in range(10)]
    job = reply(world, text="Your parcel left today.")
    for attempt in range(1, 11):
        with pytest.raises(WaitError):
            with_rules(world).handle(job, delivery_id=f"m{attempt}", attempt=attempt)
    assert len(world.sender.script) == 0 and world.sender.sent == []
    assert any("rate limit" in note for note in world.notes()), world.notes()
