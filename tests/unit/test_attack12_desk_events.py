"""Attacks on desk_events, the Zendesk webhook receiver (issues 11 and 12): hostile signed bodies, 64-bit ids, non-ASCII
text, replays, and what the answers and logs give away."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from socialdesk.desk.webhook_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, zendesk_signature
from socialdesk.desk_events.agent_reply import AgentReplySink
from socialdesk.devtools.zendesk_events import TEST_SIGNING_SECRET, apigw_event
from socialdesk.http import HttpRequest
from tests.unit.test_acknowledgement import CollectedJobs
from tests.unit.test_desk_events import KEY, NOW, World, comment, world  # noqa: F401 (the fixture)


def post_raw(world: World, body: bytes) -> tuple[int, dict[str, object]]:  # noqa: F811
    timestamp = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: zendesk_signature(TEST_SIGNING_SECRET, timestamp, body),
        "content-type": "application/json",
    }
    answer = world.webhook.handle(HttpRequest.from_apigw_v2(apigw_event(body, headers)))
    return answer.status, json.loads(answer.body)


@pytest.mark.parametrize("depth", [1_000, 10_000])
def test_a_deeply_nested_signed_body_is_refused_as_unreadable_not_a_crash(world: World, depth: int) -> None:  # noqa: F811
    """Given a correctly signed body nested `depth` arrays deep (well under the size limit), when it is delivered, then
    desk_events answers 400 unreadable, as for any body it cannot read, rather than raising (a 500 Zendesk retries)."""
    body = b'{"type": "zen:event-type:ticket.comment_added", "detail": ' + b"[" * depth + b"]" * depth + b"}"
    status, answer = post_raw(world, body)
    assert status == 400 and answer == {"error": "unreadable_event"}
    assert world.sink.events == []


def test_64_bit_ticket_and_comment_ids_reach_the_job_exactly(world: World) -> None:  # noqa: F811
    """Given Zendesk ids above 2**53 (written as numbers, as Zendesk does), when the comment is delivered, then the event
    carries them exactly, and the job id names them digit for digit."""
    ticket_id, comment_id = 9_007_199_254_740_993, 18_446_744_073_709_551_557
    assert world.post(comment(ticket_id=ticket_id, comment_id=comment_id)) == (200, "handled")
    [event] = world.sink.events
    assert (event.ticket_id, event.comment is not None and event.comment.id) == (ticket_id, comment_id)


def test_an_agents_non_ascii_reply_is_queued_word_for_word() -> None:
    """Given an agent's reply in Spanish, Japanese, Arabic with emoji, a ZWJ family and a NUL-free right-to-left mark, when
    desk_events queues it, then the job's text is the agent's text exactly (only surrounding blanks trimmed)."""
    from socialdesk.desk_events.parse import parse_event
    from tests.support.process_fakes import InMemoryStore
    from tests.unit.test_desk_events import customer_comment

    text = "¿Dónde está? 配送は明日です。 شكراً لك \u200f👨\u200d👩\u200d👧 🇯🇵"
    store, jobs = InMemoryStore(), CollectedJobs()
    customer_comment(store)
    desk_event = parse_event(comment(body=f"  {text}\n"))
    assert desk_event is not None
    AgentReplySink(conversations=store, jobs=jobs).on_desk_event(desk_event)
    [job] = jobs.jobs
    assert job.text == text


def test_a_captured_delivery_replayed_six_minutes_later_is_refused_though_its_event_was_never_handled(world: World) -> None:  # noqa: F811
    """Given a delivery captured on the wire, when it is replayed 6 minutes later byte for byte, then 401 stale_timestamp
    and no sink runs, even though its event id was never seen (the first delivery was dropped)."""
    world.now[0] = NOW + timedelta(minutes=6)
    assert world.post(comment(event_id="never-seen"), signed_at=NOW) == (401, "stale_timestamp")
    assert world.sink.events == []
