"""Two (or more) process workers interleaved call by call on a deterministic schedule (tests/unit/test_attack7_interleavings.py)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

from socialdesk.model import SocialEvent, decode_event
from socialdesk.process.failures import RetryLaterError
from socialdesk.process.process_event import ProcessEvent
from tests.support.crash_harness import CRM_CALLS, DESK_CALLS, QUEUE_CALLS, STORE_WRITES
from tests.support.process_world import World

STORE_CALLS = STORE_WRITES | {"conversation", "conversation_of_message", "parked", "pauses", "customer"}


class Scheduler:
    def __init__(self, schedule: list[int]) -> None:
        self.schedule = list(schedule)
        self.cv = threading.Condition()
        self.running: set[int] = set()
        self.waiting: set[int] = set()
        self.turn: int | None = None
        self.steps: Counter[int] = Counter()

    def gate(self, worker: int) -> None:
        with self.cv:
            self.running.discard(worker)
            self.waiting.add(worker)
            self.cv.notify_all()
            while self.turn != worker:
                self.cv.wait()
            self.turn = None
            self.waiting.discard(worker)
            self.running.add(worker)
            self.steps[worker] += 1

    def finish(self, worker: int) -> None:
        with self.cv:
            self.running.discard(worker)
            self.cv.notify_all()

    def drive(self, workers: list[threading.Thread]) -> None:
        with self.cv:
            while True:
                while self.running or self.turn is not None:
                    self.cv.wait(timeout=5)
                if not self.waiting:
                    if not any(t.is_alive() for t in workers):
                        return
                    self.cv.wait(timeout=0.01)
                    continue
                choice = None
                while self.schedule:
                    wanted = self.schedule.pop(0)
                    if wanted in self.waiting:
                        choice = wanted
                        break
                if choice is None:
                    choice = min(self.waiting)
                self.turn = choice
                self.cv.notify_all()


class Gated:
    def __init__(self, target: Any, names: frozenset[str], scheduler: Scheduler, local: threading.local) -> None:
        self._target, self._names, self._scheduler, self._local = target, names, scheduler, local

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if name not in self._names or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            worker = getattr(self._local, "worker", None)
            if worker is not None:
                self._scheduler.gate(worker)
            return attr(*args, **kwargs)

        return call


def settle(world: World, pending: list[tuple[SocialEvent, str]], limit: int = 200) -> None:
    serial = 0
    for _ in range(limit):
        released, world.queue.messages[:] = list(world.queue.messages), []
        for message in released:
            serial += 1
            pending.append((decode_event(message.body), f"sqs-released-s{serial}"))
        if not pending:
            return
        event, delivery = pending.pop(0)
        try:
            world.process.handle(event, delivery_id=delivery)
        except RetryLaterError as exc:
            world.now += timedelta(seconds=exc.delay_seconds + 1)
            pending.append((event, delivery))
    raise AssertionError("never settled")


def interleaved(events: list[SocialEvent], schedule: list[int], deliveries: list[str] | None = None) -> tuple[World, Counter[int]]:
    """Run each event in its own worker, concurrently, on `schedule`; then let retries and released events settle."""
    world = World()
    scheduler = Scheduler(schedule)
    local = threading.local()
    store = Gated(world.store, frozenset(STORE_CALLS), scheduler, local)
    desk = Gated(world.desk, frozenset(DESK_CALLS), scheduler, local)
    crm = Gated(world.crm, frozenset(CRM_CALLS), scheduler, local)
    queue = Gated(world.queue, frozenset(QUEUE_CALLS), scheduler, local)
    retry: list[tuple[SocialEvent, str]] = []
    errors: list[BaseException] = []
    deliveries = deliveries or [f"sqs-{n}-{event.event_id}" for n, event in enumerate(events)]

    def work(n: int, event: SocialEvent) -> None:
        local.worker = n
        process = ProcessEvent(store=store, desk=desk, crm=crm, rules=world.config, events=queue, clock=lambda: world.now, jitter=lambda _: 0)
        try:
            process.handle(event, delivery_id=deliveries[n])
        except RetryLaterError:
            retry.append((event, deliveries[n]))
        except BaseException as exc:
            errors.append(exc)
        finally:
            scheduler.finish(n)

    threads = [threading.Thread(target=work, args=(n, event), daemon=True) for n, event in enumerate(events)]
    for thread in threads:
        thread.start()
    scheduler.drive(threads)
    for thread in threads:
        thread.join(timeout=5)
    if errors:
        raise errors[0]
    settle(world, retry)
    return world, scheduler.steps


def seen(world: World) -> dict[str, Any]:
    tickets: dict[str, Any] = {}
    for ticket in world.desk.tickets.values():
        comments = Counter((c.public, c.body) for c in ticket.comments)
        tickets.setdefault(str(ticket.external_id), []).append((comments, sorted(ticket.tags)))
    clocks = {key: conversation.activity for key, conversation in world.store.conversations.items()}
    return {"tickets": tickets, "tasks": Counter(a.event_key for a in world.crm.activities.values()), "clocks": clocks}


def preemption_schedules(steps_a: int, steps_b: int) -> list[list[int]]:
    """A runs k calls, B runs j calls, then A, then B (every single preemption point of both)."""
    out = []
    for k in range(steps_a + 1):
        for j in range(1, steps_b + 1):
            out.append([0] * k + [1] * j + [0] * 100 + [1] * 100)
    return out
