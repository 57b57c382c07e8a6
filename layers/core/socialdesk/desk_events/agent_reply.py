"""The agent-reply sink: an agent's public comment on a socialdesk ticket becomes one reply job for the outbound function.

Only a public comment by staff counts: the customer's own words are public comments authored by the requester (not
staff), and everything else socialdesk writes (context, brand replies from the platforms, send outcomes) is an internal
note, so socialdesk never answers itself. The conversation is the ticket's `external_id` (process sets it to the
conversation key); the reply answers the customer's latest message there (the store's `reply_target`). The job id
`reply:<ticket id>:<comment id>` makes a redelivered webhook, a retried sink or a duplicate job one send: outbound claims
it before the platform call. Whether the platform can take it now (windows, length, links) is outbound's decision, made
when it sends, and every refusal becomes a note.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from socialdesk.model.desk_event import DeskEvent, DeskEventKind
from socialdesk.model.event import EventKind, Platform
from socialdesk.model.outbound import Channel, JobKind, OutboundJob
from socialdesk.observability import MetricUnit, logger, metrics

if TYPE_CHECKING:
    from socialdesk.model.conversation import Conversation, ReplyTarget
    from socialdesk.ports.outbound import OutboundJobs

SOCIALDESK_TAG = "socialdesk"
PRIVATE_TAG = "socialdesk_private"
"""An agent adds this tag (or a macro that adds it) to answer privately: a Facebook/Instagram private reply to the
customer's comment, an X DM instead of a public reply. Remove it to answer publicly again."""


class Conversations(Protocol):
    def conversation(self, key: str) -> Conversation | None: ...


class AgentReplySink:
    """Implements `DeskEventSink`: idempotent on the comment (its job id), so a redelivered event queues the same job."""

    def __init__(self, *, conversations: Conversations, jobs: OutboundJobs) -> None:
        self._conversations = conversations
        self._jobs = jobs

    def on_desk_event(self, event: DeskEvent) -> None:
        comment = event.comment
        if event.kind != DeskEventKind.COMMENT_ADDED or comment is None:
            return
        if not (comment.is_public and comment.author_is_staff and SOCIALDESK_TAG in event.ticket_tags):
            return
        if not comment.body.strip() and not comment.attachment_urls:
            return
        context = {"ticket": event.ticket_id, "comment": comment.id}
        conversation = self._conversations.conversation(event.ticket_external_id) if event.ticket_external_id else None
        if conversation is None or conversation.reply_target is None:
            # Nothing to address: a ticket made by hand with the tag, or a conversation whose record expired (400 days).
            metrics.add_metric(name="AgentReplyUnaddressed", unit=MetricUnit.Count, value=1)
            logger.error("agent reply not sent: the ticket's conversation is unknown, so the customer cannot be reached", extra=context)
            return
        job = reply_job(event, conversation.key, conversation.reply_target, private=PRIVATE_TAG in event.ticket_tags)
        self._jobs.enqueue(job)
        metrics.add_metric(name="AgentRepliesQueued", unit=MetricUnit.Count, value=1)
        logger.info("agent reply queued", extra={**context, "platform": job.platform, "channel": str(job.channel)})


def reply_job(event: DeskEvent, conversation_key: str, target: ReplyTarget, *, private: bool) -> OutboundJob:
    assert event.comment is not None
    platform = Platform(target.platform)
    return OutboundJob(
        job_id=f"reply:{event.ticket_id}:{event.comment.id}",
        kind=JobKind.AGENT_REPLY,
        platform=platform,
        account_id=target.account_id,
        conversation_key=conversation_key,
        channel=_channel(platform, target, private=private),
        recipient_id=target.author_id,
        text=event.comment.body.strip(),
        reply_to_id=target.message_id,
        ticket_id=event.ticket_id,
        customer_message_at=target.at,
        from_ad=target.from_ad,
        decided_at=event.occurred_at,
        attachment_urls=event.comment.attachment_urls,
    )


def _channel(platform: Platform, target: ReplyTarget, *, private: bool) -> Channel:
    """A DM thread is answered there; a post or comment publicly, or with the private tag privately (an X DM)."""
    if target.kind == EventKind.DIRECT_MESSAGE or platform in (Platform.MESSENGER, Platform.WHATSAPP):
        return Channel.DIRECT_MESSAGE
    if not private:
        return Channel.PUBLIC_REPLY
    return Channel.DIRECT_MESSAGE if platform == Platform.X else Channel.PRIVATE_REPLY
