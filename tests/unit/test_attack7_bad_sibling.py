"""Attack (issue 7, item 8): one item of a wrong type must quarantine itself only; its siblings are still queued.

The existing property tests put the bad value in one `entry` and the intact sibling in another. Inside one Meta entry
the reading is guarded per entry, not per change: a change that is not an object, a `contacts` list of the wrong shape
or an `errors` count instead of a list throws out of the entry, and every message of that entry, in other changes
and in `messaging`, goes to quarantine with it instead of to the queue. Meta batches several changes, several WhatsApp
messages and both feed changes and Messenger items into one entry (developers.facebook.com/docs/graph-api/webhooks: several changes per entry).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.ingest import Harness
from tests.support.webhooks import meta_post, sample_body, to_bytes


def whatsapp_two_customers() -> dict[str, Any]:
    """One WhatsApp change carrying two customers' messages and their two contacts."""
    body: dict[str, Any] = sample_body("meta-whatsapp-text")
    value = body["entry"][0]["changes"][0]["value"]
    other = copy.deepcopy(value["messages"][0])
    other.update({"from": "4915112345678", "id": "wamid.SIBLING"})
    value["messages"].append(other)
    value["contacts"].append({"profile": {"name": "Jonas"}, "wa_id": "4915112345678"})
    return body


def whatsapp_two_changes() -> dict[str, Any]:
    """One WhatsApp entry with two `messages` changes (two deliveries Meta batched)."""
    body: dict[str, Any] = sample_body("meta-whatsapp-text")
    sibling = copy.deepcopy(body["entry"][0]["changes"][0])
    sibling["value"]["messages"][0]["id"] = "wamid.SIBLING"
    body["entry"][0]["changes"].append(sibling)
    return body


def page_feed_and_messenger() -> dict[str, Any]:
    """One Page entry with a feed change and a Messenger message (a Page subscribed to `feed` and `messages`)."""
    body: dict[str, Any] = sample_body("meta-fb-comment")
    messaging = copy.deepcopy(sample_body("meta-messenger-message")["entry"][0]["messaging"])
    messaging[0]["message"]["mid"] = "m_SIBLING"
    body["entry"][0]["messaging"] = messaging
    return body


def set_first_contact_profile(body: dict[str, Any]) -> None:
    body["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"] = "Dana R"  # a string where an object belongs


def set_errors_count(body: dict[str, Any]) -> None:
    body["entry"][0]["changes"][0]["value"]["errors"] = 1  # a count where a list belongs


def set_first_change_number(body: dict[str, Any]) -> None:
    body["entry"][0]["changes"][0] = 42


def set_first_change_value_text(body: dict[str, Any]) -> None:
    body["entry"][0]["changes"][0]["value"] = "messages"


CASES: dict[str, tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], None]]] = {
    "another customer's contact profile is a string": (whatsapp_two_customers, set_first_contact_profile),
    "the change's errors is a number": (whatsapp_two_changes, set_errors_count),
    "a sibling change is a number": (whatsapp_two_changes, set_first_change_number),
    "a sibling change's value is a string": (whatsapp_two_changes, set_first_change_value_text),
    "the page entry's feed change is a number": (page_feed_and_messenger, set_first_change_number),
}


@pytest.mark.parametrize("case", CASES)
def test_a_wrong_type_in_one_part_of_an_entry_leaves_the_sibling_message_queued(case: str) -> None:
    # Given a signed Meta delivery whose entry holds an intact message (id ending SIBLING) and, beside it, one bad part
    build, damage = CASES[case]
    body = build()
    damage(body)
    harness = Harness()
    # When ingest receives it
    response = harness.send(meta_post(to_bytes(body)))
    # Then it is acknowledged, the bad part is set aside (an `errors` count, which carries no customer's words, is counted
    # as ignored errors), and the intact message is queued for processing
    assert response.status == 200
    answer = json.loads(response.body)
    assert answer["quarantined"] + answer["ignored"] >= 1
    assert any(event.message_id.endswith("SIBLING") for event in harness.events.events), [m.body[:80] for m in harness.quarantine.messages]
