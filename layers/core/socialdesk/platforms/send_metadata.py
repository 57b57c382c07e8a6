"""The `metadata` socialdesk puts on its Messenger sends, which Meta hands back on their echoes (`message_echoes`:
"an optional custom metadata sent by the sender", developers.facebook.com/documentation/business-messaging/
messenger-platform/webhooks/webhook-events/message-echoes; Send API `message.metadata`, at most 1,000 characters).

So the echo of our own send is known as ours even when it overtakes outbound's record of its message id, or that id was
never recorded (the Send API's answer lost): it must never count as a person answering. No customer data goes in it.
"""

from __future__ import annotations

from socialdesk.model.outbound import JobKind, OutboundJob

_AUTOMATIC, _AGENT = "autoack", "reply"
_PREFIXES = tuple(f"{name}:ticket-" for name in (_AUTOMATIC, _AGENT))


def send_metadata(job: OutboundJob) -> str:
    """`autoack:ticket-<id>` on an acknowledgement or automatic answer, `reply:ticket-<id>` on an agent's reply."""
    return f"{_AGENT if job.kind == JobKind.AGENT_REPLY else _AUTOMATIC}:ticket-{job.ticket_id}"


def is_our_metadata(value: object) -> bool:
    """An echo's `metadata` says socialdesk sent it."""
    return isinstance(value, str) and value.startswith(_PREFIXES)
