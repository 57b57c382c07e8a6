"""What each platform lets an agent's reply be, decided when outbound sends it; every refusal says what to do instead.

| platform, channel | rule (source) | otherwise |
|---|---|---|
| WhatsApp | free text within 24 hours of the customer's last message (Cloud API, 131047) | the configured template, else a note |
| Messenger, Instagram DM | `RESPONSE` within 24 hours; `HUMAN_AGENT` tag up to 7 days for accounts the rules list (Send API, message tags) | a note |
| Facebook/Instagram private reply | within 7 days of the comment, one per comment (Private Replies) | a note |
| X | 280 weighted characters (platforms/x_text.py); a public reply with a link as the rules say (X API pricing: $0.200) | a note |
| attachments | by URL: one in a Facebook comment reply; each its own message in a Messenger or WhatsApp chat | not sent, listed in the note |

Sources: developers.facebook.com/docs/messenger-platform/reference/send-api;
developers.facebook.com/documentation/business-messaging/messenger-platform/policy/ (24 hours, `HUMAN_AGENT` 7 days);
developers.facebook.com/documentation/business-messaging/messenger-platform/discovery/private-replies (one per comment,
7 days); `xdevplatform/docs` x-api/getting-started/pricing.mdx; developers.facebook.com/docs/graph-api/reference/object/comments
(`attachment_url`); developers.facebook.com/docs/messenger-platform/send-messages (attachments by URL);
developers.facebook.com/docs/whatsapp/cloud-api/messages/image-messages and .../document-messages (media by `link`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import msgspec

from socialdesk.model.event import Platform
from socialdesk.model.outbound import Channel, JobKind, OutboundJob
from socialdesk.platforms.messaging_windows import AD_MESSAGING_WINDOW, HUMAN_AGENT_WINDOW, MESSAGING_WINDOW, PRIVATE_REPLY_WINDOW
from socialdesk.platforms.x_links import has_link
from socialdesk.platforms.x_text import MAX_WEIGHTED_LENGTH, strip_links, weighted_length
from socialdesk.ports.outbound import SendRefusedError

if TYPE_CHECKING:
    from socialdesk.rules import ReplyRules


class PrivateReplies(Protocol):
    def claim_private_reply(self, platform: str, comment_id: str, *, job_id: str, now: datetime) -> str:
        """The job holding the one private reply to the comment (`job_id` when it is the first, or asks again)."""
        ...

    def release_private_reply(self, platform: str, comment_id: str, *, job_id: str) -> None:
        """Give the private reply back: `job_id` held it, and the platform refused before sending anything."""
        ...


class Prepared(msgspec.Struct, frozen=True, kw_only=True):
    job: OutboundJob
    remarks: tuple[str, ...] = ()
    """What the sent note adds: a template sent instead, a link stripped, attachments not sent."""


class ReplyPolicy:
    def __init__(self, rules: ReplyRules, private_replies: PrivateReplies) -> None:
        self._rules = rules
        self._private = private_replies

    def prepare(self, job: OutboundJob, now: datetime) -> Prepared:
        """The job as it can be sent now, or SendRefusedError with what happened and what the agent can do."""
        if job.kind != JobKind.AGENT_REPLY:
            return Prepared(job=job)
        if not job.text.strip() and job.attachment_urls and not _files_taken(job):
            raise SendRefusedError(
                f"it holds only attachments and no words, and {job.platform} takes no file by URL here, so nothing was sent"
                f" ({', '.join(job.attachment_urls)}). Reply in words with a link to the file, or answer where files go"
            )
        age = now - job.customer_message_at if job.customer_message_at is not None else timedelta(0)
        remarks: list[str] = []
        if job.platform == Platform.X:
            job = self._x(job, remarks)
        elif job.platform == Platform.WHATSAPP:
            job = self._whatsapp(job, age, remarks)
        elif job.channel == Channel.PRIVATE_REPLY:
            self._private_reply(job, age, now)
        elif job.channel == Channel.DIRECT_MESSAGE:
            job = self._meta_message(job, age, remarks)
        taken = _files_taken(job)
        return Prepared(job=msgspec.structs.replace(job, attachment_urls=job.attachment_urls[:taken]), remarks=(*remarks, *_attachments(job, taken)))

    def not_sent(self, job: OutboundJob) -> None:
        """The platform refused the job before sending anything (a token, a permission): a private reply it held is free
        again, as the comment's one private reply was never used."""
        if job.kind == JobKind.AGENT_REPLY and job.channel == Channel.PRIVATE_REPLY and job.reply_to_id is not None:
            self._private.release_private_reply(job.platform, job.reply_to_id, job_id=job.job_id)

    def _x(self, job: OutboundJob, remarks: list[str]) -> OutboundJob:
        if job.channel == Channel.PUBLIC_REPLY and has_link(job.text):
            if self._rules.x_links == "refuse":
                raise SendRefusedError(
                    "it contains a link, and a public X reply with a link costs 20 times a plain one; the rules refuse it"
                    " (replies.x_links). Reply again without the link, or answer privately (tag socialdesk_private: an X DM)"
                )
            if self._rules.x_links == "strip":
                job = msgspec.structs.replace(job, text=strip_links(job.text))
                if not job.text:
                    raise SendRefusedError(
                        "it was only a link, and the rules leave links out of public X replies (replies.x_links = strip):"
                        " nothing was left to send. Reply again in words, or answer privately (tag socialdesk_private: an X DM)"
                    )
                remarks.append("the link was left out (rules: replies.x_links = strip)")
        length = weighted_length(job.text)
        if length > MAX_WEIGHTED_LENGTH:
            raise SendRefusedError(
                f"it is {length} characters as X counts them, over X's {MAX_WEIGHTED_LENGTH} (Chinese, Japanese, Korean and"
                f" emoji count 2, each link 23). Shorten it by {length - MAX_WEIGHTED_LENGTH} and reply again"
            )
        return job

    def _whatsapp(self, job: OutboundJob, age: timedelta, remarks: list[str]) -> OutboundJob:
        if age <= MESSAGING_WINDOW:
            return job
        hours = int(age.total_seconds() // 3600)
        if self._rules.whatsapp_template is None:
            raise SendRefusedError(
                f"the customer last wrote {hours} hours ago, outside WhatsApp's 24-hour window, where only a pre-approved"
                " template reaches them and none is configured (replies.whatsapp_template). Wait for the customer to write,"
                " or contact them another way"
            )
        remarks.append(
            f"outside WhatsApp's 24-hour window (last message {hours} hours ago): the template {self._rules.whatsapp_template!r}"
            " was sent instead of the text; the conversation continues when the customer answers it"
        )
        return msgspec.structs.replace(job, template=self._rules.whatsapp_template, language=self._rules.whatsapp_template_language)

    def _private_reply(self, job: OutboundJob, age: timedelta, now: datetime) -> None:
        if age > PRIVATE_REPLY_WINDOW:
            raise SendRefusedError(
                f"the comment is {age.days} days old, and a private reply is possible only within 7 days of it."
                " Remove the tag socialdesk_private to answer publicly"
            )
        assert job.reply_to_id is not None
        holder = self._private.claim_private_reply(job.platform, job.reply_to_id, job_id=job.job_id, now=now)
        if holder != job.job_id:
            raise SendRefusedError(
                "a private reply to this comment was already sent, and the platform allows one per comment. Answer publicly"
                " (remove the tag socialdesk_private), or in the chat once the customer writes there"
            )

    def _meta_message(self, job: OutboundJob, age: timedelta, remarks: list[str]) -> OutboundJob:
        if age <= (AD_MESSAGING_WINDOW if job.from_ad else MESSAGING_WINDOW):  # 7 days after a Click-to-Messenger/Direct ad
            return job
        hours = int(age.total_seconds() // 3600)
        name = "Messenger" if job.platform == Platform.MESSENGER else "Instagram"
        if age <= HUMAN_AGENT_WINDOW and job.account_id in self._rules.human_agent_accounts:
            remarks.append(f"sent with the HUMAN_AGENT tag ({hours} hours after the customer's last message)")
            return msgspec.structs.replace(job, messaging_tag="HUMAN_AGENT")
        if age <= HUMAN_AGENT_WINDOW:
            raise SendRefusedError(
                f"the customer last wrote {hours} hours ago, outside {name}'s 24-hour window. With Meta's Human Agent"
                " permission an agent may answer for 7 days: list the account in replies.human_agent_accounts once the app"
                " has it. Until then, wait for the customer to write"
            )
        raise SendRefusedError(
            f"the customer last wrote {age.days} days ago, outside {name}'s 24-hour window and the 7 days of the"
            " HUMAN_AGENT tag: nothing can reach them until they write again"
        )


def _files_taken(job: OutboundJob) -> int:
    """How many of the job's attachments its send takes by URL (a WhatsApp template takes none). A reply of attachments
    only, where none can go, is refused: no empty message reaches the customer."""
    if job.platform == Platform.FACEBOOK and job.channel == Channel.PUBLIC_REPLY:
        return min(1, len(job.attachment_urls))
    if job.channel == Channel.DIRECT_MESSAGE and job.template is None and job.platform in (Platform.MESSENGER, Platform.WHATSAPP):
        return len(job.attachment_urls)
    return 0


def _attachments(job: OutboundJob, taken: int) -> tuple[str, ...]:
    """The attachments the send leaves out."""
    left = job.attachment_urls[taken:]
    if not left:
        return ()
    return (f"{len(left)} attachment(s) not sent ({job.platform} takes no file by URL here; share a link in the text): {', '.join(left)}",)
