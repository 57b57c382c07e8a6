"""Response-time facts must not depend on delivery order or redeliveries: platforms promise neither."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from socialdesk.model.conversation import ConversationActivity, SortedTimes

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class CountingTimes(SortedTimes):
    """Counts the lookups: each one is a DynamoDB query in the deployed store."""

    lookups = 0

    def first_brand_from(self, at: datetime) -> datetime | None:
        self.lookups += 1
        return super().first_brand_from(at)

    def first_customer_after(self, at: datetime) -> datetime | None:
        self.lookups += 1
        return super().first_customer_after(at)


def apply(messages: list[tuple[bool, int]], times: SortedTimes | None = None) -> ConversationActivity:
    """Record each message as the store does: its time is kept first, then the facts are updated."""
    activity, times = ConversationActivity(), times or SortedTimes()
    for from_brand, minute in messages:
        at = T0 + timedelta(minutes=minute)
        times.add(at, from_brand=from_brand)
        activity = activity.with_message(at, from_brand=from_brand, times=times)
    return activity


def definition(messages: list[tuple[bool, int]]) -> ConversationActivity:
    at = {minute: T0 + timedelta(minutes=minute) for _, minute in messages}
    return ConversationActivity.of((at[m] for brand, m in messages if not brand), (at[m] for brand, m in messages if brand))


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


def test_a_2000_message_chat_in_order_needs_no_lookup_and_a_record_of_fixed_size() -> None:
    # Given a customer's lifetime chat of 2,000 messages, each answered, delivered in order
    times = CountingTimes()
    messages = [(minute % 2 == 1, minute) for minute in range(2000)]
    activity = apply(messages, times)
    # Then the facts are right, the record holds five times whatever the length, and in-order delivery asked nothing
    assert activity == definition(messages)
    assert len(msgspec.json.encode(activity)) < 300
    assert times.lookups == 0
    assert activity.waiting_since is None


def test_an_old_message_delivered_late_into_a_long_chat_is_placed_by_one_lookup() -> None:
    # Given a long answered chat, and then a customer message from before it all, delivered last
    times = CountingTimes()
    activity = apply([(minute % 2 == 1, minute) for minute in range(10, 1000)], times)
    before = times.lookups
    times.add(T0, from_brand=False)
    activity = activity.with_message(T0, from_brand=False, times=times)
    # Then the first response is counted from it, at the cost of one lookup
    assert activity.first_customer_at == T0
    assert activity.first_response_at == T0 + timedelta(minutes=11)
    assert times.lookups - before == 1


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
    assert out_of_order == in_order == definition(messages)
    assert out_of_order.first_response_at == in_order.first_response_at
    assert out_of_order.waiting_since == in_order.waiting_since


@settings(max_examples=300, deadline=None)
@given(timelines, st.data())
def test_replaying_any_message_changes_nothing(messages: list[tuple[bool, int]], data: st.DataObject) -> None:
    replayed = data.draw(st.sampled_from(messages))
    assert apply([*messages, replayed]) == apply(messages)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 500)), min_size=1, max_size=12, unique_by=lambda m: m[1]), st.data())
def test_taking_back_a_brand_message_gives_the_facts_of_the_times_without_it(messages: list[tuple[bool, int]], data: st.DataObject) -> None:
    """Given any conversation with a brand message, When that message is taken back (an agent's reply that failed after
    the platform accepted it) with every time still known, Then the facts are exactly those of the times without it."""
    brands = [minute for brand, minute in messages if brand]
    if not brands:
        return
    withdrawn = data.draw(st.sampled_from(brands))
    rest = [m for m in messages if m[1] != withdrawn]
    at = {minute: T0 + timedelta(minutes=minute) for _, minute in messages}
    taken_back = definition(messages).without_brand_message(
        at[withdrawn], customer_times=[at[m] for b, m in rest if not b], brand_times=[at[m] for b, m in rest if b]
    )
    assert taken_back == (definition(rest) if rest else ConversationActivity(first_customer_at=None))


def test_taking_back_a_reply_in_a_conversation_older_than_its_kept_times_keeps_what_only_the_facts_still_know() -> None:
    """Given a customer's message and the brand's answer on day 0, a follow-up and an agent's reply on day 50, and only the
    last 45 days' times still kept (the day-0 times gone)
    When the day-50 reply is taken back
    Then the first message and first response stay day 0's, the brand's last word falls back to that answer (a time that is
    certain), and the customer waits from the day-50 follow-up."""
    day = timedelta(days=1)
    first, answer, follow_up, reply = T0, T0 + timedelta(minutes=20), T0 + 50 * day, T0 + 50 * day + timedelta(minutes=5)
    activity = ConversationActivity.of([first, follow_up], [answer, reply])
    taken_back = activity.without_brand_message(reply, customer_times=[follow_up], brand_times=[])
    assert (taken_back.first_customer_at, taken_back.first_response_at, taken_back.last_brand_at) == (first, answer, answer)
    assert (taken_back.last_customer_at, taken_back.waiting_since) == (follow_up, follow_up)
