"""Crash the process at any one call to Zendesk, Salesforce, the store or the queue, then let SQS redeliver.

A crash is a dead Lambda (timeout, out of memory): nothing after it runs, no `finally` reaches the store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from socialdesk.model import SocialEvent, decode_event
from socialdesk.process.failures import RetryLaterError
from socialdesk.process.process_event import ProcessEvent
from socialdesk.process.sides import Together
from tests.support.process_fakes import CrashError
from tests.support.process_world import World

STORE_WRITES = frozenset(
    {
        "begin_event",
        "save_progress",
        "claim_ticket",
        "mark_creator",
        "set_ticket",
        "record_activity",
        "remember_message",
        "park",
        "unpark",
        "save_customer",
        "bind_alias",
        "pause",
    }
)
DESK_CALLS = frozenset({"upsert_user", "create_ticket", "find_tickets", "add_comment", "has_comment", "add_tags"})
CRM_CALLS = frozenset({"record_activity", "find_activity"})
QUEUE_CALLS = frozenset({"send_all"})
# Tries of one delivery before the harness gives up: enough for an X post to wait out the parent wait in 31 s steps, and a crash.
MAX_ATTEMPTS = 40


class Crasher:
    def __init__(self, world: World, *, at: int | None, after: bool) -> None:
        self.world, self.at, self.after, self.count, self.crashed = world, at, after, 0, False

    def step(self, before: bool) -> None:
        if self.crashed or self.at is None or before == self.after:
            return
        if self.count == self.at:
            self.crashed = True
            self.world.store.dead = True
            raise CrashError(f"crash {'after' if self.after else 'before'} call {self.at}")


class Proxy:
    def __init__(self, target: Any, names: frozenset[str], crasher: Crasher) -> None:
        self._target, self._names, self._crasher = target, names, crasher

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if name not in self._names or not callable(attr):
            return attr
        crasher = self._crasher

        def call(*args: Any, **kwargs: Any) -> Any:
            if crasher.world.store.dead:  # a dead process writes nothing more
                raise CrashError("dead")
            crasher.count += 1
            crasher.step(before=True)
            result = attr(*args, **kwargs)
            crasher.step(before=False)
            return result

        return call


def run(events: list[SocialEvent], *, at: int | None = None, after: bool = False, together: Together | None = None) -> tuple[World, Crasher]:
    """`together`: how a customer message's two sides run (process/sides.py); by default one after the other, Zendesk first,
    so that call `at` is the same call in every run (`side_by_side`, the function's threads, gives any interleaving)."""
    world = World()
    crasher = Crasher(world, at=at, after=after)
    store = Proxy(world.store, STORE_WRITES, crasher)
    desk, crm, queue = (Proxy(world.desk, DESK_CALLS, crasher), Proxy(world.crm, CRM_CALLS, crasher), Proxy(world.queue, QUEUE_CALLS, crasher))

    def process() -> ProcessEvent:
        return ProcessEvent(
            store=store,
            desk=desk,
            crm=crm,
            rules=world.config,
            events=queue,
            clock=lambda: world.now,
            jitter=lambda _: 0,
            together=together or in_order,
        )

    pending = [(event, f"sqs-{event.event_id}", 1) for event in events]
    serial = 0
    while pending:
        event, delivery, attempt = pending.pop(0)
        if attempt >= MAX_ATTEMPTS:
            raise AssertionError(f"{event.dedupe_key} never completed")
        try:
            process().handle(event, delivery_id=delivery, attempt=attempt)
        except CrashError:
            world.store.dead = False
            world.now += timedelta(minutes=6)  # the visibility timeout: SQS hands the same message again
            pending.insert(0, (event, delivery, attempt + 1))
        except RetryLaterError as exc:
            # A delayed copy on the queue: the events behind it go first (an X reply waiting for its parent lets the parent through)
            world.now += timedelta(seconds=exc.delay_seconds + 1)
            pending.append((event, delivery, attempt + 1))
        released, world.queue.messages[:] = list(world.queue.messages), []
        for message in released:
            serial += 1
            pending.append((decode_event(message.body), f"sqs-released-{serial}", 1))
    return world, crasher


def in_order(first: Callable[[], None], second: Callable[[], None]) -> None:
    first()
    second()


def picture(world: World) -> dict[str, Any]:
    """What agents and Salesforce users see: per ticket (by external id) its comments and tags; the Tasks."""
    tickets: dict[str, Any] = {}
    for ticket in world.desk.tickets.values():
        tickets.setdefault(ticket.external_id, []).append(
            (Counter((comment.public, comment.body) for comment in ticket.comments), sorted(ticket.tags), ticket.subject)
        )
    tasks = Counter(activity.event_key for activity in world.crm.activities.values())
    return {"tickets": tickets, "tasks": tasks}
