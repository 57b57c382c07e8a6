"""Response-time facts must not depend on delivery order or redeliveries: platforms promise neither."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from socialdesk.model.conversation import ConversationActivity

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def apply(messages: list[tuple[bool, int]]) -> ConversationActivity:
    activity = ConversationActivity()
    for from_brand, minute in messages:
        at = T0 + timedelta(minutes=minute)
        activity = activity.with_message(at, from_brand=from_brand)
    return activity


def test_a_customer_message_waits_until_the_brand_answers_after_it() -> None:
    # Given a customer message at 9:00 and a brand answer at 9:20
    activity = apply([(False, 0)])
    assert activity.waiting_since == T0
    activity = apply([(False, 0), (True, 20)])
    # Then the conversation is answered, with its first response time recorded
    assert activity.waiting_since is None
    assert activity.first_response_at == T0 + timedelta(minutes=20)


def test_a_customer_message_after_the_answer_waits_again_from_its_own_time() -> None:
    activity = apply([(False, 0), (True, 20), (False, 30)])
    assert activity.waiting_since == T0 + timedelta(minutes=30)
    assert activity.first_response_at == T0 + timedelta(minutes=20)


def test_a_brand_answer_delivered_before_the_message_it_answers_still_counts() -> None:
    # Found by the property below: the brand's 9:01 answer arrives before the customer's 9:00 message.
    activity = apply([(True, 1), (False, 0)])
    assert activity.first_response_at == T0 + timedelta(minutes=1)
    assert activity.waiting_since is None


def test_a_very_long_thread_keeps_its_first_and_latest_times() -> None:
    activity = apply([(False, minute) for minute in range(0, 2000, 2)] + [(True, 1), (True, 3999)])
    assert activity.first_customer_at == T0
    assert activity.first_response_at == T0 + timedelta(minutes=1)
    assert activity.waiting_since is None
    assert len(activity.customer_times) == 500


def test_a_brand_post_before_any_customer_message_is_not_a_response() -> None:
    activity = apply([(True, 0), (False, 10)])
    assert activity.first_response_at is None
    assert activity.waiting_since == T0 + timedelta(minutes=10)


# Distinct times: two messages in the same instant have no order to recover.
timelines = st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=10_000)), min_size=1, max_size=8, unique_by=lambda m: m[1])


@settings(max_examples=300, deadline=None)
@given(timelines, st.randoms(use_true_random=False))
def test_any_delivery_order_gives_the_same_facts(messages: list[tuple[bool, int]], rng: object) -> None:
    shuffled = list(messages)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    in_order = apply(sorted(messages, key=lambda m: m[1]))
    out_of_order = apply(shuffled)
    assert out_of_order == in_order
    assert out_of_order.first_response_at == in_order.first_response_at
    assert out_of_order.waiting_since == in_order.waiting_since


@settings(max_examples=300, deadline=None)
@given(timelines, st.data())
def test_replaying_any_message_changes_nothing(messages: list[tuple[bool, int]], data: st.DataObject) -> None:
    replayed = data.draw(st.sampled_from(messages))
    assert apply([*messages, replayed]) == apply(messages)
