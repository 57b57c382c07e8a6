"""What X links and what X reads as a mention (twitter-text's rules), so a brand's public reply holds neither by accident."""

from __future__ import annotations

import pytest

from socialdesk.platforms.x_links import has_link, without_links
from socialdesk.platforms.x_mentions import is_handle_of, mentioned_handles, unmentioned


@pytest.mark.parametrize(
    "text",
    ["see https://acme.com", "www.acme.com/refunds", "cheap-followers.com", "details at acme.com/refunds.", "shop.acme.co.uk:8080/x", "münchen.de"],
)
def test_every_form_x_links_is_found_and_removed(text: str) -> None:
    """Given a text holding a web address with a scheme, with www., or bare with a top-level domain
    When it is checked and stripped
    Then it is a link, and none is left."""
    assert has_link(text)
    assert not has_link(without_links(text)), without_links(text)


@pytest.mark.parametrize("text", ["Hi Dana, thanks", "ref #4014 at 10.30", "e.g. tomorrow", "dana@example.com", "v1.2", "#acme.com"])
def test_text_x_does_not_link_is_left_alone(text: str) -> None:
    """Given text with dots that are no host name with a TLD (numbers, abbreviations, e-mail, hashtag)
    Then nothing in it counts as a link."""
    assert not has_link(text)


def test_a_full_width_at_sign_mentions_as_the_ascii_one_does() -> None:
    """Given posts naming @AcmeHelp with "@", with the full-width U+FF20, and inside an e-mail address
    Then the first two mention it and the address does not."""
    assert mentioned_handles("@AcmeHelp hi") == {"acmehelp"}
    assert mentioned_handles("\uff20AcmeHelp 注文") == {"acmehelp"}
    assert mentioned_handles("dana@AcmeHelp.com") == set()
    assert is_handle_of("@acmehelp", ("AcmeHelp", "Acme"))
    assert not is_handle_of("AcmeHelpers", ("AcmeHelp",))


def test_a_name_written_by_the_brand_mentions_no_one() -> None:
    """Given display names made of at signs and handles
    Then their at signs are dropped and the rest kept."""
    assert unmentioned("@AcmeRival") == "AcmeRival"
    assert unmentioned("\uff20Rival and @Other") == "Rival and Other"
    assert mentioned_handles(unmentioned("@AcmeRival \uff20x")) == set()
