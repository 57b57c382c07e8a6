"""Attack on issue 10's "acknowledge the customer ... exactly once": several customers commenting on one brand post.

The shipped rules answer Facebook and Instagram comments with a public reply to the comment. The window is "at most
one automatic message per conversation", and a comment's conversation is the post (or media) it is on, which every
commenter shares. A campaign post draws comments from many customers within the hour.
"""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from socialdesk.model import SocialEvent
from tests.support.process_world import NOW
from tests.unit.test_acknowledgement import AckWorld, at_now


def _another_customer(first: SocialEvent, *, minutes: int) -> SocialEvent:
    assert first.author is not None
    return msgspec.structs.replace(
        first,
        event_id=f"{first.event_id}9",
        message_id=f"{first.message_id}9",
        author=msgspec.structs.replace(first.author, id="99999", handle="other.customer", display_name="Other Customer"),
        text="My order never arrived either, nobody answers",
        created_at=NOW + timedelta(minutes=minutes),
    )


@pytest.mark.parametrize("sample", ["meta-fb-comment", "meta-instagram-comment"])
def test_a_second_customer_commenting_on_the_same_brand_post_is_acknowledged_too(sample: str) -> None:
    """Given customer A's comment on a brand post, acknowledged with a public reply
    When customer B, another person, comments on the same post 5 minutes later
    Then B is acknowledged as well, by a reply to B's own comment: A's acknowledgement said nothing to B."""
    world = AckWorld()
    first = at_now(sample)
    world.handle(first)
    second = _another_customer(first, minutes=5)
    world.handle(second)
    replied_to = {(job.recipient_id, job.reply_to_id) for job in world.outbound.distinct.values()}
    assert second.author is not None
    assert (second.author.id, second.message_id) in replied_to, replied_to
