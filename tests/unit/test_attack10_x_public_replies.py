"""Attack on issue 10's X rule: "never a URL in a public reply (a post with a URL costs 20 times a summoned reply)".

X links a bare domain (`cheap-followers.com`, `acme.com/refunds`) in a post just as it links `https://…`: twitter-text's
autolinker finds URLs without a scheme when the top-level domain is a real one, and X counts and bills them as URLs. The
customer controls their display name, which the shipped templates put first (`Hi {name}, …`), and an operator's answer
may name the help page as people write it.
"""

from __future__ import annotations

import re

import msgspec
import pytest

from socialdesk.model.outbound import Channel
from tests.unit.test_acknowledgement import ACK, at_now, classified, decide

# A link as X's autolinker sees one without a scheme: a host name ending in a real top-level domain, optionally a path.
BARE_DOMAIN = re.compile(r"(?<![\w@.])(?:[a-z0-9-]+\.)+(?:com|net|org|io|shop|de|es)(?:/\S*)?(?![\w])", re.IGNORECASE)


def test_a_customer_whose_display_name_is_a_web_address_does_not_put_a_link_in_the_brands_public_reply() -> None:
    """Given an X customer whose display name is "cheap-followers.com" mentioning @AcmeHelp
    When the shipped rules acknowledge the post with a public reply ("Hi {name}, …")
    Then the public reply holds no web address X would link (or no public reply is sent at all)."""
    mention = at_now("x-mention")
    assert mention.author is not None
    spammer = msgspec.structs.replace(mention, author=msgspec.structs.replace(mention.author, display_name="cheap-followers.com"))
    decision = decide(spammer)
    if decision.kind is not None:
        assert decision.channel is Channel.PUBLIC_REPLY
        assert BARE_DOMAIN.search(decision.text) is None, decision.text


@pytest.mark.parametrize("answer", ["Refunds within 30 days, details at acme.com/refunds.", "Details: www.acme.com/refunds"])
def test_an_answer_naming_the_help_page_without_https_is_posted_in_public_without_a_link(answer: str) -> None:
    """Given a refund answer that names the help page as people write it (with or without www.)
    When it answers a mention of the brand on X in public
    Then the public reply holds no web address X would link; a DM may keep it."""
    rules = ACK.model_copy(update={"answers": {"refund_policy": {"en": answer}}})
    refund = classified("en", intents=("refund_policy",))
    public = decide(at_now("x-mention"), refund, rules)
    assert public.kind is None or BARE_DOMAIN.search(public.text) is None, public.text
    assert "acme.com/refunds" in decide(at_now("x-dm"), refund, rules).text


def test_a_japanese_customer_who_summons_the_brand_with_a_full_width_at_sign_gets_the_public_acknowledgement() -> None:
    """Given a Japanese customer typing in full-width mode: "\uff20AcmeHelp 注文が届きません" (X reads U+FF20 as an @ mention, and
    notifies @AcmeHelp: twitter-text's at signs are "@" and U+FF20)
    When the shipped rules decide
    Then the post counts as summoning the brand and is acknowledged in public, like "@AcmeHelp 注文が届きません"."""
    mention = at_now("x-mention")
    ascii_at = decide(msgspec.structs.replace(mention, text="@AcmeHelp 注文が届きません"), classified("ja", reply_language="ja"))
    assert ascii_at.channel is Channel.PUBLIC_REPLY
    full_width = decide(msgspec.structs.replace(mention, text="\uff20AcmeHelp 注文が届きません"), classified("ja", reply_language="ja"))
    assert full_width.channel is Channel.PUBLIC_REPLY, full_width.reason


def test_a_display_name_that_mentions_another_account_does_not_make_the_brand_mention_it_unsummoned() -> None:
    """Given an X customer whose display name is "@AcmeRival" (X lets display names hold any text) mentioning @AcmeHelp
    When the shipped rules acknowledge with "Hi {name}, …" in public
    Then the brand's automated public reply does not @mention @AcmeRival, who never summoned the brand (X's automation
    rules refuse unsolicited automated mentions, as they refuse unsummoned replies)."""
    mention = at_now("x-mention")
    assert mention.author is not None
    decision = decide(msgspec.structs.replace(mention, author=msgspec.structs.replace(mention.author, display_name="@AcmeRival")))
    if decision.kind is not None:
        assert "@AcmeRival" not in decision.text, decision.text


def test_a_display_name_holding_a_placeholder_is_written_as_is_never_expanded() -> None:
    """Given a customer whose display name is "{response_time} {ticket}"
    When the acknowledgement is rendered
    Then their name appears literally once, and the placeholders of the template are expanded once (no second pass)."""
    mention = at_now("x-dm")
    assert mention.author is not None
    decision = decide(msgspec.structs.replace(mention, author=msgspec.structs.replace(mention.author, display_name="{response_time} {ticket}")))
    assert decision.text.startswith("Hi {response_time} {ticket}, thanks for reaching out."), decision.text
    assert decision.text.count("#4014") == 1
