"""Sandbox platforms: the senders' port kept in memory and in `<sandbox dir>/platforms.json`, for local runs.

A platform whose token PlatformSecret does not hold is answered here instead (outbound/senders.py decides), as the
helpdesk and the CRM have sandboxes. Every send is kept, with the id a platform would have given it, and reported on
the `socialdesk.sandbox` logger: `[sandbox x] reply to 1880000000000000001: "text"`. Never used in a deployed stack.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec

from socialdesk.model.outbound import Channel, OutboundJob
from socialdesk.ports.outbound import SendRefusedError, Sent
from socialdesk.sandbox_state import JsonSandbox, first_line, load_state, report

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

FIRST_MESSAGE_NUMBER = 1


class SandboxSend(msgspec.Struct, kw_only=True):
    id: str
    platform: str
    account_id: str
    channel: str
    recipient_id: str
    text: str
    job_id: str
    reply_to_id: str | None = None
    sent_at: datetime | None = None
    kind: str | None = None
    """The job's kind (acknowledgement, self_service, agent_reply): the demo and the console say which were automatic."""
    language: str | None = None
    conversation_key: str | None = None
    ticket_id: int | None = None
    template: str | None = None
    """The WhatsApp template sent instead of `text` (the customer wrote over 24 hours before)."""
    attachment_urls: tuple[str, ...] = ()
    """The files the job carried by URL (as the real senders send them, after the text): kept with the message here."""


class SandboxPlatformState(msgspec.Struct, kw_only=True):
    next_number: int = FIRST_MESSAGE_NUMBER
    sent: list[SandboxSend] = msgspec.field(default_factory=list)


class SandboxPlatforms(JsonSandbox[SandboxPlatformState]):
    """Every platform at once: `send` behaves like each platform's sender (its channels, its message ids)."""

    def __init__(self, path: Path | None, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__(SandboxPlatformState, path)
        self._clock = clock

    def send(self, job: OutboundJob) -> Sent:
        self._before("send")
        if job.channel != Channel.DIRECT_MESSAGE and not job.reply_to_id:
            raise SendRefusedError(f"a {job.channel} needs the message it answers")
        with self._lock:
            number = self.state.next_number
            self.state.next_number += 1
            message_id = f"sandbox-{job.platform}-{number}"
            self.state.sent.append(
                SandboxSend(
                    id=message_id,
                    platform=job.platform,
                    account_id=job.account_id,
                    channel=job.channel,
                    recipient_id=job.recipient_id,
                    text=job.text,
                    job_id=job.job_id,
                    reply_to_id=job.reply_to_id,
                    sent_at=self._clock(),
                    kind=job.kind,
                    language=job.language,
                    conversation_key=job.conversation_key,
                    ticket_id=job.ticket_id,
                    template=job.template,
                    attachment_urls=job.attachment_urls,
                )
            )
            self._save()
        what = "reply to" if job.channel == Channel.PUBLIC_REPLY else ("private reply to" if job.channel == Channel.PRIVATE_REPLY else "message to")
        target = job.reply_to_id if job.channel != Channel.DIRECT_MESSAGE else job.recipient_id
        said = f"the template {job.template} ({job.language or 'en'})" if job.template is not None else f'"{first_line(job.text)}"'
        report.info("[sandbox %s] %s %s: %s", job.platform, what, target, said)
        return Sent(platform_message_id=message_id)

    @property
    def sent(self) -> list[SandboxSend]:
        with self._lock:
            return list(self.state.sent)


def load_platform_state(path: Path) -> SandboxPlatformState:
    """What the sandbox platforms have sent, as `<sandbox dir>/platforms.json` holds it (empty before the first send)."""
    return load_state(path, SandboxPlatformState)
