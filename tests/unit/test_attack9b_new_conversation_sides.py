"""Attack 9b: a new conversation's two sides (README, How it works inside, 2 Process: "runs the two sides at the same time
once the customer's words are on a ticket ... Salesforce waits for that one Zendesk call, then writes the Task while
Zendesk goes on with the tags, the context note and the acknowledgement's tag"), timed with slow fakes in real threads."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.support.process_world import World
from tests.unit.test_acknowledgement import AckWorld, at_now

SLOW = 0.3


def _timed(world: World, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, float]]:
    """Each Zendesk and Salesforce call slowed by SLOW seconds, logged as (call, start|end, time)."""
    log: list[tuple[str, str, float]] = []
    lock = threading.Lock()

    def slowed(target: Any, name: str) -> None:
        original = getattr(target, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with lock:
                log.append((name, "start", time.monotonic()))
            time.sleep(SLOW)
            try:
                return original(*args, **kwargs)
            finally:
                with lock:
                    log.append((name, "end", time.monotonic()))

        monkeypatch.setattr(target, name, call)

    for name in ("upsert_user", "create_ticket", "add_comment", "add_tags"):
        slowed(world.desk, name)
    slowed(world.crm, "record_activity")
    return log


def _at(log: list[tuple[str, str, float]], name: str, edge: str, nth: int = 0) -> float:
    return [t for call, e, t in log if call == name and e == edge][nth]


def test_a_new_customers_task_starts_only_once_the_ticket_exists_and_overlaps_the_note_and_tag(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given the shipped rules (context note, acknowledgement) and Zendesk and Salesforce each 0.3 s per call
    When a new WhatsApp customer writes
    Then the Task is started only after the ticket creation has answered (it links that ticket), it runs while Zendesk
    adds the context note and the acknowledgement's tag, and the event takes about 4 calls' time (user, ticket, note,
    tag), not 5: every effect once."""
    world = AckWorld()
    log = _timed(world, monkeypatch)
    event = at_now("meta-whatsapp-text", text="Hola, mi pedido no ha llegado")
    started = time.monotonic()
    world.handle(event)
    took = time.monotonic() - started
    task_start = _at(log, "record_activity", "start")
    assert task_start >= _at(log, "create_ticket", "end")
    assert task_start < _at(log, "add_comment", "end"), "the Task waited for the context note"
    ticket = world.ticket_of(event)
    [activity] = world.crm.activities.values()
    assert activity.ticket_url is not None and activity.ticket_url.endswith(f"/{ticket.id}")
    assert len([c for c in ticket.comments if not c.public]) == 1 and len(world.outbound.jobs) == 1
    assert "auto_acknowledged" in ticket.tags
    assert took < 4 * SLOW + 0.25, f"took {took:.2f} s"
