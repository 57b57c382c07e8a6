"""The Instagram mention lookup at the HTTP level: the IG User's mention nodes, answered as the Graph API answers.

Requests as developers.facebook.com documents them (instagram-graph-api/reference/ig-user/mentioned_comment and
mentioned_media: `GET /{ig-user-id}?fields=mentioned_comment.comment_id(<id>){…}`); answers shaped like its samples
(`{"mentioned_comment": {…, "id"}, "id": "<ig-user-id>"}`, ISO timestamps with `+0000`); errors as Graph's error
object (code 190 OAuthException, throttling code 4, a 5xx).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
import responses
from responses import matchers

from socialdesk.model import Author, EventKind
from socialdesk.platforms.instagram_mentions import GraphMentionLookup
from socialdesk.platforms.meta_send import GRAPH_API
from socialdesk.platforms.send_http import platform_session
from socialdesk.ports.mentions import MentionTokenRejectedError, MentionUnavailableError
from tests.support.events import sample_event
from tests.support.fakes import FakeSecrets

IG_USER = "17841405726653026"
URL = f"{GRAPH_API}/{IG_USER}"
MENTION = sample_event("meta-instagram-mention")  # in a comment: comment 17865799348089777 on media 17918195224117851
COMMENT_FIELDS = "mentioned_comment.comment_id(17865799348089777){text,username,timestamp,media{id,permalink}}"
CAPTION_FIELDS = "mentioned_media.media_id(17918195224117851){caption,username,timestamp,permalink}"


def tokens(token: str | None = "IGQVJtoken", *, unavailable: bool = False) -> FakeSecrets:
    """PlatformSecret as the lookup reads it: the Instagram token, none, or unreadable."""
    return FakeSecrets(name="platform secret", current={"instagram_token": token} if token else {}, unavailable=unavailable)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def lookup(secret: FakeSecrets | None = None) -> GraphMentionLookup:
    return GraphMentionLookup(secret or tokens(), platform_session(5))


def graph_error(code: int, message: str, kind: str = "OAuthException") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEfGhIjK"}}


def test_a_mention_in_a_comment_gets_its_words_author_and_link_with_the_token_in_a_header(api: responses.RequestsMock) -> None:
    # Given the Graph API's answer for the mentioned comment
    api.get(
        URL,
        match=[matchers.query_param_matcher({"fields": COMMENT_FIELDS}), matchers.header_matcher({"Authorization": "Bearer IGQVJtoken"})],
        json={
            "mentioned_comment": {
                "text": "@acmehelp my order #4411 never arrived",
                "username": "dana.r",
                "timestamp": "2026-12-04T18:55:00+0000",
                "media": {"id": "17918195224117851", "permalink": "https://www.instagram.com/p/DAbCdEfGhIj/"},
                "id": "17865799348089777",
            },
            "id": IG_USER,
        },
    )
    # When the mention is completed
    completed = lookup().complete(MENTION)
    # Then it carries what the customer wrote, who they are (by username: the node names no user id), and where
    assert completed.text == "@acmehelp my order #4411 never arrived"
    assert completed.author == Author(id="@dana.r", handle="dana.r")
    assert completed.permalink == "https://www.instagram.com/p/DAbCdEfGhIj/"
    # And it is still the same event, in the same conversation
    assert (completed.event_id, completed.conversation_key, completed.content_type) == (MENTION.event_id, MENTION.conversation_key, "mention")


def test_a_mention_in_a_caption_reads_the_mentioned_media(api: responses.RequestsMock) -> None:
    caption = msgspec.structs.replace(MENTION, kind=EventKind.POST, message_id="17918195224117851", event_id="17918195224117851:mention")
    api.get(
        URL,
        match=[matchers.query_param_matcher({"fields": CAPTION_FIELDS})],
        json={
            "mentioned_media": {
                "caption": "Unboxing my new kettle from @acmehelp, lid already broken",
                "username": "kettle_fan",
                "timestamp": "2026-12-04T18:50:00+0000",
                "permalink": "https://www.instagram.com/p/DKettle123/",
                "id": "17918195224117851",
            },
            "id": IG_USER,
        },
    )
    completed = lookup().complete(caption)
    assert completed.text == "Unboxing my new kettle from @acmehelp, lid already broken"
    assert completed.author is not None and completed.author.handle == "kettle_fan"


def test_an_expired_token_is_a_token_rejection_and_no_token_is_one_without_a_call(api: responses.RequestsMock) -> None:
    api.get(URL, status=400, json=graph_error(190, "Error validating access token: Session has expired on Friday, 04-Dec-26."))
    with pytest.raises(MentionTokenRejectedError) as rejected:
        lookup().complete(MENTION)
    assert rejected.value.code == "190"
    with pytest.raises(MentionTokenRejectedError) as missing:
        lookup(tokens(None)).complete(MENTION)
    assert missing.value.code == "missing" and len(api.calls) == 1


def test_throttling_is_a_wait_and_an_outage_or_an_unreadable_secret_a_retry(api: responses.RequestsMock) -> None:
    api.get(URL, status=400, json=graph_error(4, "(#4) Application request limit reached", "OAuthException"))
    api.get(URL, status=503, json=graph_error(2, "An unexpected error has occurred. Please retry your request later."))
    with pytest.raises(MentionUnavailableError) as throttled:
        lookup().complete(MENTION)
    assert throttled.value.throttled and throttled.value.retry_after
    with pytest.raises(MentionUnavailableError) as outage:
        lookup().complete(MENTION)
    assert not outage.value.throttled
    with pytest.raises(MentionUnavailableError):
        lookup(tokens(unavailable=True)).complete(MENTION)


def test_a_mention_the_platform_no_longer_shows_keeps_its_ids(api: responses.RequestsMock) -> None:
    # Given a comment deleted (or comments disabled on the media) since the webhook: Graph answers 400, code 100
    api.get(
        URL, status=400, json=graph_error(100, "Unsupported get request. Object with ID '17865799348089777' does not exist", "GraphMethodException")
    )
    # Then the mention goes on as the webhook gave it (the ticket says where to look), never lost
    assert lookup().complete(MENTION) == MENTION
