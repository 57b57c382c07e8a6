"""A claim taken over from a worker that died right after Zendesk created the ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.events import sample_event
from tests.support.process_fakes import CrashError
from tests.support.process_world import NOW, World, said


def crash() -> None:
    raise CrashError


def test_the_social_context_note_survives_a_crash_after_ticket_creation_and_a_takeover() -> None:
    # Given A's ticket was created and the worker died before adding the context note or recording the ticket
    world = World()
    first = sample_event("meta-whatsapp-text")
    second = said(first, 1, "¿Hola?")
    world.desk.after["create_ticket"] = crash
    with pytest.raises(CrashError):
        world.handle(first)
    # When B arrives after A's claim went stale and joins A's ticket, and A is redelivered afterwards
    world.now = NOW + timedelta(minutes=2)
    world.fresh_process().handle(second, delivery_id="sqs-b")
    world.now = NOW + timedelta(minutes=7)
    world.fresh_process().handle(first, delivery_id=f"sqs-{first.event_id}", attempt=2)
    # Then the ticket holds both messages once and the social context note (README: "otherwise in an internal note")
    key = first.conversation_key
    assert world.public_bodies(key) == [first.text, "¿Hola?"]
    assert [body for body in world.private_bodies(key) if body.startswith("Social context")], world.private_bodies(key)


def test_a_crash_after_ticket_creation_without_a_takeover_keeps_the_context_note() -> None:
    # Given the same crash, and no other message arrives
    world = World()
    first = sample_event("meta-whatsapp-text")
    world.desk.after["create_ticket"] = crash
    with pytest.raises(CrashError):
        world.handle(first)
    # When A is redelivered
    world.now = NOW + timedelta(minutes=7)
    world.fresh_process().handle(first, delivery_id=f"sqs-{first.event_id}", attempt=2)
    # Then one ticket, the words once, and the context note
    assert len(world.desk.tickets) == 1
    assert world.public_bodies(first.conversation_key) == [first.text]
    assert any(body.startswith("Social context") for body in world.private_bodies(first.conversation_key))
