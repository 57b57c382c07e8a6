"""The response clock and the scheduled check on moto's state table: message → due → breach → level 1 → level 2, once.

Each test moves its own clock (SlaWorld.now); the store, the due index and the conditional writes are the real ones.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from socialdesk.desk.port import DeskRateLimitedError, DeskRejectedError
from socialdesk.model.desk_event import DeskEvent, DeskEventKind
from socialdesk.sla.policy import ClockState
from tests.support.process_fakes import CrashError
from tests.support.sla_world import KEY, SLA_RULES, START, SlaWorld, sla_world


@pytest.fixture
def world() -> Iterator[SlaWorld]:
    with sla_world() as built:
        yield built


def test_an_unanswered_message_breaches_then_climbs_the_ladder_once_per_level(world: SlaWorld) -> None:
    # Given an urgent customer message at 10:00 (6 minutes, 24/7; level 2 ten minutes after the breach)
    world.customer_writes(KEY, at=START, priority="urgent")
    # When the check runs before the breach, then at it, then again, then ten minutes later, then again
    world.advance(minutes=5)
    assert world.check().run().escalated == []
    world.advance(minutes=1)
    assert world.check().run().escalated == [(KEY, 1)]
    assert world.check().run().escalated == []
    world.advance(minutes=10)
    assert world.check().run().escalated == [(KEY, 2)]
    world.advance(minutes=60)
    assert world.check().run().due == 0
    # Then the ticket is tagged, raised, reassigned and noted once per level, and one alert went out (level 2)
    escalated = world.ticket()
    assert {"sla_breached", "sla_level_2"} <= set(escalated.tags)
    assert escalated.priority == "urgent"
    assert escalated.group_id == 360000000009
    assert [note.split(":")[0] for note in world.notes()] == ["Response SLA breached (level 1)", "Response SLA breached (level 2)"]
    assert [alert["subject"] for alert in world.alerts.sent] == [f"SLA level 2: ticket {world.tickets[KEY]}"]
    assert [breach["level"] for breach in world.metrics.breaches] == [1, 2]


def test_a_brand_reply_typed_in_the_platform_app_stops_the_clock(world: SlaWorld) -> None:
    # Given an urgent message, answered from the platform's own app 4 minutes later
    world.customer_writes(KEY, at=START, priority="urgent")
    world.brand_echo(KEY, at=START + timedelta(minutes=4))
    # When the check runs long after the breach would have been
    world.advance(minutes=30)
    report = world.check().run()
    # Then nothing was due, nothing escalated, and the answer counted within SLA
    assert (report.due, report.escalated) == (0, [])
    assert world.metrics.answers == [{"platform": "x", "priority": "urgent", "first": True, "seconds": 240.0, "within_sla": True}]


def test_an_agent_reply_the_platform_accepted_stops_the_clock_once_whatever_its_repeats(world: SlaWorld) -> None:
    # Given an urgent message, and outbound records the agent's accepted reply twice (a retry)
    world.customer_writes(KEY, at=START, priority="urgent")
    for _ in range(2):
        world.clock.record_answer(KEY, at=START + timedelta(minutes=8), reference="job-1", source="agent_reply")
    # When the check runs
    world.advance(minutes=30)
    # Then nothing escalates, and one late answer was counted
    assert world.check().run().escalated == []
    assert [(answer["seconds"], answer["within_sla"]) for answer in world.metrics.answers] == [(480.0, False)]


def test_an_answer_between_the_index_read_and_the_claim_prevents_the_escalation(world: SlaWorld) -> None:
    # Given an urgent message past its breach
    world.customer_writes(KEY, at=START, priority="urgent")
    world.advance(minutes=7)
    check = world.check()
    real_state = world.store.clock_state
    answered: list[bool] = []

    def answer_then_read(key: str) -> ClockState | None:
        state = real_state(key)  # the check read the clock; the brand answers before its claim
        if not answered:
            answered.append(True)
            world.store.record_answer(KEY, at=START + timedelta(minutes=7), reference="1", source="agent_reply")
        return state

    world.store.clock_state = answer_then_read  # type: ignore[method-assign]
    # When the check runs
    report = check.run()
    # Then its claim fails: nothing is written to the ticket
    assert report.escalated == []
    assert world.notes() == [] and world.desk.calls["add_tags"] == 0


def test_two_overlapping_checks_escalate_each_breach_once(world: SlaWorld) -> None:
    # Given 20 urgent conversations past their breach
    keys = [f"x:1000:thread:{number}" for number in range(20)]
    for key in keys:
        world.customer_writes(key, at=START, priority="urgent")
    world.advance(minutes=7)
    # When two checks run at the same time
    reports = [world.check(), world.check()]
    results: list[list[tuple[str, int]]] = [[], []]
    barrier = threading.Barrier(2)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = reports[index].run().escalated

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every conversation reached level 1 exactly once between them, with one note each
    assert sorted(results[0] + results[1]) == sorted((key, 1) for key in keys)
    assert all(len(world.notes(key)) == 1 for key in keys)


def test_a_rate_limited_escalation_waits_for_the_next_run_and_happens_once(world: SlaWorld) -> None:
    # Given an urgent message past its breach, and Zendesk answering the first tag write with 429
    world.customer_writes(KEY, at=START, priority="urgent")
    world.advance(minutes=7)
    world.desk.failures.add("add_tags", DeskRateLimitedError(30))
    # When the check runs, and again a minute later
    first = world.check().run()
    world.advance(minutes=1)
    second = world.check().run()
    # Then the first run deferred it, the second escalated it, and the ticket has one note
    assert (first.deferred, first.escalated) == (1, [])
    assert second.escalated == [(KEY, 1)]
    assert len(world.notes()) == 1


def test_a_solved_ticket_stops_the_clock_and_a_new_message_starts_the_next_response_clock(world: SlaWorld) -> None:
    # Given an urgent message, and the ticket solved 3 minutes later without a reply
    world.customer_writes(KEY, at=START, priority="urgent")
    solved = DeskEvent(
        event_id="e-1",
        kind=DeskEventKind.STATUS_CHANGED,
        ticket_id=world.tickets[KEY],
        occurred_at=START + timedelta(minutes=3),
        ticket_external_id=KEY,
        status="solved",
        previous_status="open",
    )
    world.desk_events().on_desk_event(solved)
    world.desk_events().on_desk_event(solved)  # Zendesk redelivers
    world.advance(minutes=30)
    assert world.check().run().escalated == []
    # When the customer writes again at 10:30
    world.customer_writes(KEY, at=world.now, priority="urgent")
    # Then a clock runs from 10:30 and breaches 6 minutes later
    world.advance(minutes=5)
    assert world.check().run().escalated == []
    world.advance(minutes=1)
    assert world.check().run().escalated == [(KEY, 1)]


def test_a_reopened_ticket_restarts_the_clock_from_the_reopening(world: SlaWorld) -> None:
    # Given an unanswered urgent message whose ticket was solved, then reopened by an agent at 10:20
    world.customer_writes(KEY, at=START, priority="urgent")
    for status, previous, minutes in (("solved", "open", 3), ("open", "solved", 20)):
        world.desk_events().on_desk_event(
            DeskEvent(
                event_id=f"e-{minutes}",
                kind=DeskEventKind.STATUS_CHANGED,
                ticket_id=world.tickets[KEY],
                occurred_at=START + timedelta(minutes=minutes),
                ticket_external_id=KEY,
                status=status,
                previous_status=previous,
            )
        )
    # When the check runs at 10:25 and 10:26
    world.advance(minutes=25)
    assert world.check().run().escalated == []
    world.advance(minutes=1)
    # Then the clock restarted at 10:20 and breached at 10:26
    assert world.check().run().escalated == [(KEY, 1)]


def test_a_business_hours_clock_waits_over_the_weekend(world: SlaWorld) -> None:
    # Given a standard message on Friday at 16:50 Berlin time (15:50 UTC), 30 minutes in Berlin business hours
    friday = START.replace(hour=15, minute=50)
    world.customer_writes(KEY, at=friday)
    # When the check runs Friday night and on Monday at 09:19 and 09:20 Berlin time
    world.now = friday + timedelta(hours=6)
    assert world.check().run().due == 0
    world.now = START.replace(day=7, hour=8, minute=19)
    assert world.check().run().escalated == []
    world.now = START.replace(day=7, hour=8, minute=20)
    # Then it breaches with 10 minutes counted on Friday and 20 on Monday
    assert world.check().run().escalated == [(KEY, 1)]
    assert world.ticket().priority == "high" and "sla_standard" in world.ticket().tags


def test_a_whatsapp_window_about_to_close_unanswered_is_flagged_once(world: SlaWorld) -> None:
    # Given a WhatsApp message at 10:00 on Friday (standard: breaches in Berlin hours, level 2 is far off on Monday)
    world.customer_writes(KEY, at=START, platform="whatsapp", kind="direct_message")
    world.advance(minutes=30)
    assert world.check().run().escalated == [(KEY, 1)]
    # When the check runs 22 hours after the message (2 hours before the 24-hour window closes), and again
    world.now = START + timedelta(hours=22)
    flagged = world.check().run()
    world.advance(minutes=5)
    again = world.check().run()
    # Then the ticket is tagged and noted once
    assert (flagged.windows_flagged, again.windows_flagged) == (1, 0)
    assert "messaging_window_closing" in world.ticket().tags
    assert sum("messaging window" in note for note in world.notes()) == 1


def test_a_group_zendesk_refuses_for_good_is_logged_and_the_rest_of_the_level_still_happens_once(world: SlaWorld) -> None:
    # Given an urgent conversation at level 1, and Zendesk refusing the level-2 group (an id that does not exist)
    world.customer_writes(KEY, at=START, priority="urgent")
    world.advance(minutes=6)
    world.check().run()
    world.desk.failures.add("assign_group", DeskRejectedError("group_id: invalid"))
    # When level 2 falls due, and the check runs twice
    world.advance(minutes=10)
    first, second = world.check().run(), world.check().run()
    # Then level 2 is recorded once, with its tag, note and alert, and nothing is tried again
    assert (first.escalated, second.escalated) == ([(KEY, 2)], [])
    assert "sla_level_2" in world.ticket().tags
    assert len(world.notes()) == 2 and len(world.alerts.sent) == 1
    assert world.desk.calls["assign_group"] == 1


def test_a_solve_of_an_earlier_ticket_of_the_conversation_does_not_stop_the_current_clock(world: SlaWorld) -> None:
    # Given an urgent conversation whose current ticket is open, and its earlier ticket (a closed one's predecessor) solved now
    world.customer_writes(KEY, at=START, priority="urgent")
    earlier = DeskEvent(
        event_id="e-old",
        kind=DeskEventKind.STATUS_CHANGED,
        ticket_id=world.tickets[KEY] - 1,
        occurred_at=START + timedelta(minutes=2),
        ticket_external_id=KEY,
        status="solved",
        previous_status="open",
    )
    world.desk_events().on_desk_event(earlier)
    # When the check runs past the breach
    world.advance(minutes=7)
    # Then the current ticket is escalated all the same
    assert world.check().run().escalated == [(KEY, 1)]


def test_a_run_short_of_time_leaves_the_rest_due_for_the_next_run(world: SlaWorld) -> None:
    # Given three urgent conversations past their breach, and a run whose Lambda has time for one of them
    keys = [f"x:1000:thread:{number}" for number in range(3)]
    for key in keys:
        world.customer_writes(key, at=START, priority="urgent")
    world.advance(minutes=7)
    seconds_left = iter([60.0, 14.0, 14.0])
    # When it runs, and the next run has all the time it needs
    short = world.check().run(time_left=lambda: next(seconds_left))
    full = world.check().run()
    # Then the first escalated one and left two unfinished, which the next run escalated: each once
    assert (len(short.escalated), short.unfinished) == (1, 2)
    assert sorted(short.escalated + full.escalated) == sorted((key, 1) for key in keys)


def test_a_ticket_zendesk_will_not_look_into_does_not_hold_up_the_others(world: SlaWorld) -> None:
    # Given two urgent conversations past their breach; the first's earlier claim died mid-way (its note may be there),
    # and Zendesk refuses to list that ticket's comments
    keys = ["x:1000:thread:a", "x:1000:thread:b"]
    for key in keys:
        world.customer_writes(key, at=START, priority="urgent")
    world.advance(minutes=7)
    world.desk.failures.add("add_comment", CrashError())
    with pytest.raises(CrashError):
        world.check().run()
    world.advance(minutes=3)  # the dead run's lease (120 s) has run out
    world.desk.failures.add("has_comment", DeskRejectedError("refused"))
    # When the next run comes
    report = world.check().run()
    # Then the refused ticket waits for the next run and the other one is escalated
    assert report.deferred == 1
    assert len(report.escalated) == 1


def test_the_due_at_field_shows_the_breach_while_the_customer_waits_and_is_emptied_once_answered() -> None:
    # Given rules with a "due at" ticket field, and an urgent message at 10:00 (due 10:06)
    with sla_world(SLA_RULES.replace("[sla]\n", "[sla]\ndue_at_field = 360000000030\n", 1)) as world:
        world.customer_writes(KEY, at=START, priority="urgent")
        # When the check runs a minute later, and again
        world.advance(minutes=1)
        first, again = world.check().run(), world.check().run()
        shown = dict(world.ticket().custom_fields).get(360000000030)
        # And the brand answers at 10:03, and the check runs after it
        world.brand_echo(KEY, at=START + timedelta(minutes=3))
        world.advance(minutes=3)
        world.check().run()
        # Then the field showed 10:06 (written once) and is empty now; nothing breached
        assert (first.due, again.due) == (1, 0)
        assert shown == "2026-12-04T10:06:00Z"
        assert 360000000030 not in dict(world.ticket().custom_fields)
        assert world.desk.calls["set_field"] == 2
        assert "sla_breached" not in world.ticket().tags
