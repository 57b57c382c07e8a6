"""Attack on issue 10's "never acknowledge the brand's own posts ... or anything the brand wrote. No loops."

`acknowledgement.x_handles` lists the brand's X handles (README). A brand often runs several (@Acme for marketing,
@AcmeHelp for support, which socialdesk serves); @Acme posting "@AcmeHelp can you look at this?" is the brand talking to
itself. Answering it would put an automated "Hi Acme, a person will answer within the hour" under the brand's own
post, and two handles each served by socialdesk would acknowledge each other.
"""

from __future__ import annotations

import msgspec

from tests.unit.test_acknowledgement import ACK, at_now, decide


def test_a_post_by_another_of_the_brands_own_handles_is_never_acknowledged() -> None:
    """Given the rules naming the brand's handles @AcmeHelp (served) and @Acme
    When @Acme (a different X account of the brand) posts "@AcmeHelp can you look at this customer's order?"
    Then nothing automatic is sent to the brand's own account."""
    rules = ACK.model_copy(update={"x_handles": ("AcmeHelp", "Acme")})
    mention = at_now("x-mention")
    assert mention.author is not None
    own = msgspec.structs.replace(
        mention,
        author=msgspec.structs.replace(mention.author, id="900000000000000002", handle="Acme", display_name="Acme", verified=True),
        text="@AcmeHelp can you look at this customer's order?",
    )
    decision = decide(own, rules=rules)
    assert decision.kind is None, decision.text
