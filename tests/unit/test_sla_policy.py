"""SLA policies (rules), which one a conversation runs under, its start, targets and ladder: pure decisions."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from socialdesk.model.conversation import ConversationActivity
from socialdesk.rules import RulesConfig, RulesError, load_rules
from socialdesk.sla.policy import ClockState, Policies, level_tags, running_start
from tests.support.sla_world import SLA_RULES

T0 = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)  # Friday 11:00 in Berlin


def _policies() -> Policies:
    policies = Policies.of(RulesConfig.model_validate(tomllib.loads(SLA_RULES)))
    assert policies is not None
    return policies


POLICIES = _policies()


def waiting(since: datetime, **fields: object) -> ClockState:
    activity = ConversationActivity(first_customer_at=since, last_customer_at=since, waiting_since=since)
    return ClockState(key="k", activity=activity, **({"platform": "x", "kind": "post", "priority": "normal"} | fields))  # type: ignore[arg-type]


def minutes(count: float) -> timedelta:
    return timedelta(minutes=count)


@pytest.mark.parametrize(
    ("platform", "kind", "priority", "policy"),
    [
        ("x", "post", "urgent", "urgent"),
        ("whatsapp", "direct_message", "urgent", "urgent"),
        ("x", "post", "normal", "standard"),
        ("x", "post", None, "standard"),
    ],
)
def test_the_first_matching_policy_wins(platform: str, kind: str, priority: str | None, policy: str) -> None:
    # Given an urgent policy first and a catch-all after it
    # Then an urgent ticket takes the urgent one whatever its platform, anything else the catch-all
    assert POLICIES.rules.policy_for(platform, kind, priority).name == policy  # type: ignore[union-attr]


def test_the_ladder_falls_due_at_the_breach_then_after_each_further_wait() -> None:
    # Given an urgent conversation waiting since 10:00 (6 minutes round the clock; level 2 ten minutes after the breach)
    plan = POLICIES.plan(waiting(T0, priority="urgent"))
    assert plan is not None
    # Then level 1 is due at 10:06, level 2 at 10:16, and there is no level 3
    assert (plan.level_due(1), plan.level_due(2), plan.level_due(3)) == (T0 + minutes(6), T0 + minutes(16), None)


def test_a_conversation_answered_before_waits_on_the_next_response_target() -> None:
    # Given the brand answered at 10:05 and the customer wrote again at 10:10 (standard: first 30, next 20 business minutes)
    state = waiting(T0 + minutes(10))
    state.activity = ConversationActivity(
        first_customer_at=T0, last_customer_at=T0 + minutes(10), first_response_at=T0 + minutes(5), waiting_since=T0 + minutes(10)
    )
    plan = POLICIES.plan(state)
    # Then the clock runs from 10:10 for 20 minutes, a next response
    assert plan is not None and not plan.first and plan.breach == T0 + minutes(30)


def test_a_solve_covers_the_waiting_customer_until_they_write_again_or_the_ticket_reopens() -> None:
    # Given a customer waiting since 10:00
    # When the ticket is solved at 10:03 / and the customer writes at 10:20 (restart)
    assert running_start(waiting(T0, stopped_at=T0 + minutes(3))) is None
    assert running_start(waiting(T0, stopped_at=T0 + minutes(3), restart_at=T0 + minutes(20))) == T0 + minutes(20)
    # And a solve before the customer's message covers nothing of it
    assert running_start(waiting(T0, stopped_at=T0 - minutes(1))) == T0


def test_a_whatsapp_chat_is_flagged_before_its_window_closes_once_and_an_x_post_never() -> None:
    # Given an unanswered WhatsApp chat whose last customer message was at 10:00 (warning 120 minutes)
    chat = waiting(T0, platform="whatsapp", kind="direct_message")
    # Then it is flagged at 08:00 the next day, and not again for the same message; an X post has no window
    assert POLICIES.window_due(chat) == T0 + timedelta(hours=22)
    assert POLICIES.window_due(waiting(T0, platform="whatsapp", window_flagged=T0)) is None
    assert POLICIES.window_due(waiting(T0)) is None


def test_level_tags_say_breached_at_every_level_and_the_level_from_two() -> None:
    [policy] = [policy for policy in POLICIES.rules.policies if policy.name == "standard"]
    assert level_tags(1, policy.ladder[0]) == ("sla_breached", "sla_standard")
    assert level_tags(2, policy.ladder[1]) == ("sla_breached", "sla_level_2")


def test_the_shipped_rules_file_has_valid_sla_policies() -> None:
    rules = load_rules(Path(__file__).resolve().parents[2] / "config" / "socialdesk.toml")
    assert rules.sla is not None and [policy.name for policy in rules.sla.policies] == ["urgent", "x_mentions", "standard"]


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        ('calendar = "nowhere"', "policy p: calendar 'nowhere' is not one of [calendars.*]"),
        ("", "sla.policies[0].ladder: Field required"),
    ],
)
def test_a_policy_naming_an_unknown_calendar_or_without_a_ladder_is_refused(tmp_path: Path, policy: str, problem: str) -> None:
    ladder = "" if not policy else '[[sla.policies.ladder]]\npriority = "high"\n'
    text = f'[zendesk]\nsubdomain = "acme"\n[[sla.policies]]\nname = "p"\nfirst_response_minutes = 5\nnext_response_minutes = 5\n{policy}\n{ladder}'
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(RulesError) as refused:
        load_rules(path)
    assert any(problem in found for found in refused.value.problems), refused.value.problems


def test_a_later_level_without_a_wait_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        '[zendesk]\nsubdomain = "acme"\n[[sla.policies]]\nname = "p"\nfirst_response_minutes = 5\nnext_response_minutes = 5\n'
        "[[sla.policies.ladder]]\n[[sla.policies.ladder]]\nalert = true\n"
    )
    with pytest.raises(RulesError, match="every level after the first needs after_minutes > 0"):
        load_rules(path)
