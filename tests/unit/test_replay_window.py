"""Issue 7, item 10: a replayed body outliving its event record must not make a second comment and Task.

Platforms sign only the body, so a captured delivery verifies for ever. Ingest quarantines events that happened
more than 8 days before they arrive; the window is held against the record's lifetime and the queue's retention.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from socialdesk.devtools.samples import redated
from socialdesk.devtools.template_stack import load_template
from socialdesk.ingest.webhook_ingest import MAX_EVENT_AGE
from socialdesk.model import EventKind
from socialdesk.observability import logger
from socialdesk.process.sqs_batch import MAX_WAITING_SECONDS
from socialdesk.store.dynamodb import EVENT_RETENTION
from tests.support.ingest import Harness
from tests.support.webhooks import meta_post, recorded_body, to_bytes, x_post

RECEIVED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "template.yaml"


def harness_at(moment: datetime) -> Harness:
    return Harness(clock=lambda: moment)


def delivered(name: str, created: datetime) -> dict[str, Any]:
    payload = redated(recorded_body(name), created)
    return x_post(json.dumps(payload).encode()) if name.startswith("x-") else meta_post(to_bytes(payload))


@pytest.mark.parametrize("name", ["x-mention", "x-dm", "meta-whatsapp-text", "meta-messenger-message", "meta-fb-comment"])
def test_an_event_replayed_after_its_record_could_expire_is_quarantined_not_queued(name: str, caplog: pytest.LogCaptureFixture) -> None:
    # Given a genuine, validly signed delivery whose event happened 31 days ago (its 30-day record may be gone)
    harness = harness_at(RECEIVED)
    # When someone replays the captured body
    response = harness.send(delivered(name, RECEIVED - timedelta(days=31)))
    # Then the platform is answered 200, nothing reaches processing, and the event is kept in quarantine with why
    assert response.status == 200
    assert json.loads(response.body) == {"queued": 0, "ignored": 0, "quarantined": 1}
    assert harness.events.messages == []
    [kept] = [json.loads(message.body) for message in harness.quarantine.messages]
    assert kept["reason"].startswith("StaleEvent: created 2026-10-31T12:00:00")
    # And the log line says it was quarantined, naming the reason and not the text
    logged = "\n".join(logger.registered_formatter.format(record) for record in caplog.records)
    assert "StaleEvent" in logged
    assert "replays older than 8 days" in logged


def test_a_whatsapp_redelivery_on_its_seventh_day_is_still_queued() -> None:
    # Given WhatsApp redelivers a failed webhook for up to 7 days (docs.360dialog.com/partner/messaging/receiving-messages-via-webhook)
    harness = harness_at(RECEIVED)
    # When the last redelivery of a message arrives 7 days and 23 hours after it was sent
    harness.send(delivered("meta-whatsapp-text", RECEIVED - timedelta(days=7, hours=23)))
    # Then it is queued like any other
    assert [event.kind for event in harness.events.events] == [EventKind.DIRECT_MESSAGE]
    assert harness.quarantine.messages == []


def test_in_one_delivery_only_the_stale_item_is_set_aside() -> None:
    # Given a Meta delivery with a fresh WhatsApp message and, in a second entry, a 20-day-old one
    fresh = redated(recorded_body("meta-whatsapp-text"), RECEIVED - timedelta(minutes=1))
    stale = redated(recorded_body("meta-whatsapp-text"), RECEIVED - timedelta(days=20))
    stale["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.stale"
    fresh["entry"].extend(stale["entry"])
    harness = harness_at(RECEIVED)
    # When it is received
    response = harness.send(meta_post(to_bytes(fresh)))
    # Then the fresh one is queued and the stale one quarantined
    assert json.loads(response.body) == {"queued": 1, "ignored": 0, "quarantined": 1}
    [kept] = [json.loads(message.body) for message in harness.quarantine.messages]
    assert kept["item"]["event_id"] == "wamid.stale"


def test_an_edit_today_of_a_facebook_comment_written_weeks_ago_is_queued() -> None:
    # Given a Facebook edit whose `created_time` is the comment's own, 40 days old, and whose entry time is now
    payload = recorded_body("meta-fb-comment-edited")
    payload["entry"][0]["time"] = int((RECEIVED - timedelta(seconds=5)).timestamp())
    payload["entry"][0]["changes"][0]["value"]["created_time"] = int((RECEIVED - timedelta(days=40)).timestamp())
    harness = harness_at(RECEIVED)
    # When it is received
    harness.send(meta_post(to_bytes(payload)))
    # Then the edit is dated when it happened, and queued
    [event] = harness.events.events
    assert event.kind is EventKind.EDIT
    assert event.created_at == RECEIVED - timedelta(seconds=5)


def test_an_x_post_without_created_at_is_dated_by_its_snowflake_id() -> None:
    # Given an X Activity API mention without `created_at`, whose id X minted on 2025-07-24 (an id's top bits are
    # milliseconds since 2010-11-04T01:42:54.657Z, X's "Twitter IDs" documentation)
    payload = recorded_body("x-activity-mention")
    del payload["data"]["payload"]["created_at"]
    post_id = int(payload["data"]["payload"]["id"])
    minted = datetime.fromtimestamp(((post_id >> 22) + 1288834974657) / 1000, tz=UTC)
    # When it arrives a day after it was minted, and again a year later
    day_later, year_later = harness_at(minted + timedelta(days=1)), harness_at(minted + timedelta(days=365))
    for harness in (day_later, year_later):
        harness.send(x_post(json.dumps(payload).encode()))
    # Then the first is queued, dated by its id, and the replay a year later is quarantined
    [event] = day_later.events.events
    assert abs(event.created_at - minted) < timedelta(milliseconds=1)
    assert year_later.events.messages == []
    assert len(year_later.quarantine.messages) == 1


def test_an_accepted_replay_always_meets_the_record_of_the_original() -> None:
    # Given the original was processed no earlier than it happened, and its record lives EVENT_RETENTION from then
    inbound = load_template(TEMPLATE)["Resources"]["InboundQueue"]["Properties"]
    longest_in_queue = timedelta(seconds=max(int(inbound["MessageRetentionPeriod"]), MAX_WAITING_SECONDS))
    # When a replay arrives at the end of the accepted window and sits in the queue as long as it can
    processed_by = MAX_EVENT_AGE + longest_in_queue
    # Then it is processed while the original's record still exists (a day of margin for clock skew and TTL lag)
    assert processed_by + timedelta(days=1) <= EVENT_RETENTION
    # And the window still covers the longest genuine redelivery, WhatsApp's 7 days
    assert timedelta(days=7) < MAX_EVENT_AGE
