"""An agent's reply made in the sandbox helpdesk, carried as Zendesk carries it: the comment is added to the sandbox ticket,
and the ticket event Zendesk would send is signed and POSTed to the local stack's `/webhooks/zendesk`.

From there it takes the deployed path: desk_events → OutboundQueue → outbound → the sandbox platform, and the thread
shows it as the customer receives it. Used by the console's reply form and `socialdesk reply`.
"""

from __future__ import annotations

import urllib.request
from typing import TYPE_CHECKING

import msgspec

from socialdesk.composition.desk import sandbox_desk
from socialdesk.desk.sandbox import SANDBOX_AGENT_ID
from socialdesk.desk.webhook_signature import WEBHOOK_PATH
from socialdesk.desk_events.agent_reply import PRIVATE_TAG
from socialdesk.devtools.zendesk_events import comment_added, signed_request
from socialdesk.sandbox_state import DESK_FILE

if TYPE_CHECKING:
    from pathlib import Path


class ReplyRequest(msgspec.Struct, frozen=True, kw_only=True):
    ticket: int
    text: str
    private: bool = False


class ReplyMade(msgspec.Struct, frozen=True, kw_only=True):
    ticket: int
    comment_id: int
    webhook_status: int
    """What the local stack's `/webhooks/zendesk` answered (200: queued for the outbound function)."""


def reply_in_sandbox(stack_url: str, sandbox_dir: Path, request: ReplyRequest) -> ReplyMade:
    """Add the agent's public comment to the sandbox ticket and deliver Zendesk's event for it; KeyError for no such ticket."""
    desk = sandbox_desk(sandbox_dir / DESK_FILE)
    if request.ticket not in desk.state.tickets:
        raise KeyError(f"no ticket #{request.ticket} in the sandbox helpdesk")
    # The tag says how this reply goes: set for a private one, removed for a public one (not left from an earlier reply).
    private = [PRIVATE_TAG]
    added = desk.add_agent_reply(
        request.ticket, request.text, tags_set=private if request.private else [], tags_removed=[] if request.private else private
    )
    comment_id = added.comment_id
    payload = comment_added(
        ticket_id=request.ticket,
        comment_id=comment_id,
        body=request.text,
        external_id=added.external_id,
        tags=added.tags,
        author_id=SANDBOX_AGENT_ID,
    )
    body, headers = signed_request(payload)
    post = urllib.request.Request(f"{stack_url}{WEBHOOK_PATH}", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(post, timeout=10) as answer:
            status = int(answer.status)
    except urllib.error.HTTPError as refused:
        status = int(refused.code)
    return ReplyMade(ticket=request.ticket, comment_id=comment_id, webhook_status=status)
