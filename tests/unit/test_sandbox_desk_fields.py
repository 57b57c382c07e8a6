"""The sandbox helpdesk keeps custom fields as Zendesk's Update Ticket does: a comment's update changes the fields it names."""

from __future__ import annotations

from socialdesk.desk.port import Comment, NewTicket
from socialdesk.desk.sandbox import SandboxDesk

CONTEXT_FIELD, STATE_FIELD = 36000000001, 36000000777


def test_a_comment_carrying_the_state_field_replaces_that_field_and_keeps_the_others() -> None:
    """Given a sandbox ticket created with a context field and the state field, when a customer comment carries a new
    state, then the comment is added, the state replaced and the context field kept."""
    desk = SandboxDesk()
    ticket = NewTicket(
        subject="WhatsApp", requester_id=1, body="hello", external_id="k", custom_fields=((CONTEXT_FIELD, "@dana"), (STATE_FIELD, "open until 5 Dec"))
    )
    ticket_id = desk.create_ticket(ticket, idempotency_key="k")
    desk.add_comment(ticket_id, Comment(body="again", public=True, author_id=1), reopen=True, custom_fields=((STATE_FIELD, "open until 6 Dec"),))
    stored = desk.state.tickets[ticket_id]
    assert dict(stored.custom_fields) == {CONTEXT_FIELD: "@dana", STATE_FIELD: "open until 6 Dec"}
    assert [comment.body for comment in stored.comments] == ["hello", "again"]
