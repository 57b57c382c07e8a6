"""Instagram mentions in process: their words and author fetched before the ticket is written; a fetch that fails for
now waits or retries and never loses the event; a refused or missing token raises the connection-health metric and the
mention still opens its ticket with ids only. The lookup is a scripted fake of the `MentionLookup` port (its HTTP side
is tests/contract/test_instagram_mentions.py)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from socialdesk.model import Author, SocialEvent
from socialdesk.ports.mentions import MentionTokenRejectedError, MentionUnavailableError
from socialdesk.process import process_event
from socialdesk.process.failures import RetryLaterError, WaitError
from tests.support.events import sample_event
from tests.support.process_world import World

MENTION = sample_event("meta-instagram-mention")
WORDS = "@acmehelp my order #4411 never arrived"


class ScriptedMentions:
    """The Graph API's answers in turn: an error to raise, or the words and username it gives."""

    def __init__(self, *script: BaseException | tuple[str, str]) -> None:
        self.script, self.asked = list(script), 0

    def complete(self, event: SocialEvent) -> SocialEvent:
        self.asked += 1
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        text, username = step
        return msgspec.structs.replace(event, text=text, author=Author(id=f"@{username}", handle=username))


class MentionWorld(World):
    def __init__(self, mentions: ScriptedMentions) -> None:
        self.mentions = mentions
        super().__init__()

    def ports(self) -> dict[str, Any]:
        return {"mentions": self.mentions}


@pytest.fixture
def metrics(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    counted: list[str] = []
    monkeypatch.setattr(process_event, "count_metric", lambda name, value=1: counted.append(name))
    return counted


def test_a_mention_becomes_a_ticket_showing_what_the_customer_wrote_and_who(metrics: list[str]) -> None:
    # Given the Graph API knows the mention's words and author
    world = MentionWorld(ScriptedMentions((WORDS, "dana.r")))
    # When the ids-only mention is processed
    world.handle(MENTION)
    # Then the ticket shows the words, requested by the customer (keyed by username), not the placeholder
    ticket = world.ticket_of(MENTION)
    assert ticket.comments[0].body == WORDS
    assert "instagram:@dana.r" in world.desk.users and "instagram:unknown" not in world.desk.users
    assert metrics == []


def test_a_lookup_that_fails_for_now_retries_and_writes_nothing_until_it_succeeds(metrics: list[str]) -> None:
    # Given the Graph API down once, then answering
    world = MentionWorld(ScriptedMentions(MentionUnavailableError("Graph 503"), (WORDS, "dana.r")))
    # When the mention is processed: a retry, counted as a failure, and nothing written
    with pytest.raises(RetryLaterError) as retry:
        world.handle(MENTION)
    assert not isinstance(retry.value, WaitError)
    assert world.desk.tickets == {}
    # And when SQS delivers it again
    world.handle(MENTION, attempt=2)
    # Then one ticket, with the words
    [ticket] = world.desk.tickets.values()
    assert ticket.comments[0].body == WORDS


def test_throttling_is_a_wait_that_never_counts_towards_dead_lettering(metrics: list[str]) -> None:
    world = MentionWorld(ScriptedMentions(MentionUnavailableError("code 4: Application request limit reached", retry_after=300, throttled=True)))
    with pytest.raises(WaitError) as wait:
        world.handle(MENTION)
    assert wait.value.delay_seconds == 300 and not wait.value.counts_as_failure
    assert world.desk.tickets == {}


def test_a_rejected_token_raises_the_metric_and_the_mention_still_opens_its_ticket_with_ids(metrics: list[str]) -> None:
    # Given the Instagram token expired (Graph 190)
    world = MentionWorld(ScriptedMentions(MentionTokenRejectedError("190", "Graph 190: Session has expired")))
    # When the mention is processed
    world.handle(MENTION)
    # Then the connection-health metric is counted, and the ticket says where to read the mention: nothing is lost
    assert metrics == ["PlatformTokenRejected"]
    ticket = world.ticket_of(MENTION)
    assert ticket.comments[0].body.startswith("Mentioned the brand on Instagram (message 17865799348089777)")


def test_a_duplicate_of_a_completed_mention_asks_the_platform_nothing(metrics: list[str]) -> None:
    mentions = ScriptedMentions((WORDS, "dana.r"))
    world = MentionWorld(mentions)
    world.handle(MENTION)
    outcome = world.handle(MENTION, delivery="another-delivery")
    assert outcome.duplicate and mentions.asked == 1
