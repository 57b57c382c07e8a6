"""Instagram mentions' words and authors, fetched through the Graph API with the Instagram token.

A `mentions` webhook names only the media (and the comment) where the brand was @mentioned (Facebook Login:
developers.facebook.com/docs/instagram-platform/webhooks/examples). The IG User's mention nodes read them:
- in a comment: `GET /{ig-user-id}?fields=mentioned_comment.comment_id(<id>){text,username,timestamp,media{id,permalink}}`
  (developers.facebook.com/documentation/instagram-platform/instagram-graph-api/reference/ig-user/mentioned_comment);
- in a caption: `GET /{ig-user-id}?fields=mentioned_media.media_id(<id>){caption,username,timestamp,permalink}`
  (developers.facebook.com/documentation/instagram-platform/instagram-graph-api/reference/ig-user/mentioned_media).
Both answer `{"mentioned_…": {…, "id"}, "id": "<ig-user-id>"}`. Neither names the author's Instagram-scoped id, only
their username: a mention's customer is keyed by `@<username>`.

Errors are read as the senders read them (platforms/meta_send.py `graph_failure`): 190 the token, throttling codes a
wait, a 5xx or a lost connection an outage; another 4xx (the comment deleted, comments disabled on the media) leaves
the mention with ids only, as the webhook gave it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
import requests

from socialdesk.model import Author, EventKind
from socialdesk.observability import logger
from socialdesk.platforms.meta_send import GRAPH_API, graph_failure
from socialdesk.platforms.send_http import json_body
from socialdesk.ports.mentions import MentionTokenRejectedError, MentionUnavailableError
from socialdesk.ports.outbound import SendRateLimitedError, SendTokenRejectedError, SendUncertainError
from socialdesk.ports.secrets import SecretsUnavailableError

if TYPE_CHECKING:
    from socialdesk.model import SocialEvent
    from socialdesk.ports.secrets import Secrets

TOKEN_KEY = "instagram_token"


class GraphMentionLookup:
    """Implements `MentionLookup`; the token is read from PlatformSecret (cached) at each lookup, so a renewed one is
    used without a deploy."""

    def __init__(self, secret: Secrets, session: requests.Session, *, base_url: str = GRAPH_API) -> None:
        self._secret = secret
        self._session = session
        self._base = base_url.rstrip("/")

    def complete(self, event: SocialEvent) -> SocialEvent:
        media_id = event.conversation_key.rpartition(":")[2]
        if event.kind is EventKind.COMMENT:
            node, fields = "mentioned_comment", f"mentioned_comment.comment_id({event.message_id}){{text,username,timestamp,media{{id,permalink}}}}"
        else:
            node, fields = "mentioned_media", f"mentioned_media.media_id({media_id}){{caption,username,timestamp,permalink}}"
        answer = self._get(f"{self._base}/{event.account_id}", fields)
        found = answer.get(node)
        if not isinstance(found, dict):
            return event
        text = found.get("text") if node == "mentioned_comment" else found.get("caption")
        username = found.get("username")
        permalink = (found.get("media") or {}).get("permalink") if node == "mentioned_comment" else found.get("permalink")
        return msgspec.structs.replace(
            event,
            text=text if isinstance(text, str) and text else event.text,
            author=Author(id=f"@{username}", handle=username) if isinstance(username, str) and username else event.author,
            permalink=permalink if isinstance(permalink, str) else event.permalink,
        )

    def _get(self, url: str, fields: str) -> dict[str, Any]:
        try:
            token = next(iter(self._secret.values(TOKEN_KEY)), None)
        except SecretsUnavailableError as exc:
            raise MentionUnavailableError(str(exc)) from exc
        if token is None:
            raise MentionTokenRejectedError("missing", f"PlatformSecret has no {TOKEN_KEY}")
        try:
            response = self._session.get(url, params={"fields": fields}, headers={"Authorization": f"Bearer {token}"})
        except requests.RequestException as exc:
            raise MentionUnavailableError(f"Graph API not reached: {type(exc).__name__}") from exc
        answer = json_body(response)
        if response.status_code == 200 and "error" not in answer:
            return answer
        failure = graph_failure(response.status_code, answer, response.headers)
        if isinstance(failure, SendTokenRejectedError):
            raise MentionTokenRejectedError(failure.code, failure.reason)
        if isinstance(failure, SendRateLimitedError):
            raise MentionUnavailableError(failure.reason, retry_after=failure.retry_after, throttled=True)
        if isinstance(failure, SendUncertainError):
            raise MentionUnavailableError(failure.reason)
        # Refused for good (deleted, hidden, comments disabled): the mention keeps its ids, and the ticket says where to look.
        logger.warning("instagram mention not readable: the ticket shows its ids only", extra={"status": response.status_code})
        return {}
