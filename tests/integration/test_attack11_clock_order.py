"""Attacks on the response clock (issue 11): out-of-order and racing deliveries of what drives it, on moto's table.

Each test moves its own clock (SlaWorld.now); the store, the due index and the conditional writes are the real ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from socialdesk.desk.port import Comment, TicketView
from socialdesk.model.desk_event import DeskEvent, DeskEventKind
from tests.support.process_fakes import CrashError
from tests.support.sla_world import KEY, START, SlaWorld, sla_world


@pytest.fixture
def world() -> Iterator[SlaWorld]:
    with sla_world() as built:
        yield built


def status_event(world: SlaWorld, *, event_id: str, at: datetime, status: str, previous: str) -> DeskEvent:
    return DeskEvent(
        event_id=event_id,
        kind=DeskEventKind.STATUS_CHANGED,
        ticket_id=world.tickets[KEY],
        occurred_at=at,
        ticket_external_id=KEY,
        status=status,
        previous_status=previous,
    )


def test_a_customer_writing_again_after_a_solve_is_escalated_even_when_the_solve_webhook_arrives_after_the_message(world: SlaWorld) -> None:
    """Given an urgent message at 10:00 that an agent solves at 10:03 without replying,
    and the customer writing again at 10:04, whose message process handles before Zendesk's (later) solve webhook
    When the check runs at 10:10 and 10:11 (6 minutes after the new message, round the clock)
    Then the new message's next-response clock breaches at 10:10 as it does when the webhook comes first
    ("any order gives the same ... response clock"; "a customer who writes after a solve starts a next-response clock")."""
    world.customer_writes(KEY, at=START, priority="urgent")
    world.customer_writes(KEY, at=START + timedelta(minutes=4), priority="urgent")
    world.desk_events().on_desk_event(status_event(world, event_id="solve", at=START + timedelta(minutes=3), status="solved", previous="open"))
    world.advance(minutes=10)
    first = world.check().run().escalated
    world.advance(minutes=1)
    second = world.check().run().escalated
    assert first + second == [(KEY, 1)]


def test_a_reopened_ticket_is_escalated_even_when_zendesk_delivers_the_reopening_before_the_solve(world: SlaWorld) -> None:
    """Given an unanswered urgent message at 10:00, its ticket solved at 10:03 and reopened by an agent at 10:20,
    with Zendesk delivering the two status webhooks in the opposite order (webhooks carry no ordering guarantee)
    When the check runs at 10:26 and 10:27
    Then the clock restarted at the reopening and breached at 10:26, as when the webhooks come in order."""
    world.customer_writes(KEY, at=START, priority="urgent")
    reopened = status_event(world, event_id="reopen", at=START + timedelta(minutes=20), status="open", previous="solved")
    solved = status_event(world, event_id="solve", at=START + timedelta(minutes=3), status="solved", previous="open")
    world.desk_events().on_desk_event(reopened)
    world.desk_events().on_desk_event(solved)
    world.advance(minutes=26)
    first = world.check().run().escalated
    world.advance(minutes=1)
    second = world.check().run().escalated
    assert first + second == [(KEY, 1)]


def test_a_customer_writing_after_a_solve_gets_the_next_response_target_not_the_first(world: SlaWorld) -> None:
    """Given the standard policy (first response 30 min, next response 20 min, Berlin hours; Friday 11:00 Berlin is open),
    a message at 10:00 UTC that an agent solves at 10:03 without a reply, and the customer writing again at 10:10
    When the check runs at 10:30 UTC (20 open minutes after the new message)
    Then the new message is breached: README, `next_response_minutes` is "the target for ... a customer who wrote again
    after being answered (or after a solve)"."""
    world.customer_writes(KEY, at=START)
    world.desk_events().on_desk_event(status_event(world, event_id="solve", at=START + timedelta(minutes=3), status="solved", previous="open"))
    world.customer_writes(KEY, at=START + timedelta(minutes=10))
    world.advance(minutes=30)
    assert world.check().run().escalated == [(KEY, 1)]


def test_the_policy_follows_the_kind_of_the_conversation_s_first_message_whatever_order_they_are_processed_in() -> None:
    """Given a policy for X posts (6 min) before a catch-all (60 min), and a conversation whose first message is a post at
    10:00 and whose second is the customer's reply at 10:01, processed in the opposite order (a redelivery, a 429)
    When the check runs at 10:06
    Then the post policy applies ("the kind of its first message"), as it does when they arrive in order."""
    rules = """
[zendesk]
subdomain = "acme"

[sla]
[[sla.policies]]
name = "x_posts"
platforms = ["x"]
kinds = ["post"]
first_response_minutes = 6
next_response_minutes = 6
[[sla.policies.ladder]]
priority = "high"

[[sla.policies]]
name = "everything"
first_response_minutes = 60
next_response_minutes = 60
[[sla.policies.ladder]]
priority = "high"
"""
    with sla_world(rules) as world:
        world.customer_writes(KEY, at=START + timedelta(minutes=1), kind="reply")
        world.customer_writes(KEY, at=START, kind="post")
        world.advance(minutes=6)
        assert world.check().run().escalated == [(KEY, 1)]


def test_a_level_is_noted_and_alerted_once_when_the_customer_writes_again_during_its_escalation(world: SlaWorld) -> None:
    """Given a standard message at 10:00 UTC (30 min, level 2 with an SNS alert 30 min after the breach) reaching level 1
    at 10:30, and at 11:00 the customer writing again, urgently, while the check is writing level 2's note to Zendesk
    When the check runs at 11:00 and then every minute until 11:10
    Then level 2 was noted once and alerted once ("overlapping or repeated runs escalate each level exactly once";
    "no level is ever written twice")."""
    world.customer_writes(KEY, at=START)
    world.advance(minutes=30)
    assert world.check().run().escalated == [(KEY, 1)]
    world.advance(minutes=30)
    real_add_comment = world.desk.add_comment
    wrote: list[bool] = []

    def customer_writes_meanwhile(ticket_id: int, comment: Comment, *, reopen: bool = False, **update: Any) -> TicketView:
        view = real_add_comment(ticket_id, comment, reopen=reopen, **update)
        if not wrote:
            wrote.append(True)
            world.customer_writes(KEY, at=world.now, priority="urgent")
        return view

    world.desk.add_comment = customer_writes_meanwhile  # type: ignore[method-assign]
    for _ in range(10):
        world.check().run()
        world.advance(minutes=1)
    level_two = [note for note in world.notes() if "level 2" in note]
    assert len(level_two) == 1, level_two
    assert len(world.alerts.sent) == 1, world.alerts.sent


def test_a_run_that_dies_after_publishing_a_level_s_alert_does_not_page_the_on_call_people_twice(world: SlaWorld) -> None:
    """Given a standard message at 10:00 UTC, level 1 at 10:30, and level 2 (SNS alert) due at 11:00, and the 11:00 run
    dying right after it published the alert (Lambda timeout or crash before it recorded the level)
    When the following runs take the level over once its lease (120 s) has passed
    Then the on-call people got one alert for level 2 and the ticket one level-2 note ("exactly once per level";
    the alert topic is a standard SNS topic feeding e-mail, which cannot filter a repeat)."""
    world.customer_writes(KEY, at=START)
    world.advance(minutes=30)
    assert world.check().run().escalated == [(KEY, 1)]
    world.advance(minutes=30)
    real_breached = world.metrics.breached

    def dies_once(**values: object) -> None:
        world.metrics.breached = real_breached  # type: ignore[method-assign]
        raise CrashError("the run died after the alert")

    world.metrics.breached = dies_once  # type: ignore[method-assign]
    with pytest.raises(CrashError):
        world.check().run()
    for _ in range(5):
        world.advance(minutes=1)
        world.check().run()
    assert len([note for note in world.notes() if "level 2" in note]) == 1
    assert len(world.alerts.sent) == 1, world.alerts.sent


def test_the_breach_note_states_the_due_time_in_utc_when_zendesk_stamps_the_reopening_with_an_offset(world: SlaWorld) -> None:
    """Given an unanswered urgent message at 10:00 UTC, solved at 10:03, and reopened at 10:20 UTC by a webhook whose
    `time` carries an offset (`2026-12-04T19:20:00+09:00`: desk_events/parse.py accepts any ISO 8601 offset)
    When the check runs at 10:26 UTC
    Then the level-1 note says the response was due at 2026-12-04 10:26 UTC (the instant, in UTC as the note says),
    not 19:26 labelled UTC."""
    from zoneinfo import ZoneInfo

    from socialdesk.desk_events.parse import parse_event

    world.customer_writes(KEY, at=START, priority="urgent")
    world.desk_events().on_desk_event(status_event(world, event_id="solve", at=START + timedelta(minutes=3), status="solved", previous="open"))
    payload = {
        "type": "zen:event-type:ticket.status_changed",
        "id": "reopen-offset",
        "time": "2026-12-04T19:20:00+09:00",
        "subject": f"zen:ticket:{world.tickets[KEY]}",
        "detail": {"id": str(world.tickets[KEY]), "external_id": KEY, "tags": ["socialdesk"], "status": "OPEN"},
        "event": {"current": "OPEN", "previous": "SOLVED"},
    }
    reopened = parse_event(payload)
    assert reopened is not None
    assert reopened.occurred_at == (START + timedelta(minutes=20)).astimezone(ZoneInfo("Asia/Seoul"))
    world.desk_events().on_desk_event(reopened)
    world.advance(minutes=26)
    assert world.check().run().escalated == [(KEY, 1)]
    [note] = world.notes()
    assert "due at 2026-12-04 10:26 UTC" in note, note


def test_a_solve_redelivered_after_the_reopening_does_not_stop_the_reopened_clock(world: SlaWorld) -> None:
    """Given an unanswered urgent message at 10:00, solved at 10:03, reopened at 10:20, and Zendesk redelivering the
    10:03 solve after the reopening (a retry after a 503)
    When the check runs at 10:26
    Then the reopened clock still breaches at 10:26 (a redelivered solve is the same event, not a new one)."""
    world.customer_writes(KEY, at=START, priority="urgent")
    solved = status_event(world, event_id="solve", at=START + timedelta(minutes=3), status="solved", previous="open")
    world.desk_events().on_desk_event(solved)
    world.desk_events().on_desk_event(status_event(world, event_id="reopen", at=START + timedelta(minutes=20), status="open", previous="solved"))
    world.desk_events().on_desk_event(solved)
    world.advance(minutes=26)
    assert world.check().run().escalated == [(KEY, 1)]


def test_an_answer_landing_during_level_one_s_zendesk_writes_stops_every_later_level(world: SlaWorld) -> None:
    """Given an urgent message at 10:00 (level 1 at 10:06, level 2 with an alert at 10:16), and the brand answering in
    the platform's app while the 10:06 run is writing level 1's note
    When the check runs every minute until 10:40
    Then level 1 was written once (its claim came first) and level 2 never, and no alert went out."""
    world.customer_writes(KEY, at=START, priority="urgent")
    world.advance(minutes=6)
    real_add_comment = world.desk.add_comment
    answered: list[bool] = []

    def brand_answers_meanwhile(ticket_id: int, comment: Comment, *, reopen: bool = False, **update: Any) -> TicketView:
        view = real_add_comment(ticket_id, comment, reopen=reopen, **update)
        if not answered:
            answered.append(True)
            world.brand_echo(KEY, at=world.now)
        return view

    world.desk.add_comment = brand_answers_meanwhile  # type: ignore[method-assign]
    for _ in range(35):
        world.check().run()
        world.advance(minutes=1)
    assert [note.split(":")[0] for note in world.notes()] == ["Response SLA breached (level 1)"]
    assert world.alerts.sent == []
    assert world.check().run().due == 0


def test_an_answer_to_a_customer_who_wrote_after_a_solve_is_measured_as_a_next_response(world: SlaWorld) -> None:
    """Given the standard policy (first response 30 min, next response 20 min, Berlin hours, open on Friday 11:00),
    a message at 10:00 UTC solved at 10:03 without a reply, the customer writing again at 10:10, and the brand
    answering in the platform's app at 10:35 (25 minutes later)
    When the answer stops the clock
    Then the metric is a next response (NextResponseSeconds, 1,500 s) and not within the SLA (20 minutes): the
    "% answered within SLA" a manager reads counts it as missed."""
    world.customer_writes(KEY, at=START)
    world.desk_events().on_desk_event(status_event(world, event_id="solve", at=START + timedelta(minutes=3), status="solved", previous="open"))
    world.customer_writes(KEY, at=START + timedelta(minutes=10))
    world.brand_echo(KEY, at=START + timedelta(minutes=35))
    [answer] = world.metrics.answers
    assert (answer["first"], answer["seconds"], answer["within_sla"]) == (False, 1500.0, False), answer
