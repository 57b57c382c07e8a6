"""Whole flows: signed webhook -> ingest -> SQS -> process -> Zendesk and Salesforce.

AWS is moto, provisioned from infra/template.yaml; Zendesk and Salesforce are stateful HTTP
fakes, so the real handlers, zenpy and simple-salesforce all run.
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

import pytest

from functions.process.app import lambda_handler as process_handler
from socialdesk import composition
from socialdesk.store.dynamodb import DynamoDbConversationStore
from tests.support.http_fakes import Gate
from tests.support.process_fakes import CrashError
from tests.support.process_stack import Flow
from tests.support.webhooks import FakeLambdaContext, meta_post, sample, sample_body, to_bytes


def failures(response: dict[str, Any] | None) -> list[str]:
    assert response is not None
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def test_the_same_event_delivered_three_times_gives_one_ticket_one_comment_set_one_task(flow: Flow) -> None:
    # Given Meta redelivers the same WhatsApp message three times
    for _ in range(3):
        flow.webhook(sample("meta-whatsapp-text"))
    # When every queued message is processed
    assert all(failures(response) == [] for response in flow.process_all())
    # Then one ticket holds the message once, and Salesforce has one activity
    [ticket] = flow.zendesk.tickets.values()
    public = [comment["body"] for comment in ticket["comments"] if comment["public"]]
    assert public == ["Mi pedido no ha llegado. ¿Pueden ayudarme? 🙏"]
    assert len(flow.salesforce.tasks) == 1
    assert flow.zendesk.calls["POST /tickets.json"] == 1


def test_a_conversation_flows_into_both_systems_with_links_between_them(flow: Flow) -> None:
    flow.webhook(sample("meta-fb-comment"))
    flow.webhook(sample("meta-fb-comment-reply"))
    flow.webhook(sample("meta-fb-page-reply"))
    flow.process_all()
    [ticket] = flow.zendesk.tickets.values()
    assert ticket["external_id"] == "facebook:448242228374517:post:448242228374517_1221316769125949"
    bodies = [(comment["public"], comment["body"].splitlines()[0]) for comment in ticket["comments"]]
    assert bodies == [
        (True, "Todavía espero mi reembolso — ¿qué pasó? café derramado ☕"),
        (False, "Social context (socialdesk)"),
        (True, "Any update on this?"),
        (False, "Replied on Facebook:"),
    ]
    descriptions = [task["Description"] for task in flow.salesforce.tasks.values()]
    assert len(descriptions) == 2
    assert all(f"Zendesk ticket: https://acme.zendesk.com/agent/tickets/{ticket['id']}" in text for text in descriptions)
    [contact] = flow.salesforce.contacts.values()
    assert contact["LastName"] == "Dana Rodríguez"


def test_two_first_messages_of_one_thread_processed_at_once_open_one_ticket(flow: Flow) -> None:
    # Given two first comments on one Facebook post, picked up by two function instances at once
    flow.webhook(sample("meta-fb-comment"))
    flow.webhook(sample("meta-fb-comment-reply"))
    first = flow.aws.receive_lambda_event(flow.aws.inbound_url, max_messages=1)
    second = flow.aws.receive_lambda_event(flow.aws.inbound_url, max_messages=1)
    assert first and second
    # When A has claimed the conversation and is inside the ticket creation while B runs start to finish
    # (moto, unlike DynamoDB, does not make two simultaneous conditional writes atomic, so the test fixes this interleaving)
    gate = flow.zendesk.gates["POST /tickets.json"] = Gate()
    results: dict[str, Any] = {}
    a = threading.Thread(target=lambda: results.setdefault("a", process_handler(first, FakeLambdaContext())))
    a.start()
    assert gate.entered.wait(timeout=10)
    results["b"] = process_handler(second, FakeLambdaContext())
    gate.release.set()
    a.join(timeout=20)
    # Then B waits (a claim, not a second ticket): a delayed copy replaces it, costing no receive; A's ticket is the only one
    assert failures(results["a"]) == []
    assert failures(results["b"]) == []
    [(delay, body)] = flow.requeued
    assert 0 < delay <= 15
    assert body["event_id"] == json.loads(second["Records"][0]["body"])["event_id"]
    assert flow.zendesk.calls["POST /tickets.json"] == 1
    # And when B returns, it joins A's ticket
    assert failures(flow.process_once()) == []
    [ticket] = flow.zendesk.tickets.values()
    assert [comment["public"] for comment in ticket["comments"]].count(True) == 2


def test_a_crash_between_the_zendesk_create_and_the_store_write_still_gives_one_ticket(flow: Flow, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the function dies right after Zendesk created the ticket, before the store records it
    flow.webhook(sample("meta-instagram-comment"))
    real_set_ticket = DynamoDbConversationStore.set_ticket
    crashes = iter([True])

    def set_ticket_then_maybe_crash(self: DynamoDbConversationStore, *args: Any, **kwargs: Any) -> None:
        if next(crashes, False):
            raise CrashError
        real_set_ticket(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDbConversationStore, "set_ticket", set_ticket_then_maybe_crash)
    event = flow.aws.receive_lambda_event(flow.aws.inbound_url)
    assert event
    with pytest.raises(CrashError):
        process_handler(event, FakeLambdaContext())
    # When SQS delivers the message again to a fresh container
    composition.reset()
    flow.make_visible(event["Records"][0]["receiptHandle"])
    assert failures(flow.process_once()) == []
    # Then there is still exactly one ticket, with the comment once
    [ticket] = flow.zendesk.tickets.values()
    assert [comment["body"] for comment in ticket["comments"] if comment["public"]] == ["@acme my order is late 😡 #4411"]
    assert flow.zendesk.calls["GET /tickets.json"] == 1  # the retry looked the ticket up by its external id
    assert flow.zendesk.calls["POST /tickets.json"] == 1  # and did not create another
    assert len(flow.salesforce.tasks) == 1


def test_a_batch_of_ten_with_one_poisoned_message_completes_nine_and_reports_one(flow: Flow) -> None:
    # Given one WhatsApp delivery with ten customers' messages, one of whom Zendesk cannot take right now
    payload = sample_body("meta-whatsapp-text")
    value = payload["entry"][0]["changes"][0]["value"]
    template = value["messages"][0]
    value["messages"] = [{**copy.deepcopy(template), "from": f"1650555{n:04d}", "id": f"wamid.batch{n}"} for n in range(10)]
    value["contacts"] = [{"profile": {"name": f"Customer {n}"}, "wa_id": f"1650555{n:04d}"} for n in range(10)]
    flow.zendesk.unavailable_for.add("whatsapp:16505550007")
    flow.webhook(meta_post(to_bytes(payload)))
    # When the batch is processed
    response = flow.process_once()
    # Then nine tickets exist, and exactly the poisoned message comes back in a minute, as a copy counting one failure
    assert len(flow.zendesk.tickets) == 9
    assert failures(response) == []
    [(wait, body)] = flow.requeued
    assert body["author"]["id"] == "16505550007"
    assert 60 <= wait <= 66  # the first retry's minute, plus up to 10 % jitter
    [copy_of_it] = flow.aws.drain(flow.aws.inbound_url)
    assert json.loads(copy_of_it["MessageAttributes"]["socialdesk_retry"]["StringValue"])["failures"] == 1
    # And the nine have their Tasks, linked; the tenth's waits for its ticket, so it will carry the link
    assert len(flow.salesforce.tasks) == 9
    assert all("/agent/tickets/" in task["Description"] for task in flow.salesforce.tasks.values())


def test_a_body_that_is_not_a_canonical_event_goes_to_the_dead_letter_queue_at_once(flow: Flow) -> None:
    flow.aws.sqs.send_message(QueueUrl=flow.aws.inbound_url, MessageBody='{"not": "an event"}')
    assert failures(flow.process_once()) == []
    [dead] = flow.aws.drain(flow.aws.dead_letter_url)
    assert dead["Body"] == '{"not": "an event"}'
    assert dead["MessageAttributes"]["socialdesk_failure"]["StringValue"].startswith("not a canonical event: Object missing required field")


def test_a_refused_ticket_is_dead_lettered_with_its_reason_and_salesforce_still_done(flow: Flow) -> None:
    invalid = {"error": "RecordInvalid", "description": "Record validation errors", "details": {"group_id": [{"description": "invalid"}]}}
    flow.zendesk.forced.add(r"POST /tickets\.json", 422, invalid)
    flow.webhook(sample("meta-messenger-message"))
    assert failures(flow.process_once()) == []
    [dead] = flow.aws.drain(flow.aws.dead_letter_url)
    reason = dead["MessageAttributes"]["socialdesk_failure"]["StringValue"]
    assert reason == 'Zendesk refused the request: Zendesk answered 422: {"error": "RecordInvalid", "fields": ["group_id"]}'
    assert dead["MessageAttributes"]["platform"]["StringValue"] == "messenger"
    assert len(flow.salesforce.tasks) == 1


def test_a_zendesk_429_makes_the_message_wait_retry_after_in_sqs(flow: Flow) -> None:
    flow.zendesk.forced.add(r"POST /users/create_or_update\.json", 429, {"error": "TooManyRequests"}, {"Retry-After": "42"})
    flow.webhook(sample("x-dm"))
    assert failures(flow.process_once()) == []
    [(wait, _)] = flow.requeued
    assert 42 <= wait <= 46
    assert flow.zendesk.calls["POST /users/create_or_update.json"] == 1  # no in-process retry
    [copy_of_it] = flow.aws.drain(flow.aws.inbound_url)
    assert "failures" not in json.loads(copy_of_it["MessageAttributes"]["socialdesk_retry"]["StringValue"])  # waiting is not failing


def test_every_sample_webhook_is_processed_without_a_failure_or_a_dead_letter(flow: Flow) -> None:
    # Given every signed POST sample in events/, in order, as the platforms would send them
    from tests.support.webhooks import SAMPLE_NAMES

    for name in SAMPLE_NAMES:
        if sample(name)["requestContext"]["http"]["method"] == "POST":
            flow.webhook(sample(name))
    # When everything queued is processed
    answers = flow.process_all()
    # Then nothing failed, nothing was dead-lettered, and each conversation has one ticket
    assert [failures(answer) for answer in answers if failures(answer)] == []
    assert flow.aws.drain(flow.aws.dead_letter_url) == []
    external_ids = [ticket["external_id"] for ticket in flow.zendesk.tickets.values()]
    assert len(external_ids) == len(set(external_ids))


def test_a_phone_keyed_whatsapp_chat_continues_through_dynamodb_when_the_customers_bsuid_appears(flow: Flow) -> None:
    # Given Dana's chat, ticket, Zendesk user and Salesforce contact, keyed by her number before business-scoped ids
    flow.webhook(sample("meta-whatsapp-text"))
    flow.process_all()
    # When she writes with her BSUID and number, then with her username alone, and a message to her BSUID fails
    for name in ("meta-whatsapp-text-bsuid", "meta-whatsapp-username", "meta-whatsapp-status-failed-bsuid"):
        flow.webhook(sample(name))
        assert [failures(answer) for answer in flow.process_all()] == [[]]
    # Then the one ticket of the phone-keyed chat has her three messages by her and the warning note
    [ticket] = flow.zendesk.tickets.values()
    assert ticket["external_id"] == "whatsapp:106540352242922:chat:16505551234"
    comments = [(comment["public"], comment["body"].splitlines()[0][:60]) for comment in ticket["comments"]]
    assert comments == [
        (True, "Mi pedido no ha llegado. ¿Pueden ayudarme? 🙏"),
        (False, "Social context (socialdesk)"),
        (True, "Sigo esperando el pedido #4411, ¿me dicen algo?"),
        (True, "Gracias, ya tengo el número de seguimiento 👍"),
        (False, "⚠ A WhatsApp message to the customer was not delivered (1310"),
    ]
    assert {comment["author_id"] for comment in ticket["comments"] if comment["public"]} == {ticket["requester_id"]}
    # And she is one Zendesk user and one Salesforce contact, whose three Tasks hang on that contact
    assert list(flow.zendesk.users) == ["whatsapp:16505551234"]
    [contact] = flow.salesforce.contacts.values()
    assert [task["WhoId"] for task in flow.salesforce.tasks.values()] == [contact["Id"]] * 3
