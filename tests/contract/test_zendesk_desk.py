"""The Zendesk adapter through the real zenpy client, against `responses` with the JSON Zendesk takes and returns.

Shapes from developer.zendesk.com (tickets, users, tags, idempotency) and zenpy 2.0's source.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses
from zenpy.lib import api as zenpy_api

from socialdesk.desk.port import (
    Comment,
    DeskRateLimitedError,
    DeskRejectedError,
    DeskUnavailableError,
    DeskUser,
    Identity,
    NewTicket,
    TicketClosedError,
    TicketNotFoundError,
    TicketRef,
    TicketView,
)
from socialdesk.desk.zendesk import ZendeskDesk, zendesk_clients

API = "https://acme.zendesk.com/api/v2"
RATE_HEADERS = {"X-Rate-Limit": "700", "X-Rate-Limit-Remaining": "699"}
TICKET = NewTicket(
    subject="X post from @dana_r: my order #4411 never arrived",
    requester_id=494820284,
    body="@AcmeHelp my order #4411 never arrived 📦",
    external_id="x:900000000000000001:thread:1924465506158878979",
    tags=("socialdesk", "socialdesk_x", "socialdesk_post"),
    priority="high",
    group_id=360000000001,
    brand_id=360000000002,
    custom_fields=((360001, 15230), (360002, False)),
)


def created(ticket_id: int = 4014, **headers: str) -> dict[str, Any]:
    """201 with `ticket` and `audit`, as Zendesk answers a ticket creation."""
    body = {
        "ticket": {
            "id": ticket_id,
            "status": "new",
            "external_id": TICKET.external_id,
            "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
        },
        "audit": {"id": 9001, "ticket_id": ticket_id, "events": [{"type": "Comment", "public": True}, {"type": "Create", "field_name": "subject"}]},
    }
    return {"json": body, "status": 201, "headers": {**RATE_HEADERS, **headers}}


@pytest.fixture
def desk() -> ZendeskDesk:
    return ZendeskDesk(
        zendesk_clients(subdomain="acme", domain="zendesk.com", email="bot@acme.example", token="api-token", oauth_token=None, timeout=5)
    )


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture(autouse=True)
def no_sleeping(monkeypatch: pytest.MonkeyPatch) -> None:
    """zenpy sleeps on 429 by itself; the adapter must never let it."""

    def refuse(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s in-process")

    monkeypatch.setattr("zenpy.lib.api.sleep", refuse)


def sent(api: responses.RequestsMock, index: int = 0) -> Any:
    body = api.calls[index].request.body
    return json.loads(body) if isinstance(body, str | bytes) else None


def test_ticket_creation_sends_exactly_the_ticket_and_the_idempotency_key(desk: ZendeskDesk, api: responses.RequestsMock) -> None:
    api.post(f"{API}/tickets.json", **created())
    ticket_id = desk.create_ticket(TICKET, idempotency_key="socialdesk-abc")
    assert ticket_id == 4014
    request = api.calls[0].request
    assert request.headers["Idempotency-Key"] == "socialdesk-abc"
    assert str(request.headers["Authorization"]).startswith("Basic ")
    assert sent(api) == {
        "ticket": {
            "subject": "X post from @dana_r: my order #4411 never arrived",
            "requester_id": 494820284,
            "external_id": "x:900000000000000001:thread:1924465506158878979",
            "tags": ["socialdesk", "socialdesk_x", "socialdesk_post"],
            "comment": {"body": "@AcmeHelp my order #4411 never arrived 📦", "public": True, "author_id": 494820284},
            "priority": "high",
            "group_id": 360000000001,
            "brand_id": 360000000002,
            "custom_fields": [{"id": 360001, "value": 15230}, {"id": 360002, "value": False}],
        }
    }


def test_idempotent_replay_returns_the_first_ticket(desk: ZendeskDesk, api: responses.RequestsMock) -> None:
    # Zendesk answers a replayed key and body with the original response and `x-idempotency-lookup: hit`.
    api.post(f"{API}/tickets.json", **created(4014, **{"x-idempotency-lookup": "miss"}))
    api.post(f"{API}/tickets.json", **created(4014, **{"x-idempotency-lookup": "hit"}))
    assert desk.create_ticket(TICKET, idempotency_key="k") == desk.create_ticket(TICKET, idempotency_key="k") == 4014


def test_the_idempotency_key_goes_only_on_ticket_creation(desk: ZendeskDesk, api: responses.RequestsMock) -> None:
    api.post(f"{API}/tickets.json", **created())
    api.put(f"{API}/tickets/4014.json", json={"ticket": {"id": 4014, "status": "open"}, "audit": {"id": 2}}, headers=RATE_HEADERS)
    desk.create_ticket(TICKET, idempotency_key="k")
    desk.add_comment(4014, Comment(body="note", public=False))
    assert "Idempotency-Key" not in api.calls[1].request.headers


def test_follow_up_ticket_names_the_closed_ticket(desk: ZendeskDesk, api: responses.RequestsMock) -> None:
    api.post(f"{API}/tickets.json", **created(4020))
    desk.create_ticket(NewTicket(subject="s", requester_id=1, body="again", external_id="k", follow_up_of=4014), idempotency_key="k2")
    assert sent(api)["ticket"]["via_followup_source_id"] == 4014


def test_customer_comment_reopens_and_always_says_public(desk: ZendeskDesk, api: responses.RequestsMock) -> None:
    api.put(f"{API}/tickets/4014.json", json={"ticket": {"id": 4014, "status": "open"}, "audit": {"id": 2}}, headers=RATE_HEADERS)
    api.put(f"{API}/tickets/4014.json", json={"ticket": {"id": 4014, "status": "open"}, "audit": {"id": 3}}, headers=RATE_HEADERS)
    desk.add_comment(4014, Comment(body="still waiting", public=True, author_id=494820284), reopen=True)
    desk.add_comment(4014, Comment(body="Replied on X", public=False))
    assert sent(api, 0) == {"ticket": {"id": 4014, "status": "open", "comment": {"body": "still waiting", "public": True, "author_id": 494820284}}}
    assert sent(api, 1) == {"ticket": {"id": 4014, "comment": {"body": "Replied on X", "public": False}}}


def test_a_comment_answers_with_the_tickets_tags_and_priority(desk: ZendeskDesk, api: responses.RequestsMock) -> None:
    """Given Zendesk's answer to an update (the ticket and its audit, developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-ticket)
    When a comment is added, Then the adapter returns the ticket's tags and priority as they now are, and a ticket that
    has neither (no tag, no priority) comes back empty: what is missing is then added, nothing assumed."""
    ticket = {"id": 4014, "status": "open", "priority": "high", "tags": ["socialdesk", "lang_es", "sentiment_neutral"]}
    api.put(f"{API}/tickets/4014.json", json={"ticket": ticket, "audit": {"id": 2, "events": [{"type": "Comment"}]}}, headers=RATE_HEADERS)
    api.put(
        f"{API}/tickets/4014.json",
        json={"ticket": {"id": 4014, "status": "open", "priority": None, "tags": []}, "audit": {"id": 3}},
        headers=RATE_HEADERS,
    )
    view = desk.add_comment(4014, Comment(body="sigo esperando", public=True, author_id=494820284), reopen=True)
    assert view == TicketView(tags=frozenset({"socialdesk", "lang_es", "sentiment_neutral"}), priority="high")
    assert desk.add_comment(4014, Comment(body="again", public=True)) == TicketView()


def record_invalid(field: str, description: str) -> dict[str, Any]:
    """Zendesk's 422 body for a validation error on one field."""
    return {"error": "RecordInvalid", "description": "Record validation errors", "details": {field: [{"description": description}]}}


def test_closed_ticket_refusal_is_recognised(desk: ZendeskDesk, api: responses.RequestsMock) -> None:
    # The 422 body Zendesk returns for a comment on a closed ticket (Speedygeek/ZendeskApi_v2#59).
    api.put(f"{API}/tickets/4014.json", json=record_invalid("status", "Status: closed prevents ticket update"), status=422)
    with pytest.raises(TicketClosedError):
        desk.add_comment(4014, Comment(body="hello?", public=True, author_id=1), reopen=True)


def test_other_validation_errors_are_permanent_and_do_not_leak_values(desk: ZendeskDesk, api: responses.RequestsMock) -> None:
    api.post(f"{API}/tickets.json", json=record_invalid("base", "Type: is required, secret-value"), status=422)
    with pytest.raises(DeskRejectedError) as raised:
        desk.create_ticket(TICKET, idempotency_key="k")
    assert str(raised.value) == 'Zendesk answered 422: {"error": "RecordInvalid", "fields": ["base"]}'


def test_deleted_ticket_is_not_found(desk: ZendeskDesk, api: responses.RequestsMock) -> None:
    api.put(f"{API}/tickets/4014.json", json={"error": "RecordNotFound", "description": "Not found"}, status=404)
    with pytest.raises(TicketNotFoundError):
        desk.add_comment(4014, Comment(body="hi", public=True, author_id=1))


@pytest.mark.parametrize(
    ("retry_after", "expected"), [("37", 37), (None, 60), ("0", 60), ("soon", 60)], ids=["given", "absent", "zero", "not-a-number"]
)
def test_429_is_handed_back_with_its_wait_and_never_slept_on(
    desk: ZendeskDesk, api: responses.RequestsMock, retry_after: str | None, expected: int
) -> None:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    api.post(f"{API}/tickets.json", json={"error": "APIRateLimitExceeded"}, status=429, headers=headers)
    with pytest.raises(DeskRateLimitedError) as raised:
        desk.create_ticket(TICKET, idempotency_key="k")
    assert raised.value.retry_after == expected
    assert len(api.calls) == 1


@pytest.mark.parametrize(
    "answer",
    [
        {"json": {"error": "InternalError"}, "status": 500},
        {"body": "<html>Bad gateway</html>", "status": 502, "content_type": "text/html"},
        {"body": requests.ConnectTimeout("connect timeout")},
    ],
    ids=["500-json", "502-html", "timeout"],
)
def test_server_errors_and_timeouts_are_worth_retrying(desk: ZendeskDesk, api: responses.RequestsMock, answer: dict[str, Any]) -> None:
    api.post(f"{API}/tickets.json", **answer)
    with pytest.raises(DeskUnavailableError):
        desk.create_ticket(TICKET, idempotency_key="k")


def test_end_user_is_created_or_updated_by_external_id_with_identity(desk: ZendeskDesk, api: responses.RequestsMock) -> None:
    api.post(f"{API}/users/create_or_update.json", json={"user": {"id": 494820284, "name": "Dana R", "external_id": "x:123456789"}}, status=201)
    user = DeskUser(external_id="x:123456789", name="Dana R", identities=(Identity("twitter", "dana_r"),))
    assert desk.upsert_user(user) == 494820284
    assert sent(api) == {
        "user": {"name": "Dana R", "external_id": "x:123456789", "skip_verify_email": True, "identities": [{"type": "twitter", "value": "dana_r"}]}
    }


def test_identity_taken_by_another_user_falls_back_to_the_external_id_only(desk: ZendeskDesk, api: responses.RequestsMock) -> None:
    taken = record_invalid("value", "Value: dana_r is already being used")
    api.post(f"{API}/users/create_or_update.json", json=taken, status=422)
    api.post(f"{API}/users/create_or_update.json", json={"user": {"id": 77}}, status=200)
    assert desk.upsert_user(DeskUser(external_id="x:1", name="Dana R", identities=(Identity("twitter", "dana_r"),))) == 77
    assert "identities" not in sent(api, 1)["user"]


def test_tickets_are_found_by_external_id_from_the_list_not_search(desk: ZendeskDesk, api: responses.RequestsMock) -> None:
    tickets = {"tickets": [{"id": 4014, "status": "closed"}, {"id": 4020, "status": "open"}], "meta": {"has_more": False}, "links": {"next": None}}
    api.get(f"{API}/tickets.json", json=tickets, headers=RATE_HEADERS)
    assert desk.find_tickets("x:9:thread:1") == [TicketRef(4014, "closed"), TicketRef(4020, "open")]
    request = api.calls[0].request
    assert request.url is not None and "/search" not in request.url
    assert parse_qs(urlparse(request.url).query)["external_id"] == ["x:9:thread:1"]


def test_tags_are_added_without_replacing_the_others(desk: ZendeskDesk, api: responses.RequestsMock) -> None:
    api.put(f"{API}/tickets/4014/tags.json", json={"tags": ["socialdesk", "socialdesk_deleted"]})
    desk.add_tags(4014, ["socialdesk_deleted"])
    assert (api.calls[0].request.method, sent(api)) == ("PUT", {"tags": ["socialdesk_deleted"]})


def comments_page(*comments: tuple[str, bool, int, str]) -> dict[str, Any]:
    """List Comments as Zendesk answers it (api-reference/ticketing/tickets/ticket_comments): body, public, author_id, created_at."""
    return {
        "comments": [
            {
                "id": 7000 + n,
                "type": "Comment",
                "author_id": author,
                "body": body,
                "html_body": f'<div class="zd-comment" dir="auto"><p dir="auto">{body}</p></div>',
                "plain_body": body,
                "public": public,
                "attachments": [],
                "audit_id": 9000 + n,
                "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
                "created_at": at,
                "metadata": {"system": {}, "custom": {}},
            }
            for n, (body, public, author, at) in enumerate(comments)
        ],
        "next_page": None,
        "previous_page": None,
        "count": len(comments),
    }


def test_a_retry_finds_its_own_comment_but_not_an_identical_earlier_one_nor_a_note(desk: ZendeskDesk, api: responses.RequestsMock) -> None:
    # Given a ticket where the customer wrote "?" at 09:00, and again at 10:00:05, and an agent's note says "?"
    since = datetime(2026, 11, 23, 10, 0, 4, 700_000, tzinfo=UTC)  # the second message's first try began
    page = comments_page(
        ("?", True, 494820284, "2026-11-23T09:00:00Z"), ("?  ", True, 494820284, "2026-11-23T10:00:04Z"), ("?", False, 1, "2026-11-23T10:00:09Z")
    )
    api.get(f"{API}/tickets/4014/comments.json", json=page, headers=RATE_HEADERS)
    # Then the customer's comment made since the try began (Zendesk's seconds, white space folded) is found
    assert desk.has_comment(4014, Comment(body="?", public=True, author_id=494820284), since=since)
    # And an identical comment before it, or by someone else, or of the other visibility, is not taken for it
    api.get(f"{API}/tickets/4015/comments.json", json=comments_page(("?", True, 494820284, "2026-11-23T09:00:00Z")), headers=RATE_HEADERS)
    assert not desk.has_comment(4015, Comment(body="?", public=True, author_id=494820284), since=since)
    api.get(f"{API}/tickets/4016/comments.json", json=comments_page(("?", False, 1, "2026-11-23T10:00:09Z")), headers=RATE_HEADERS)
    assert not desk.has_comment(4016, Comment(body="?", public=True, author_id=494820284), since=since)


@pytest.mark.parametrize(
    ("status", "uncertain"), [(409, False), (503, False), (504, True), (502, True)], ids=["conflict", "unavailable", "gateway-timeout", "bad-gateway"]
)
def test_retryable_answers_say_whether_the_comment_may_have_been_added(
    desk: ZendeskDesk, api: responses.RequestsMock, status: int, uncertain: bool
) -> None:
    api.put(f"{API}/tickets/4014.json", json={"error": "Conflict"}, status=status)
    with pytest.raises(DeskUnavailableError) as raised:
        desk.add_comment(4014, Comment(body="hola", public=True))
    assert raised.value.uncertain is uncertain


def test_a_read_timeout_leaves_it_unknown_whether_the_comment_was_added(desk: ZendeskDesk, api: responses.RequestsMock) -> None:
    api.put(f"{API}/tickets/4014.json", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(DeskUnavailableError) as raised:
        desk.add_comment(4014, Comment(body="hola", public=True))
    assert raised.value.uncertain


def shown_ticket(priority: str | None) -> dict[str, Any]:
    """Show Ticket as Zendesk answers it (api-reference/ticketing/tickets/tickets/#show-ticket), the fields zenpy reads."""
    return {"ticket": {"id": 4014, "status": "open", "priority": priority, "subject": "X mention from @dana", "tags": ["socialdesk"]}}


@pytest.mark.parametrize("current", [None, "low", "normal"])
def test_a_higher_priority_is_set_with_one_read_and_one_write(desk: ZendeskDesk, api: responses.RequestsMock, current: str | None) -> None:
    # Given a ticket below urgent
    api.get(f"{API}/tickets/4014.json", json=shown_ticket(current))
    api.put(f"{API}/tickets/4014.json", json=shown_ticket("urgent"))
    # When an angrier follow-up asks for urgent
    desk.raise_priority(4014, "urgent")
    # Then the ticket is read once and only its priority is written
    assert [call.request.method for call in api.calls] == ["GET", "PUT"]
    assert sent(api, 1) == {"ticket": {"id": 4014, "priority": "urgent"}}


@pytest.mark.parametrize("current", ["high", "urgent"])
def test_a_priority_already_as_high_is_never_lowered(desk: ZendeskDesk, api: responses.RequestsMock, current: str) -> None:
    # Given a ticket an agent (or an earlier message) set to high or urgent
    api.get(f"{API}/tickets/4014.json", json=shown_ticket(current))
    # When a follow-up asks for high
    desk.raise_priority(4014, "high")
    # Then nothing is written
    assert [call.request.method for call in api.calls] == ["GET"]


def test_a_comment_sent_while_another_threads_update_is_answered_keeps_its_words(
    desk: ZendeskDesk, api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given one thread's comment on ticket 4015 waiting for Zendesk's answer (the batch runs conversations side by side)
    building, answered = threading.Event(), threading.Event()

    def answer_when_the_other_builds(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        assert building.wait(5)
        return 200, RATE_HEADERS, json.dumps({"ticket": {"id": 4015, "status": "open"}, "audit": {"id": 4}})

    api.add_callback(responses.PUT, f"{API}/tickets/4015.json", callback=answer_when_the_other_builds)
    api.put(f"{API}/tickets/4014.json", json={"ticket": {"id": 4014, "status": "open"}, "audit": {"id": 5}}, headers=RATE_HEADERS)

    def comment_then_say_so() -> None:
        desk.add_comment(4015, Comment(body="first thread", public=False))
        answered.set()

    other = threading.Thread(target=comment_then_say_so)
    other.start()
    # When that answer arrives while this thread's comment on ticket 4014 is being turned into JSON
    encode = zenpy_api.json_encode_for_zendesk

    def encode_once_the_other_is_answered(obj: Any) -> Any:
        if threading.current_thread() is not other and not building.is_set():
            building.set()
            assert answered.wait(5)
        return encode(obj)

    monkeypatch.setattr(zenpy_api, "json_encode_for_zendesk", encode_once_the_other_is_answered)
    desk.add_comment(4014, Comment(body="second thread", public=True, author_id=494820284), reopen=True)
    other.join(5)
    # Then the comment goes out whole: the other thread's answer cleared nothing of it (zenpy's clients are per thread)
    [sent_4014] = [json.loads(call.request.body or b"{}") for call in api.calls if call.request.url == f"{API}/tickets/4014.json"]
    assert sent_4014 == {"ticket": {"id": 4014, "status": "open", "comment": {"body": "second thread", "public": True, "author_id": 494820284}}}


def test_an_escalation_reassigns_the_ticket_with_one_write_of_its_group(desk: ZendeskDesk, api: responses.RequestsMock) -> None:
    # Given a ticket (Update Ticket: developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-ticket)
    api.put(f"{API}/tickets/4014.json", json={"ticket": {**shown_ticket("high")["ticket"], "group_id": 360000000009}})
    # When the SLA ladder's level 2 reassigns it to the escalation group
    desk.assign_group(4014, 360000000009)
    # Then only the group is written, once
    assert [call.request.method for call in api.calls] == ["PUT"]
    assert sent(api) == {"ticket": {"id": 4014, "group_id": 360000000009}}


def test_a_reassignment_refused_by_the_rate_limit_hands_back_its_wait(desk: ZendeskDesk, api: responses.RequestsMock) -> None:
    # Given Zendesk answers 429 with Retry-After
    api.put(f"{API}/tickets/4014.json", json={"error": "APIRateLimitExceeded"}, status=429, headers={"Retry-After": "37"})
    # When the check reassigns a ticket
    # Then the port's rate-limit error carries the wait (the check defers to its next run), and nothing slept
    with pytest.raises(DeskRateLimitedError) as raised:
        desk.assign_group(4014, 360000000009)
    assert raised.value.retry_after == 37


@pytest.mark.parametrize("value", ["2026-12-04T10:06:00Z", None])
def test_the_due_at_field_is_set_or_emptied_with_one_write_of_that_field_alone(
    desk: ZendeskDesk, api: responses.RequestsMock, value: str | None
) -> None:
    # Given a ticket (Update Ticket with custom_fields: developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-ticket)
    api.put(f"{API}/tickets/4014.json", json={"ticket": {**shown_ticket("high")["ticket"], "custom_fields": [{"id": 360000000030, "value": value}]}})
    # When the response clock shows its due time in the "due at" field, or empties it once answered
    desk.set_field(4014, 360000000030, value)
    # Then only that field is written, once
    assert sent(api) == {"ticket": {"id": 4014, "custom_fields": [{"id": 360000000030, "value": value}]}}


def test_a_customer_comment_carries_the_messaging_state_field_in_the_same_update(desk: ZendeskDesk, api: responses.RequestsMock) -> None:
    """Given the messaging state field (replies.state_field), when a customer's comment is added, then one PUT holds the
    comment, the reopening and `custom_fields` with that field alone (Update Ticket: Zendesk keeps the fields not named,
    developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-ticket)."""
    line = "WhatsApp: 24-hour window open until 5 Dec 14:03 UTC: free text, then a template only"
    api.put(
        f"{API}/tickets/4014.json",
        json={"ticket": {"id": 4014, "status": "open", "custom_fields": [{"id": 360000000031, "value": line}]}, "audit": {"id": 4}},
        headers=RATE_HEADERS,
    )
    desk.add_comment(4014, Comment(body="still waiting", public=True, author_id=494820284), reopen=True, custom_fields=((360000000031, line),))
    assert len(api.calls) == 1
    assert sent(api) == {
        "ticket": {
            "id": 4014,
            "status": "open",
            "comment": {"body": "still waiting", "public": True, "author_id": 494820284},
            "custom_fields": [{"id": 360000000031, "value": line}],
        }
    }
