"""The process use case on in-memory ports (store, helpdesk, CRM, queue) and a clock the test moves: what unit tests drive."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from socialdesk.model import SocialEvent
from socialdesk.process.process_event import ProcessEvent
from socialdesk.rules import RulesConfig
from tests.support.fakes import FakeQueue
from tests.support.process_fakes import FakeCrm, FakeDesk, InMemoryStore

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def rules(**zendesk: Any) -> RulesConfig:
    return RulesConfig.model_validate(
        {"zendesk": {"subdomain": "acme", **zendesk}, "salesforce": {"contact_external_id_field": "Social_Handle__c", "login_domain": "acme.my"}}
    )


class World:
    def __init__(self, config: RulesConfig | None = None) -> None:
        self.store, self.desk, self.crm, self.queue = InMemoryStore(), FakeDesk(clock=lambda: self.now), FakeCrm(), FakeQueue()
        self.now = NOW
        self.config = config or rules()
        self.process = self.fresh_process()

    def fresh_process(self) -> ProcessEvent:
        """A new container: nothing in memory survives but the store, the helpdesk and the CRM."""
        return ProcessEvent(
            store=self.store,
            desk=self.desk,
            crm=self.crm,
            rules=self.config,
            events=self.queue,
            clock=lambda: self.now,
            jitter=lambda _: 0,
            **self.ports(),
        )

    def ports(self) -> dict[str, Any]:
        """The optional ports a world wires besides these (outbound jobs, messages we sent, mention lookups)."""
        return {}

    def handle(self, event: SocialEvent, *, delivery: str | None = None, attempt: int = 1) -> Any:
        return self.process.handle(event, delivery_id=delivery or f"sqs-{event.event_id}", attempt=attempt)

    def handle_released(self) -> None:
        """Handle what parked events were released onto the queue (each a new delivery), until none is left."""
        while self.queue.messages:
            released = self.queue.events[0]
            del self.queue.messages[0]
            self.handle(released, delivery=f"sqs-released-{released.event_id}")

    def ticket_of(self, event: SocialEvent, key: str | None = None) -> Any:
        return self.ticket_for(key or event.conversation_key)

    def ticket_for(self, key: str) -> Any:
        conversation = self.store.conversation(key)
        assert conversation is not None and conversation.ticket_id is not None
        return self.desk.tickets[conversation.ticket_id]

    def public_bodies(self, key: str) -> list[str]:
        return [comment.body for comment in self.ticket_for(key).comments if comment.public]

    def private_bodies(self, key: str) -> list[str]:
        return [comment.body for comment in self.ticket_for(key).comments if not comment.public]


def said(event: SocialEvent, number: int, text: str, *, minutes: int = 5) -> SocialEvent:
    """Another message of the conversation of `event`, with these words."""
    from tests.support.events import follow_up

    return msgspec.structs.replace(follow_up(event, number, minutes=minutes), text=text)
