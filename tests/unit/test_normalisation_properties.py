"""Properties of the normalisers over hostile input.

An exception escaping a normaliser becomes a 5xx, and the platform retries the same
payload for up to 7 days (Messenger disables the webhook after an hour). So for any
JSON object, normalising must finish, and every item must end up an event, an
acknowledged ignore, or a quarantined item.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialdesk.model import decode_event, encode_event
from socialdesk.platforms.meta import MetaWebhook
from socialdesk.platforms.x import XWebhook
from tests.support.ingest import Harness
from tests.support.webhooks import SAMPLE_NAMES, meta_post, sample, sample_body, to_bytes, x_post

RECEIVED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
POST_SAMPLES = [name for name in SAMPLE_NAMES if sample(name)["requestContext"]["http"]["method"] == "POST"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


def webhook_for(name: str) -> XWebhook | MetaWebhook:
    return XWebhook() if name.startswith("x-") else MetaWebhook()


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*prefix, index))
    return found


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copied = copy.deepcopy(document)
    target = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copied


@st.composite
def mutated_samples(draw: st.DrawFn) -> tuple[str, Any]:
    """A real sample payload with one value anywhere inside it swapped for arbitrary JSON."""
    name = draw(st.sampled_from(POST_SAMPLES))
    document = sample_body(name)
    path = draw(st.sampled_from(paths(document)[1:]))
    return name, replaced(document, path, draw(json_values))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_samples())
def test_a_sample_with_any_value_replaced_never_raises(case: tuple[str, Any]) -> None:
    # Given a real payload with one value anywhere swapped for arbitrary JSON
    name, payload = case
    # When it is normalised
    batch = webhook_for(name).normalise(payload, RECEIVED)
    # Then it finishes, and every event it did produce is valid on the wire
    for event in batch.events:
        assert decode_event(encode_event(event)) == event


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["object", "entry", "data", "for_user_id", "tweet_create_events", "direct_message_events"]) | st.text(max_size=8),
        json_values,
        max_size=5,
    )
)
def test_arbitrary_json_objects_never_raise(payload: dict[str, Any]) -> None:
    XWebhook().normalise(payload, RECEIVED)
    MetaWebhook().normalise(payload, RECEIVED)


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(POST_SAMPLES))
def test_normalising_the_same_delivery_twice_gives_the_same_events_and_keys(name: str) -> None:
    # Redelivery must map to the same dedupe keys, or downstream exactly-once breaks.
    first = webhook_for(name).normalise(sample_body(name), RECEIVED)
    second = webhook_for(name).normalise(sample_body(name), datetime(2027, 1, 1, tzinfo=UTC))
    assert [e.dedupe_key for e in first.events] == [e.dedupe_key for e in second.events]
    assert [e.conversation_key for e in first.events] == [e.conversation_key for e in second.events]


# Fields that carry numbers in the documented payloads (docs.x.com x-api/activity/event-payloads; developers.facebook.com webhooks
# references), and become `int`
# fields, times or ids of the canonical event. Each is also tried where the sample lacks it.
NUMERIC_KEYS = (
    "timestamp",
    "timestamp_ms",
    "created_timestamp",
    "time",
    "created_time",
    "followers_count",
    "num_edit",
    "code",
    "id",
    "id_str",
    "user_id",
    "app_id",
    "for_user_id",
    "sender_id",
    "recipient_id",
)
numeric_extremes = st.one_of(
    st.integers(min_value=10**300, max_value=10**400),
    st.integers(max_value=-1, min_value=-(10**400)),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e309", "-1", "", "0x10", "١٢٣", "9" * 400, "1752000000.5"]),
)


def item_container(document: dict[str, Any]) -> tuple[str, ...]:
    """Where a delivery keeps its items: Meta's `entry`, the X Activity `data`, or an Account Activity `*_events` list."""
    if "entry" in document:
        return ("entry",)
    if "data" in document:
        return ("data",)
    return (next(key for key, value in document.items() if key.endswith("_events") and isinstance(value, list)),)


@st.composite
def deliveries_with_one_bad_number(draw: st.DrawFn) -> tuple[str, Any, Any]:
    """(sample, delivery, sibling alone): the sample's first item with one numeric field set to an extreme, then the intact item."""
    name = draw(st.sampled_from(POST_SAMPLES))
    good = sample_body(name)
    [key] = item_container(good)
    items = good[key] if isinstance(good[key], list) else [good[key]]
    document = {**good, key: [copy.deepcopy(items[0])]}
    inside = [path for path in paths(document) if len(path) > 2 and path[:2] == (key, 0) and isinstance(path[-1], str)]
    named = [path for path in inside if path[-1] in NUMERIC_KEYS]
    prefer_named = bool(named) and draw(st.booleans())
    path = draw(st.sampled_from(named if prefer_named else inside))
    if draw(st.booleans()):  # the same dict, a numeric key it may lack
        path = (*path[:-1], draw(st.sampled_from(NUMERIC_KEYS)))
    mutated = replaced(document, path, draw(numeric_extremes))
    mutated[key] = [*mutated[key], copy.deepcopy(items[0])]
    return name, mutated, {**good, key: [items[0]]}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deliveries_with_one_bad_number())
def test_one_extreme_number_quarantines_its_item_only_and_siblings_still_queue(case: tuple[str, Any, Any]) -> None:
    # Given a signed delivery whose first item has a huge, negative, float, bool or NaN-like value in a numeric field,
    # followed by an intact item
    name, delivery, good = case
    harness = Harness()
    sign = x_post if name.startswith("x-") else meta_post
    # When ingest receives it
    response = harness.send(sign(to_bytes(delivery)))
    # Then it is acknowledged (never a 5xx the platform would redeliver), and the intact sibling's events are queued
    assert response.status == 200, response.body
    expected = {event.dedupe_key for event in webhook_for(name).normalise(good, RECEIVED).events}
    assert expected <= {event.dedupe_key for event in harness.events.events}
    for event in harness.events.events:
        assert decode_event(encode_event(event)) == event
