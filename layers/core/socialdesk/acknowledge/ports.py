"""What process needs from the outbound side: a queue for jobs, and the record of what we sent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from socialdesk.model.outbound import OutboundJob


class OutboundJobs(Protocol):
    def enqueue(self, job: OutboundJob) -> None:
        """Queue `job` for the outbound function; queuing one job id twice is harmless (outbound sends a job id once)."""
        ...


class SentMessages(Protocol):
    def find_sent(self, platform: str, message_id: str) -> str | None:
        """The job id, if WE sent this platform message (its id as the platform returned it: X post id, Graph message or
        comment id, WhatsApp wamid); None for anything else, such as a person answering in the platform's own app."""
        ...
