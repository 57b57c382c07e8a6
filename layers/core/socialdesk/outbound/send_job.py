"""Send one outbound job: claimed once, sent through its platform's sender, the outcome written on the ticket.

At most once (architecture principle 2; the platforms have no idempotency key for sends): the job id is claimed by a
conditional write before the platform is called, and a claimed job is never sent again, unless the platform said that
nothing was sent (a rate limit, a refused connection), when the claim is given back and the job waits on the queue.
An answer lost after the request left (a timeout, a 5xx) leaves the send `unknown`: the note says it may not have been
delivered, and nothing is resent. Nothing silent (principle 9): every outcome becomes a metric and, when the job names
a ticket, an internal note the agent sees. A delayed automatic message (the rules' `delay_seconds`) is cancelled, never
sent, when a person answered the conversation after the customer's message: the conversation record says so.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import msgspec

from socialdesk.desk.port import Comment, DeskError
from socialdesk.model.event import Platform
from socialdesk.model.outbound import Channel, JobKind, OutboundJob, decode_job
from socialdesk.observability import TOKEN_REJECTED_METRIC, logger
from socialdesk.platforms.messaging_state import private_reply_used
from socialdesk.ports.outbound import (
    SendError,
    SendNotSentError,
    SendNotSummonedError,
    SendRateLimitedError,
    SendRefusedError,
    SendTokenRejectedError,
    SendUncertainError,
)
from socialdesk.privacy import log_key, log_text
from socialdesk.process.failures import RetryLaterError, WaitError, backoff
from socialdesk.process.sqs_batch import MessageKind, Outcome, count_metric

if TYPE_CHECKING:
    from collections.abc import Callable

    from socialdesk.desk.port import Desk, FieldValue
    from socialdesk.model.desk_event import AnswerLog
    from socialdesk.outbound.reply_policy import ReplyPolicy
    from socialdesk.ports.outbound import Conversations, Senders, Sent
    from socialdesk.store.port import SendLedger, SendStatus

# A claim older than this and never finished belongs to a try that died (the outbound function's timeout is 60 s;
# SQS redelivers after its 360 s visibility timeout): its send is settled as unknown, once, and the ticket told.
ABANDONED_AFTER = timedelta(minutes=5)
# WhatsApp takes free text only within 24 hours of the customer's last message, counted from it; outside, the send
# often returns a wamid and fails later, asynchronously, with 131047 (a `statuses` webhook: `david-lev/pywa`
# docs/source/content/errors/overview.rst), so a job known to be outside is refused before the call.
WHATSAPP_WINDOW = timedelta(hours=24)
# WhatsApp's pair rate (131056, one customer): "retry after 4^X seconds", X from 0, one more per refusal in a row, never
# sooner than the sender's wait (about one message per 6 s to one customer)
# (developers.facebook.com/docs/whatsapp/cloud-api/overview#pair-rate-limits); capped at a minute: the pair allows a
# message about every 6 s, and a longer wait would only delay an acknowledgement meant to arrive within seconds.
PAIR_RATE_BASE = 4
PAIR_RATE_MAX_WAIT = 60

# A job rate limited this many times in a row (any container), or told to wait this long at once, is told on the ticket
# once: the agent learns the customer has not received it yet (it keeps waiting; waits never dead-letter it).
TELL_AFTER_WAITS = 5
LONG_WAIT_SECONDS = 900

PLATFORM_NAMES = {
    Platform.X: "X",
    Platform.FACEBOOK: "Facebook",
    Platform.INSTAGRAM: "Instagram",
    Platform.MESSENGER: "Messenger",
    Platform.WHATSAPP: "WhatsApp",
}
KIND_NAMES = {JobKind.ACKNOWLEDGEMENT: "Automatic acknowledgement", JobKind.SELF_SERVICE: "Automatic answer", JobKind.AGENT_REPLY: "Agent reply"}
CHANNEL_NAMES = {Channel.PUBLIC_REPLY: "a public reply", Channel.PRIVATE_REPLY: "a private reply", Channel.DIRECT_MESSAGE: "a direct message"}

JOBS: MessageKind[OutboundJob] = MessageKind(
    decode=decode_job, conversation_keys=lambda job: (job.conversation_key,), log_name=lambda job: job.job_id, label="outbound job"
)


class SendJob:
    """The outbound use case over one job (the batch driver's handler: `SqsBatch(process=SendJob(...), messages=JOBS)`)."""

    def __init__(
        self,
        *,
        ledger: SendLedger,
        senders: Senders,
        desk: Desk | None,
        conversations: Conversations,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        replies: ReplyPolicy | None = None,
        answers: AnswerLog | None = None,
        state_field: int | None = None,
    ) -> None:
        self._ledger = ledger
        self._conversations = conversations
        self._senders = senders
        self._desk = desk
        self._state_field = state_field
        """The ticket field showing the messaging state (replies.state_field): a private reply sent marks it used."""
        self._clock = clock
        self._replies = replies
        """Agents' replies: what each platform lets them be now (outbound/reply_policy.py)."""
        self._answers = answers
        """Where an accepted agent reply stops the response clock."""
        self._paused: dict[tuple[str, ...], datetime] = {}
        """Until when each sending account, or (WhatsApp's pair rate) each account and customer pair, is rate limited, as
        its platform last said: the container's later jobs for it wait without a call (SQS redelivers to any container;
        another one learns from its own first 429)."""
        self._pair_limits: dict[tuple[str, ...], int] = {}
        """How many times in a row each pair was refused: Meta's "retry after 4^X seconds" counts X per pair."""
        self._lock = threading.Lock()

    def begin_batch(self) -> None:
        """Nothing is shared between a batch's jobs."""

    def handle(self, job: OutboundJob, *, delivery_id: str, attempt: int) -> Outcome:
        outcome = Outcome(event_key=job.job_id, conversation_key=job.conversation_key, ticket_id=job.ticket_id)
        now = self._clock()
        if (wait := self._pause_left(job, now)) is not None:
            raise WaitError(wait, f"{job.platform} rate limit: this account's window resets in {wait} s")
        answered = self._answered_meanwhile(job)
        if not self._ledger.claim_send(job.job_id, now):
            return self._claimed_before(job, now, outcome)
        if answered is not None:
            # A person answered while the automatic message waited: it is never sent, and its claim is never given back.
            self._ledger.finish_send(job.job_id, status="cancelled", platform_message_id=None, reason="a person answered first", now=now)
            self._note(job, cancelled_note(job, answered))
            outcome.actions.append("reply_cancelled")
            return outcome
        remarks: tuple[str, ...] = ()
        try:
            if self._replies is not None:
                prepared = self._replies.prepare(job, now)
                job, remarks = prepared.job, prepared.remarks
            if (outside := _outside_window(job, now)) is not None:
                raise SendRefusedError(outside)
            if _echo_may_outrun_the_answer(job):
                # Before the call: its echo may be processed before the platform's answer names the message (remember_sent).
                self._ledger.mark_sending(job.conversation_key, job.text, job.job_id, now)
            sent, instead_of = self._send(job)
        except SendRateLimitedError as exc:
            # The platform refused before sending anything: the claim is given back, and the job waits (not a failure).
            self._ledger.release_send(job.job_id, self._clock())
            wait = self._pause(job, exc, now)
            self._waited(job, wait, exc.reason, now)
            raise WaitError(wait, f"{job.platform} rate limit: {exc.reason}") from exc
        except SendNotSentError as exc:
            self._ledger.release_send(job.job_id, self._clock())
            raise RetryLaterError(backoff(attempt), f"{job.platform} not reached: {exc.reason}") from exc
        except SendTokenRejectedError as exc:
            count_metric(TOKEN_REJECTED_METRIC)
            logger.error("platform token rejected: an admin must renew it in PlatformSecret", extra={"platform": job.platform, "code": exc.code})
            self._end(job, "failed", None, exc)
            self._not_sent(job)
            self._note(job, token_rejected_note(job, exc))
            outcome.actions.append("reply_token_rejected")
            return outcome
        except SendRefusedError as exc:
            self._end(job, "failed", None, exc)
            self._not_sent(job)
            self._note(job, refused_note(job, exc.reason))
            outcome.actions.append("reply_refused")
            return outcome
        except (SendUncertainError, SendError, Exception) as exc:
            # The request may have left (a timeout, a 5xx, or a bug after it did): at most once means never again.
            if not isinstance(exc, SendError):
                logger.exception("unexpected failure of a send; its fate is unknown and it is not repeated", extra={"job": log_key(job.job_id)})
            reason = exc.reason if isinstance(exc, SendError) else f"unexpected {type(exc).__name__}"
            self._end(job, "unknown", None, SendUncertainError(reason))
            self._note(job, uncertain_note(job, reason))
            outcome.actions.append("reply_uncertain")
            return outcome
        return self._accepted(job, sent, outcome, instead_of=instead_of, remarks=remarks)

    def _waited(self, job: OutboundJob, wait: int, reason: str, now: datetime) -> None:
        """The platform rate limited the job once more: the agent is told once, when it was refused often or must wait long
        (a wait in this container without a call is bounded by what the platform said, and writes nothing)."""
        tell_after = 1 if wait >= LONG_WAIT_SECONDS else TELL_AFTER_WAITS
        if self._ledger.count_wait(job.job_id, now, tell_after=tell_after):
            self._note(job, held_back_note(job, reason, now + timedelta(seconds=wait)))

    def _not_sent(self, job: OutboundJob) -> None:
        """Refused, nothing sent: what the job held for its send (a comment's one private reply) is given back."""
        if self._replies is not None:
            self._replies.not_sent(job)

    def _claimed_before(self, job: OutboundJob, now: datetime, outcome: Outcome) -> Outcome:
        """Claimed before (this job's earlier try, or a duplicate of it): never sent twice."""
        outcome.duplicate = True
        if self._ledger.settle_abandoned(job.job_id, claimed_before=now - ABANDONED_AFTER, now=now):
            # Its earlier try died between the claim and the end (a crash, a timeout): what it sent is unknown.
            self._note(job, uncertain_note(job, "the try that sent it stopped before it finished"))
            outcome.actions.append("reply_uncertain")
        return outcome

    def _accepted(self, job: OutboundJob, sent: Sent, outcome: Outcome, *, instead_of: str | None, remarks: tuple[str, ...]) -> Outcome:
        now = self._clock()
        with self._lock:
            self._pair_limits.pop(_pair(job), None)
        # Remembered before anything else: the echo may arrive within a second, and must be recognised as ours.
        for message_id in (sent.platform_message_id, *sent.more_message_ids):
            self._ledger.remember_sent(job.platform, message_id, job.job_id, job.conversation_key, now)
        self._ledger.finish_send(job.job_id, status="sent", platform_message_id=sent.platform_message_id, reason=None, now=now)
        remarks = (*remarks, *_attachments_sent(job, sent))
        body = " ".join((sent_note(job, sent.platform_message_id, instead_of=instead_of), *(f"Note: {remark}." for remark in remarks)))
        self._note(job, body, custom_fields=private_reply_used(job, self._state_field))
        outcome.actions.append("reply_sent")
        if job.kind == JobKind.AGENT_REPLY and self._answers is not None:
            self._record_answer(job, sent.platform_message_id, now)
        return outcome

    def _send(self, job: OutboundJob) -> tuple[Sent, str | None]:
        """Send on the job's channel; when X refuses the public reply as unsummoned and the job has a fallback, send
        there (the refusal sent nothing, so the claim still covers exactly one message). Also why the fallback went."""
        try:
            return self._senders.sender_for(job).send(job), None
        except SendNotSummonedError as exc:
            if job.fallback_channel is None:
                off = " (acknowledgement.x_dm_fallback is off)" if job.kind is not JobKind.AGENT_REPLY else ""
                raise SendRefusedError(f"{exc.reason}; no direct message was sent instead{off}") from exc
            fallback = msgspec.structs.replace(job, channel=job.fallback_channel, fallback_channel=None)
            logger.info("public reply refused as unsummoned: sending a direct message instead", extra={"job": log_key(job.job_id)})
            return self._senders.sender_for(fallback).send(fallback), f"{CHANNEL_NAMES[fallback.channel]}, as {exc.reason}"

    def _answered_meanwhile(self, job: OutboundJob) -> datetime | None:
        """When a person answered after the customer's message, for a delayed automatic message; else None."""
        if not job.delay_seconds or job.kind is JobKind.AGENT_REPLY or job.customer_message_at is None:
            return None
        conversation = self._conversations.conversation(job.conversation_key)
        answered = conversation.activity.last_brand_at if conversation is not None else None
        return answered if answered is not None and answered >= job.customer_message_at else None

    def _record_answer(self, job: OutboundJob, message_id: str, at: datetime) -> None:
        """The platform accepted an agent's reply: the response clock stops. The send is done whatever becomes of this."""
        assert self._answers is not None
        try:
            self._answers.record_answer(job.conversation_key, at=at, reference=message_id, source="agent_reply")
        except Exception:
            count_metric("AnswerNotRecorded")
            logger.exception("an accepted agent reply could not be recorded as the conversation's answer", extra={"job": log_key(job.job_id)})

    def _pause(self, job: OutboundJob, exc: SendRateLimitedError, now: datetime) -> int:
        """Hold back the jobs the limit covers (the account's, or only this customer's) and say for how long."""
        with self._lock:
            if exc.recipient_only:
                limits = self._pair_limits.get(_pair(job), 0)
                self._pair_limits[_pair(job)] = limits + 1
                wait, scope = min(max(exc.retry_after, int(PAIR_RATE_BASE**limits)), PAIR_RATE_MAX_WAIT), _pair(job)
            else:
                wait, scope = exc.retry_after, (job.platform, job.account_id)
            self._paused[scope] = now + timedelta(seconds=wait)
        return wait

    def _pause_left(self, job: OutboundJob, now: datetime) -> int | None:
        with self._lock:
            paused = [
                until for scope in ((job.platform, job.account_id), _pair(job)) if (until := self._paused.get(scope)) is not None and until > now
            ]
        return max(1, int((max(paused) - now).total_seconds())) if paused else None

    def _end(self, job: OutboundJob, status: SendStatus, message_id: str | None, exc: SendError) -> None:
        logger.warning(
            "reply not delivered" if status == "failed" else "reply may not have been delivered",
            extra={"job": log_key(job.job_id), "platform": job.platform, "status": status, "reason": log_text(exc.reason)},
        )
        self._ledger.finish_send(job.job_id, status=status, platform_message_id=message_id, reason=exc.reason, now=self._clock())

    def _note(self, job: OutboundJob, body: str, *, custom_fields: tuple[FieldValue, ...] = ()) -> None:
        """The truth about the send as an internal note; the send is finished whatever becomes of the note."""
        if job.ticket_id is None or self._desk is None:
            return
        try:
            self._desk.add_comment(job.ticket_id, Comment(body=body, public=False), custom_fields=custom_fields)
        except DeskError as exc:
            count_metric("SendNoteFailed")
            logger.warning("the note about a send could not be written", extra={"ticket": job.ticket_id, "reason": log_text(str(exc))})


def _outside_window(job: OutboundJob, now: datetime) -> str | None:
    """Why a WhatsApp text cannot reach the customer any more, when the job says when they last wrote."""
    if job.platform != Platform.WHATSAPP or job.template is not None or job.customer_message_at is None:
        return None
    if now - job.customer_message_at <= WHATSAPP_WINDOW:
        return None
    hours = int((now - job.customer_message_at).total_seconds() // 3600)
    return f"the customer last wrote {hours} hours ago, outside WhatsApp's 24-hour window (131047); only a template can reach them now"


def _attachments_sent(job: OutboundJob, sent: Sent) -> tuple[str, ...]:
    """What the note says of the attachments the job took: sent (each its own message, or in the comment), or refused."""
    if not job.attachment_urls:
        return ()
    refused = tuple(f"attachment not sent: {item}" for item in sent.unsent)
    went = job.attachment_urls[: len(job.attachment_urls) - len(sent.unsent)]
    return (f"{len(went)} attachment(s) sent: {', '.join(went)}", *refused) if went else refused


def _what(job: OutboundJob) -> str:
    return KIND_NAMES[job.kind]


def _on(job: OutboundJob) -> str:
    return PLATFORM_NAMES.get(job.platform, str(job.platform))


def _message_label(job: OutboundJob) -> str:
    if job.platform == Platform.X:
        return "post id" if job.channel == Channel.PUBLIC_REPLY else "DM event id"
    if job.platform in (Platform.FACEBOOK, Platform.INSTAGRAM) and job.channel == Channel.PUBLIC_REPLY:
        return "comment id"
    return "message id"


def sent_note(job: OutboundJob, message_id: str, *, instead_of: str | None = None) -> str:
    if job.template is not None:
        return (
            f"{_what(job)} sent on {_on(job)} as the template {job.template} ({job.language or 'en'}), as the customer last wrote over"
            f" 24 hours ago ({_message_label(job)} {message_id}); our own text was not sent: {job.text}"
        )
    if instead_of is not None:
        return f"{_what(job)} sent on {_on(job)} as {instead_of} (DM event id {message_id}): {job.text}"
    return f"{_what(job)} sent on {_on(job)} as {CHANNEL_NAMES[job.channel]} ({_message_label(job)} {message_id}): {job.text}"


def token_rejected_note(job: OutboundJob, exc: SendTokenRejectedError) -> str:
    if exc.code == "missing":
        return f"{_what(job)} not delivered: {exc.reason}; an admin must add the {_on(job)} token to PlatformSecret. Not sent: {job.text}"
    said = f"the {_on(job)} token was rejected (code {exc.code})"
    return f"{_what(job)} not delivered: {said}; an admin must renew it in PlatformSecret. Not sent: {job.text}"


def refused_note(job: OutboundJob, reason: str) -> str:
    return f"{_what(job)} not delivered on {_on(job)}: {reason}. Not sent: {job.text}"


def held_back_note(job: OutboundJob, reason: str, until: datetime) -> str:
    return (
        f"{_what(job)} still waiting on {_on(job)}: rate limited by {_on(job)} until about {until:%Y-%m-%d %H:%M} UTC ({reason})."
        f" It is sent when the limit lifts, once; the customer has not received it yet. Text: {job.text}"
    )


def cancelled_note(job: OutboundJob, answered: datetime) -> str:
    return (
        f"{_what(job)} not sent on {_on(job)}: a person answered the conversation first ({answered.astimezone(UTC):%Y-%m-%d %H:%M} UTC),"
        f" during its {job.delay_seconds} s delay. Not sent: {job.text}"
    )


def uncertain_note(job: OutboundJob, reason: str) -> str:
    return (
        f"{_what(job)} may not have been delivered on {_on(job)} ({reason}); it is not sent again, to never send it twice."
        f" Check the conversation on {_on(job)}. Text: {job.text}"
    )


def _pair(job: OutboundJob) -> tuple[str, ...]:
    """The (account, customer) pair a recipient-only limit such as WhatsApp's pair rate covers."""
    return (job.platform, job.account_id, job.recipient_id)


def _echo_may_outrun_the_answer(job: OutboundJob) -> bool:
    """Whether the send's echo may reach process before its id is recorded, and carry nothing else that says it is ours:
    an agent's reply (as before: one write per reply), and automatic messages on X and Facebook/Instagram comments (their
    echoes hold no app id). Automatic messages elsewhere need no mark: Messenger's echoes carry our metadata, Instagram
    DMs' our app id (`meta_app_id`), and WhatsApp's API sends never come back as messages."""
    if job.kind is JobKind.AGENT_REPLY or job.platform in (Platform.X, Platform.FACEBOOK):
        return True
    return job.platform == Platform.INSTAGRAM and job.channel is Channel.PUBLIC_REPLY
