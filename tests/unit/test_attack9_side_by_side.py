"""Attack 9: a follow-up's comment and Task run side by side (process/sides.py). What a Salesforce user sees on the Task
must still be what the sequential pipeline gave: the link of the ticket that holds the customer's words."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from socialdesk.crm.port import CrmRateLimitedError, CrmUnavailableError
from socialdesk.desk.port import DeskRateLimitedError, DeskUnavailableError
from socialdesk.model import SocialEvent
from socialdesk.process.failures import RetryLaterError, WaitError
from socialdesk.rules import load_rules
from tests.support.events import follow_up, sample_event
from tests.support.process_fakes import CrashError
from tests.support.process_world import World, rules

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world() -> World:
    return World()


def _task_links(world: World) -> list[str | None]:
    return [activity.ticket_url for activity in world.crm.activities.values()]


def test_a_follow_ups_task_on_a_closed_ticket_links_the_follow_up_ticket_holding_its_words(world: World) -> None:
    """Given a Messenger conversation whose ticket an agent has since closed
    When the customer writes again (a follow-up ticket is opened, linked to the closed one, holding the new words)
    Then the Salesforce Task of that message links the follow-up ticket, where its words are, not the closed one
    (README: each customer message a Task with the Zendesk ticket link; before the sides ran side by side the Task
    linked the ticket the comment went on)."""
    first = sample_event("meta-messenger-message")
    world.handle(first)
    old = world.ticket_of(first)
    old.status = "closed"
    world.handle(follow_up(first, 1))
    new = world.ticket_of(first)
    assert new.id != old.id and new.comments[0].body == "follow-up 1"
    links = _task_links(world)
    assert len(links) == 2
    assert links[1] is not None and links[1].endswith(f"/{new.id}"), f"Task links {links[1]}, its words are on ticket {new.id}"


def test_a_follow_ups_task_on_a_deleted_ticket_links_the_fresh_ticket(world: World) -> None:
    """Given a conversation whose ticket was deleted in Zendesk
    When the customer writes again (a fresh ticket is opened)
    Then the Task links the fresh ticket, not one that no longer exists (a dead link for the Salesforce user)."""
    first = sample_event("meta-messenger-message")
    world.handle(first)
    old_id = world.ticket_of(first).id
    del world.desk.tickets[old_id]
    world.handle(follow_up(first, 1))
    new = world.ticket_of(first)
    links = _task_links(world)
    assert links[1] is not None and links[1].endswith(f"/{new.id}"), f"Task links deleted ticket {old_id}: {links[1]}"


# --- every effect once, with the two sides really running in two threads ------------------------------------------


def _slow_comment_until_task(world: World, monkeypatch: pytest.MonkeyPatch, task_done: threading.Event) -> None:
    """Zendesk answers the comment only once the Task exists: the two sides truly overlap."""
    add_comment = world.desk.add_comment

    def comment(*args: Any, **kwargs: Any) -> Any:
        task_done.wait(timeout=5)
        return add_comment(*args, **kwargs)

    monkeypatch.setattr(world.desk, "add_comment", comment)


def _once_each(world: World, first: SocialEvent, words: str) -> None:
    assert [c.body for t in world.desk.tickets.values() for c in t.comments].count(words) == 1
    tasks = Counter(activity.event_key for activity in world.crm.activities.values())
    assert set(tasks.values()) == {1}, tasks
    assert len(tasks) == 2


def test_a_crash_after_the_task_while_the_comment_is_in_flight_leaves_one_task_and_one_comment(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a follow-up whose comment and Task run side by side, Zendesk slow to answer
    When the Lambda dies (no `finally` reaches the store) right after Salesforce created the Task, before anything recorded it
    Then SQS's redelivery finds the Task by its event key and the comment by its words: one Task, one comment."""
    first = sample_event("meta-whatsapp-text")
    world.handle(first)
    event = follow_up(first, 1)
    task_done = threading.Event()

    def crash() -> None:
        world.store.dead = True
        task_done.set()
        raise CrashError("Lambda timed out after the Task was created")

    world.crm.after_record = crash
    _slow_comment_until_task(world, monkeypatch, task_done)
    with pytest.raises(CrashError):
        world.handle(event)
    monkeypatch.undo()
    world.store.dead = False
    world.now += timedelta(minutes=6)
    world.process = world.fresh_process()
    world.handle(event, attempt=2)
    _once_each(world, first, "follow-up 1")
    assert world.crm.calls["find_activity"] >= 1


def test_a_zendesk_429_on_the_comment_while_the_task_lands_retries_the_comment_alone(world: World) -> None:
    """Given a follow-up, When Zendesk answers its comment 429 while Salesforce writes its Task side by side
    Then the event waits (not a failure), and once Retry-After is over the retry adds the comment and writes no second Task."""
    first = sample_event("meta-whatsapp-text")
    world.handle(first)
    event = follow_up(first, 1)
    world.desk.failures.add("add_comment", DeskRateLimitedError(30))
    with pytest.raises(WaitError):
        world.handle(event)
    # (Since attack 9b: the Task waits for the retry too, as where the words land is not known until the comment is made.)
    assert len(world.crm.activities) == 1
    world.now += timedelta(seconds=31)
    world.handle(event, attempt=2)
    _once_each(world, first, "follow-up 1")
    assert world.crm.calls["find_activity"] == 0  # a clean try recorded its Task: nothing to look for


def test_salesforce_out_of_allocation_beside_a_landed_comment_writes_the_task_once_later(world: World) -> None:
    """Given a follow-up, When Salesforce answers REQUEST_LIMIT_EXCEEDED while its comment lands side by side
    Then the event waits out the allocation pause, and the retry writes the Task once and adds no second comment."""
    first = sample_event("meta-whatsapp-text")
    world.handle(first)
    event = follow_up(first, 1)
    world.crm.failures.add("record_activity", CrmRateLimitedError("REQUEST_LIMIT_EXCEEDED"))
    with pytest.raises(WaitError):
        world.handle(event)
    world.now += timedelta(days=1)
    world.handle(event, attempt=2)
    _once_each(world, first, "follow-up 1")


def test_a_lost_zendesk_answer_beside_a_lost_salesforce_answer_makes_each_effect_once(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a follow-up, When both sides' answers are lost after their requests were carried out (a Zendesk 504 after the
    comment was made, a Salesforce read timeout after the Task was created), at the same time
    Then the retry looks before it repeats: one comment, one Task."""
    first = sample_event("meta-whatsapp-text")
    world.handle(first)
    event = follow_up(first, 1)
    add_comment = world.desk.add_comment

    def comment_then_lose(*args: Any, **kwargs: Any) -> Any:
        add_comment(*args, **kwargs)
        raise DeskUnavailableError("504 after the comment", uncertain=True)

    def task_then_lose() -> None:
        raise CrmUnavailableError("read timeout after the Task was created")

    monkeypatch.setattr(world.desk, "add_comment", comment_then_lose)
    world.crm.after_record = task_then_lose
    with pytest.raises(RetryLaterError):
        world.handle(event)
    monkeypatch.undo()
    # (Since attack 9b the Task waits until the comment is known made, so its answer is lost on the next try.)
    for attempt in (2, 3):
        world.now += timedelta(minutes=2)
        try:
            world.handle(event, attempt=attempt)
            break
        except RetryLaterError:
            continue
    assert world.crm.after_record is None  # the Task's answer was lost once
    _once_each(world, first, "follow-up 1")


def test_two_containers_handed_the_same_follow_up_at_once_make_each_effect_once(world: World) -> None:
    """Given one follow-up delivered twice at the same moment (SQS at-least-once, two containers)
    When both are processed concurrently, each with its sides in threads
    Then one holds the lease, the other waits: one comment, one Task."""
    first = sample_event("meta-whatsapp-text")
    world.handle(first)
    event = follow_up(first, 1)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def deliver(name: str) -> None:
        process = world.fresh_process()
        barrier.wait()
        try:
            results.append(process.handle(event, delivery_id=name))
        except WaitError as exc:
            results.append(exc)

    threads = [threading.Thread(target=deliver, args=(f"sqs-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    _once_each(world, first, "follow-up 1")


def test_a_follow_up_waits_for_the_slower_side_not_for_both(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given Zendesk's tags call and Salesforce each taking 0.4 s to answer, and the shipped classification (a follow-up
    with a new tag costs a tags call after its comment)
    When a customer's follow-up on a known ticket is processed
    Then it takes about one answer's time, not two (README: the Task is written while Zendesk goes on with the tags)."""
    world = World(rules().model_copy(update={"classification": load_rules(ROOT / "config" / "socialdesk.toml").classification}))
    first = sample_event("meta-whatsapp-text")
    world.handle(first)
    add_tags, record_activity = world.desk.add_tags, world.crm.record_activity

    def slow(call: Any) -> Any:
        def answer(*args: Any, **kwargs: Any) -> Any:
            time.sleep(0.4)
            return call(*args, **kwargs)

        return answer

    monkeypatch.setattr(world.desk, "add_tags", slow(add_tags))
    monkeypatch.setattr(world.crm, "record_activity", slow(record_activity))
    started = time.monotonic()
    world.handle(msgspec.structs.replace(follow_up(first, 1), text="where is my parcel? 😡"))
    took = time.monotonic() - started
    assert took < 0.7, f"{took:.2f} s: the two answers were waited for one after the other"
    _once_each(world, first, "where is my parcel? 😡")
