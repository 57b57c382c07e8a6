"""desk_events: a verified Zendesk event reaches every sink once; refusals say why; agents' public comments become jobs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from socialdesk.desk_events.agent_reply import AgentReplySink
from socialdesk.desk_events.parse import UnreadableEventError, parse_event
from socialdesk.desk_events.receiver import SIGNING_SECRET_KEY, DeskEventsWebhook
from socialdesk.devtools.zendesk_events import TEST_SIGNING_SECRET, apigw_event, comment_added, signed_request
from socialdesk.http import HttpRequest
from socialdesk.model import make_event
from socialdesk.model.desk_event import DeskEvent, DeskEventKind
from socialdesk.model.outbound import Channel, JobKind
from tests.support.fakes import FakeSecrets
from tests.support.process_fakes import InMemoryStore
from tests.unit.test_acknowledgement import CollectedJobs

NOW = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
KEY = "facebook:104000000000001:post:104000000000001_900"


@dataclass
class RecordingSink:
    events: list[DeskEvent] = field(default_factory=list)
    failures: int = 0

    def on_desk_event(self, event: DeskEvent) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("SendMessage failed")
        self.events.append(event)


@dataclass
class World:
    store: InMemoryStore
    sink: RecordingSink
    secrets: FakeSecrets
    webhook: DeskEventsWebhook
    now: list[datetime]

    def post(self, payload: dict[str, object], *, signed_at: datetime | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
        body, signed = signed_request(payload, at=signed_at or self.now[0])
        answer = self.webhook.handle(HttpRequest.from_apigw_v2(apigw_event(body, {**signed, **(headers or {})})))
        return answer.status, json.loads(answer.body).get("result") or json.loads(answer.body).get("error")


@pytest.fixture
def world() -> World:
    store, sink = InMemoryStore(), RecordingSink()
    secrets = FakeSecrets(name="Zendesk webhook secret", current={SIGNING_SECRET_KEY: TEST_SIGNING_SECRET})
    now = [NOW]
    webhook = DeskEventsWebhook(secrets=secrets, ledger=store, sinks=[sink], max_body_bytes=65536, clock=lambda: now[0])
    return World(store, sink, secrets, webhook, now)


def comment(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {"ticket_id": 4014, "comment_id": 77, "body": "We are on it!", "external_id": KEY, "at": NOW, "event_id": "ev-1"}
    return comment_added(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_verified_comment_reaches_every_sink_once_however_often_zendesk_delivers_it(world: World) -> None:
    """Given a signed comment_added event, when Zendesk delivers it three times, then the sink gets it once and each answer is 200."""
    answers = [world.post(comment()) for _ in range(3)]
    assert answers == [(200, "handled"), (200, "duplicate"), (200, "duplicate")]
    [event] = world.sink.events
    assert (event.kind, event.ticket_id, event.ticket_external_id, event.ticket_tags) == (DeskEventKind.COMMENT_ADDED, 4014, KEY, ("socialdesk",))
    assert event.comment is not None and (event.comment.id, event.comment.is_public, event.comment.author_is_staff) == (77, True, True)


def test_a_sink_failure_answers_503_and_zendesks_retry_delivers_it_again(world: World) -> None:
    """Given a sink that fails once, when the event is delivered twice, then the first answer is 503 and the retry hands it over."""
    world.sink.failures = 1
    assert world.post(comment()) == (503, "retry later")
    assert world.post(comment()) == (200, "handled")
    assert len(world.sink.events) == 1


def test_a_delivery_while_another_holds_the_event_answers_409_so_zendesk_retries(world: World) -> None:
    """Given an event claimed by a delivery still running, when another delivery arrives, then it answers 409 and no sink runs."""
    world.store.claim_desk_event("ev-1", now=NOW, lease_seconds=60)
    assert world.post(comment()) == (409, "busy")
    assert world.sink.events == []
    # And once the first delivery's lease has run out (it died), a retry takes the event over
    world.now[0] = NOW + timedelta(seconds=61)
    assert world.post(comment(), signed_at=world.now[0]) == (200, "handled")


@pytest.mark.parametrize(
    ("headers", "signed_at", "expected"),
    [
        ({"x-zendesk-webhook-signature": "AAAA"}, NOW, (401, "invalid_signature")),
        ({}, NOW - timedelta(minutes=6), (401, "stale_timestamp")),
        ({}, NOW + timedelta(minutes=6), (401, "stale_timestamp")),
    ],
    ids=["forged", "stale", "future"],
)
def test_an_unverified_delivery_is_refused_with_its_reason_and_reaches_no_sink(
    world: World, headers: dict[str, str], signed_at: datetime, expected: tuple[int, str]
) -> None:
    """Given a delivery with a forged signature or a timestamp over 5 minutes off, when received, then 401 with its reason."""
    assert world.post(comment(), signed_at=signed_at, headers=headers) == expected
    assert world.sink.events == [] and world.store.desk_events == {}


def test_a_rotated_secret_is_read_again_once_before_refusing(world: World) -> None:
    """Given a delivery signed with a secret just written, when the cached one does not match, then a fresh read verifies it."""
    world.secrets.current = {SIGNING_SECRET_KEY: "old-secret"}
    world.secrets.after_refresh = {SIGNING_SECRET_KEY: TEST_SIGNING_SECRET}
    assert world.post(comment()) == (200, "handled")
    assert world.secrets.refreshes == 1


def test_without_a_signing_secret_every_delivery_gets_503(world: World) -> None:
    """Given ZendeskWebhookSecret without its key (just deployed), when a delivery arrives, then 503 (fail closed), no sink runs."""
    world.secrets.current = {}
    assert world.post(comment()) == (503, "verification secret unavailable")
    assert world.sink.events == []


def test_other_event_types_are_acknowledged_and_ignored(world: World) -> None:
    """Given a signed event of a type no sink needs, when received, then 200 `ignored`, nothing recorded."""
    assert world.post({**comment(), "type": "zen:event-type:ticket.priority_changed"}) == (200, "ignored")
    assert world.sink.events == [] and world.store.desk_events == {}


def test_wrong_route_method_and_oversize_bodies_are_refused_before_verifying(world: World) -> None:
    """Given a GET, another path and a body over the limit, when received, then 405, 404 and 413."""
    body, headers = signed_request(comment())
    event = apigw_event(body, headers)
    get = {**event, "requestContext": {"http": {"method": "GET", "path": event["rawPath"]}}}
    assert world.webhook.handle(HttpRequest.from_apigw_v2(get)).status == 405
    assert world.webhook.handle(HttpRequest.from_apigw_v2({**event, "rawPath": "/webhooks/zen"})).status == 404
    big, big_headers = signed_request(comment(body="x" * 70_000))
    assert world.webhook.handle(HttpRequest.from_apigw_v2(apigw_event(big, big_headers))).status == 413


def test_a_status_change_is_read_with_its_current_and_previous_status() -> None:
    """Given a status_changed event as Zendesk writes it (capitals, ids as strings), when parsed, then lower-case statuses."""
    payload = {**comment(), "type": "zen:event-type:ticket.status_changed", "event": {"current": "SOLVED", "previous": "OPEN"}}
    event = parse_event(payload)
    assert event is not None
    assert (event.kind, event.status, event.previous_status, event.comment) == (DeskEventKind.STATUS_CHANGED, "solved", "open", None)


@pytest.mark.parametrize("broken", [{"id": ""}, {"detail": None}, {"time": "yesterday"}, {"event": {"comment": {"id": "x"}}}])
def test_an_unreadable_event_is_refused(broken: dict[str, object]) -> None:
    """Given a signed ticket event missing what a sink needs, when parsed, then it is unreadable (a 400, never a 500)."""
    with pytest.raises(UnreadableEventError):
        parse_event({**comment(), **broken})


# --- the agent-reply sink ------------------------------------------------------------------------------------------


def customer_comment(store: InMemoryStore, *, at: datetime = NOW - timedelta(hours=1), message_id: str = "104000000000001_900_1") -> None:
    event = make_event(
        platform="facebook",
        kind="comment",
        event_id=message_id,
        message_id=message_id,
        conversation_key=KEY,
        account_id="104000000000001",
        created_at=at,
        from_brand=False,
        author={"id": "6100000000001", "display_name": "Dana"},
        text="Where is my order?",
    )
    store.record_activity(KEY, event, customer_key="facebook:6100000000001")


def sink_event(**changes: object) -> DeskEvent:
    event = parse_event(comment(**changes))
    assert event is not None
    return event


def test_an_agents_public_comment_becomes_one_reply_job_to_the_customers_latest_message() -> None:
    """Given a Facebook conversation whose customer commented twice, when an agent comments publicly, then one job answers the latest."""
    store, jobs = InMemoryStore(), CollectedJobs()
    customer_comment(store, at=NOW - timedelta(hours=2), message_id="c-first")
    customer_comment(store, at=NOW - timedelta(hours=1), message_id="c-latest")
    customer_comment(store, at=NOW - timedelta(hours=3), message_id="c-late-delivery")  # delivered last, written first
    AgentReplySink(conversations=store, jobs=jobs).on_desk_event(sink_event())
    [job] = jobs.jobs
    assert (job.job_id, job.kind, job.channel, job.reply_to_id, job.recipient_id) == (
        "reply:4014:77",
        JobKind.AGENT_REPLY,
        Channel.PUBLIC_REPLY,
        "c-latest",
        "6100000000001",
    )
    assert (job.text, job.ticket_id, job.customer_message_at, job.conversation_key) == ("We are on it!", 4014, NOW - timedelta(hours=1), KEY)


@pytest.mark.parametrize(
    "changes",
    [{"public": False}, {"staff": False}, {"tags": ("vip",)}, {"body": "  "}, {"external_id": None}, {"external_id": "facebook:unknown"}],
    ids=["internal note", "customer's comment", "not a socialdesk ticket", "empty", "no external id", "unknown conversation"],
)
def test_nothing_is_queued_for_comments_that_are_not_an_agents_public_reply_to_a_known_conversation(changes: dict[str, object]) -> None:
    """Given a note, the customer's own comment (socialdesk writes those), another ticket or an unknown conversation, then no job."""
    store, jobs = InMemoryStore(), CollectedJobs()
    customer_comment(store)
    AgentReplySink(conversations=store, jobs=jobs).on_desk_event(sink_event(**changes))
    assert jobs.jobs == []


def test_the_private_tag_turns_a_comment_reply_into_a_private_reply() -> None:
    """Given a ticket tagged socialdesk_private, when the agent comments, then the job is a private reply to the comment."""
    store, jobs = InMemoryStore(), CollectedJobs()
    customer_comment(store)
    AgentReplySink(conversations=store, jobs=jobs).on_desk_event(sink_event(tags=("socialdesk", "socialdesk_private")))
    assert [(job.channel, job.reply_to_id) for job in jobs.jobs] == [(Channel.PRIVATE_REPLY, "104000000000001_900_1")]


def test_a_failing_queue_fails_the_sink_so_zendesk_retries() -> None:
    """Given an outbound queue that refuses, when the sink runs, then it raises (the webhook answers 503 and Zendesk retries)."""
    store, jobs = InMemoryStore(), CollectedJobs()
    customer_comment(store)
    jobs.failures = 1
    with pytest.raises(ConnectionError):
        AgentReplySink(conversations=store, jobs=jobs).on_desk_event(sink_event())
