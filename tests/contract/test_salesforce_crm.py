"""The Salesforce adapter through the real simple-salesforce client, against `responses` with Salesforce's JSON.

Shapes from the REST API guide (composite, upsert by external ID, sObject create, query) and
the Salesforce REST API Developer Guide (upsert, Composite, Task) and simple-salesforce 1.12's source. Login is the real JWT bearer flow,
signed with a key made for the test.
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
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from socialdesk.crm.port import CrmActivity, CrmContact, CrmRateLimitedError, CrmRejectedError, CrmUnavailableError, RecordedActivity
from socialdesk.crm.salesforce import SalesforceConnection, SalesforceCredentials, SalesforceCrm
from socialdesk.model import EventKind, Platform
from socialdesk.rules import SalesforceRules

TOKEN_URL = "https://acme.my.salesforce.com/services/oauth2/token"
DATA = "https://acme.my.salesforce.com/services/data/v62.0"
CONTACT = CrmContact(external_id="x:123456789", name="Dana R", handle="dana_r", profile_url="https://x.com/dana_r", follower_count=15230)
ACTIVITY = CrmActivity(
    event_key="x:900000000000000001:1924465506158878979",
    platform=Platform.X,
    kind=EventKind.POST,
    subject="X post from @dana_r: my order #4411 never arrived",
    text="@AcmeHelp my order #4411 never arrived 📦",
    occurred_at=datetime(2025, 5, 19, 14, 1, 46, tzinfo=UTC),
    permalink="https://x.com/dana_r/status/1924465506158878979",
    ticket_url="https://acme.zendesk.com/agent/tickets/4014",
)
EXPECTED_TASK = {
    "Subject": "X post from @dana_r: my order #4411 never arrived",
    "Description": (
        "@AcmeHelp my order #4411 never arrived 📦\n\n"
        "On x: https://x.com/dana_r/status/1924465506158878979\n"
        "Zendesk ticket: https://acme.zendesk.com/agent/tickets/4014\n"
        "socialdesk event: x:900000000000000001:1924465506158878979"
    ),
    "Status": "Completed",
    "Priority": "Normal",
    "ActivityDate": "2025-05-19",
    "TaskSubtype": "Task",
    "Socialdesk_Event_Key__c": "x:900000000000000001:1924465506158878979",
}
SESSION_EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


@pytest.fixture(scope="module")
def private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def make_rules(**changes: Any) -> SalesforceRules:
    values = {"login_domain": "acme.my", "contact_external_id_field": "Social_Handle__c", "task_event_key_field": "Socialdesk_Event_Key__c"}
    return SalesforceRules.model_validate({**values, **changes})


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def crm(private_key: str, api: responses.RequestsMock, *, logins: int = 1, **rule_changes: Any) -> SalesforceCrm:
    for n in range(logins):
        token = {
            "access_token": f"00Dxx0000001gPL!token{n}",
            "instance_url": "https://acme.my.salesforce.com",
            "token_type": "Bearer",
            "scope": "api",
        }
        api.post(TOKEN_URL, json=token)
    rules = make_rules(**rule_changes)
    credentials = SalesforceCredentials(consumer_key="3MVG9-consumer-key", username="socialdesk@acme.example", private_key=private_key)
    return SalesforceCrm(SalesforceConnection(rules, credentials), rules)


def composite_answer(*subresponses: tuple[str, int, Any]) -> dict[str, Any]:
    return {
        "compositeResponse": [{"body": body, "httpHeaders": {}, "httpStatusCode": status, "referenceId": ref} for ref, status, body in subresponses]
    }


def requests_sent(api: responses.RequestsMock, url_part: str) -> list[Any]:
    return [
        json.loads(call.request.body)
        for call in api.calls
        if call.request.url and url_part in call.request.url and isinstance(call.request.body, str | bytes) and call.request.body
    ]


def test_a_new_contact_and_its_task_go_in_one_composite_request(private_key: str, api: responses.RequestsMock) -> None:
    adapter = crm(private_key, api, contact_fields={"LeadSource": "Social"})
    api.post(
        f"{DATA}/composite",
        json=composite_answer(
            ("contact", 201, {"id": "003AAAAAAAAAAAAAAA", "success": True, "errors": [], "created": True}),
            ("task", 201, {"id": "00TBBBBBBBBBBBBBBB", "success": True, "errors": []}),
        ),
    )
    recorded = adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id=None, persona_id=None)
    assert recorded == RecordedActivity(contact_id="003AAAAAAAAAAAAAAA", activity_id="00TBBBBBBBBBBBBBBB")
    [body] = requests_sent(api, "/composite")
    assert body == {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "PATCH",
                "url": "/services/data/v62.0/sobjects/Contact/Social_Handle__c/x%3A123456789",
                "referenceId": "contact",
                "body": {"LastName": "Dana R", "LeadSource": "Social"},
            },
            {
                "method": "POST",
                "url": "/services/data/v62.0/sobjects/Task",
                "referenceId": "task",
                "body": {"WhoId": "@{contact.id}", **EXPECTED_TASK},
            },
        ],
    }
    assert api.calls[-1].request.headers["Authorization"] == "Bearer 00Dxx0000001gPL!token0"


def test_jwt_login_presents_a_signed_assertion_for_the_integration_user(private_key: str, api: responses.RequestsMock) -> None:
    adapter = crm(private_key, api)
    api.post(f"{DATA}/sobjects/Task", json={"id": "00T1", "success": True, "errors": []}, status=201)
    adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id="003KNOWN", persona_id=None)
    form = parse_qs(str(api.calls[0].request.body))
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assert form["assertion"][0].count(".") == 2  # header.payload.signature


def test_a_known_contact_costs_a_single_task_insert(private_key: str, api: responses.RequestsMock) -> None:
    adapter = crm(private_key, api)
    api.post(f"{DATA}/sobjects/Task", json={"id": "00TCCCCCCCCCCCCCCC", "success": True, "errors": []}, status=201)
    recorded = adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id="003AAAAAAAAAAAAAAA", persona_id=None)
    assert recorded.activity_id == "00TCCCCCCCCCCCCCCC"
    assert requests_sent(api, "/sobjects/Task") == [{"WhoId": "003AAAAAAAAAAAAAAA", **EXPECTED_TASK}]
    assert [call.request.url for call in api.calls if "/services/data" in str(call.request.url)] == [f"{DATA}/sobjects/Task"]


def test_an_existing_contact_matched_by_the_upsert_is_reused(private_key: str, api: responses.RequestsMock) -> None:
    adapter = crm(private_key, api)
    api.post(
        f"{DATA}/composite",
        json=composite_answer(
            ("contact", 200, {"id": "003EXISTING0000000", "success": True, "errors": [], "created": False}),
            ("task", 201, {"id": "00T1", "success": True, "errors": []}),
        ),
    )
    assert adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id=None, persona_id=None).contact_id == "003EXISTING0000000"


def test_an_upsert_answering_204_without_the_record_id_is_refused_clearly(private_key: str, api: responses.RequestsMock) -> None:
    # Before API v46.0 an upsert that updates answers 204 with no body; the Task then has no contact to point at.
    adapter = crm(private_key, api)
    api.post(f"{DATA}/composite", json=composite_answer(("contact", 204, None), ("task", 400, [{"errorCode": "PROCESSING_HALTED"}])))
    with pytest.raises(CrmRejectedError, match=r"contact answered 204 without a record id; use api_version 46\.0 or later"):
        adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id=None, persona_id=None)


def test_external_ids_are_url_encoded_in_the_upsert_path(private_key: str, api: responses.RequestsMock) -> None:
    adapter = crm(private_key, api)
    api.post(f"{DATA}/composite", json=composite_answer(("contact", 201, {"id": "003A"}), ("task", 201, {"id": "00TA"})))
    odd = CrmContact(external_id="instagram:dana r/@shop", name="Dana")
    adapter.record_activity(ACTIVITY, contact=odd, contact_id=None, persona_id=None)
    assert requests_sent(api, "/composite")[0]["compositeRequest"][0]["url"].endswith("/Social_Handle__c/instagram%3Adana%20r%2F%40shop")


@pytest.mark.parametrize(
    ("subresponses", "error", "message"),
    [
        (
            [
                ("contact", 300, ["/services/data/v62.0/sobjects/Contact/003A", "/services/data/v62.0/sobjects/Contact/003B"]),
                ("task", 400, [{"errorCode": "PROCESSING_HALTED"}]),
            ],
            CrmRejectedError,
            "several contacts carry this external id",
        ),
        (
            [
                ("contact", 400, [{"errorCode": "PROCESSING_HALTED", "message": "rolled back"}]),
                ("task", 400, [{"errorCode": "REQUIRED_FIELD_MISSING", "fields": ["Subject"]}]),
            ],
            CrmRejectedError,
            "task answered 400 ['REQUIRED_FIELD_MISSING']",
        ),
        (
            [
                ("contact", 400, [{"errorCode": "DUPLICATE_VALUE", "message": "duplicate value found: Social_Handle__c"}]),
                ("task", 400, [{"errorCode": "PROCESSING_HALTED"}]),
            ],
            CrmUnavailableError,
            "DUPLICATE_VALUE",
        ),
    ],
    ids=["upsert-300-several-matches", "composite-200-with-failed-subrequest", "concurrent-contact-creation"],
)
def test_every_subresponse_is_checked_though_the_composite_answers_200(
    private_key: str, api: responses.RequestsMock, subresponses: list[tuple[str, int, Any]], error: type[Exception], message: str
) -> None:
    adapter = crm(private_key, api)
    api.post(f"{DATA}/composite", json=composite_answer(*subresponses), status=200)
    with pytest.raises(error, match=message.replace("[", r"\[").replace("]", r"\]")):
        adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id=None, persona_id=None)


def test_an_expired_session_is_renewed_once_and_the_call_repeated(private_key: str, api: responses.RequestsMock) -> None:
    adapter = crm(private_key, api, logins=2)
    api.post(f"{DATA}/sobjects/Task", json=SESSION_EXPIRED, status=401)
    api.post(f"{DATA}/sobjects/Task", json={"id": "00TRETRIED", "success": True, "errors": []}, status=201)
    assert adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id="003A", persona_id=None).activity_id == "00TRETRIED"
    assert [call.request.headers.get("Authorization") for call in api.calls if "/sobjects/" in str(call.request.url)] == [
        "Bearer 00Dxx0000001gPL!token0",
        "Bearer 00Dxx0000001gPL!token1",
    ]


def test_a_session_that_stays_invalid_is_not_renewed_in_a_loop(private_key: str, api: responses.RequestsMock) -> None:
    adapter = crm(private_key, api, logins=2)
    api.post(f"{DATA}/sobjects/Task", json=SESSION_EXPIRED, status=401)
    api.post(f"{DATA}/sobjects/Task", json=SESSION_EXPIRED, status=401)
    with pytest.raises(CrmUnavailableError):
        adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id="003A", persona_id=None)
    assert sum(1 for call in api.calls if call.request.url == TOKEN_URL) == 2


def test_a_spent_api_allocation_is_a_rate_limit(private_key: str, api: responses.RequestsMock) -> None:
    adapter = crm(private_key, api)
    api.post(f"{DATA}/sobjects/Task", json=[{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}], status=403)
    with pytest.raises(CrmRateLimitedError):
        adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id="003A", persona_id=None)


@pytest.mark.parametrize(
    "answer",
    [{"json": [{"errorCode": "SERVER_UNAVAILABLE", "message": "down"}], "status": 503}, {"body": requests.ReadTimeout("read timeout")}],
    ids=["503", "timeout"],
)
def test_outages_and_timeouts_are_worth_retrying(private_key: str, api: responses.RequestsMock, answer: dict[str, Any]) -> None:
    adapter = crm(private_key, api)
    api.post(f"{DATA}/sobjects/Task", **answer)
    with pytest.raises(CrmUnavailableError):
        adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id="003A", persona_id=None)


@pytest.mark.filterwarnings("ignore:\\s+If your connected app policy:UserWarning")
def test_a_failed_login_is_reported_without_retrying_in_place(private_key: str, api: responses.RequestsMock) -> None:
    api.post(TOKEN_URL, json={"error": "invalid_grant", "error_description": "user hasn't approved this consumer"}, status=400)
    rules = make_rules()
    adapter = SalesforceCrm(SalesforceConnection(rules, SalesforceCredentials(consumer_key="k", username="u", private_key=private_key)), rules)
    with pytest.raises(CrmUnavailableError, match="Salesforce login failed \\(jwt\\): user hasn't approved this consumer"):
        adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id="003A", persona_id=None)


def test_social_mode_writes_persona_and_social_post(private_key: str, api: responses.RequestsMock) -> None:
    adapter = crm(private_key, api, mode="social")
    api.post(
        f"{DATA}/composite",
        json=composite_answer(("contact", 201, {"id": "003C"}), ("persona", 201, {"id": "0SPPERSONA"}), ("post", 201, {"id": "0STPOST"})),
    )
    recorded = adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id=None, persona_id=None)
    assert recorded == RecordedActivity(contact_id="003C", activity_id="0STPOST", persona_id="0SPPERSONA")
    _, persona, post = requests_sent(api, "/composite")[0]["compositeRequest"]
    assert persona["body"] == {
        "Name": "dana_r",
        "RealName": "Dana R",
        "Provider": "Twitter",
        "ExternalId": "123456789",
        "ParentId": "@{contact.id}",
        "ProfileUrl": "https://x.com/dana_r",
        "Followers": 15230,
    }
    assert post["body"]["ExternalPostId"] == ACTIVITY.event_key
    assert (post["body"]["PersonaId"], post["body"]["WhoId"], post["body"]["MessageType"]) == ("@{persona.id}", "@{contact.id}", "Post")


def test_social_mode_falls_back_to_contact_and_task_where_the_objects_are_missing(private_key: str, api: responses.RequestsMock) -> None:
    # Given an org without Social Customer Service: SocialPersona answers 404 inside the composite
    adapter = crm(private_key, api, mode="social")
    not_found = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
    halted = [{"errorCode": "PROCESSING_HALTED"}]
    api.post(f"{DATA}/composite", json=composite_answer(("contact", 400, halted), ("persona", 404, not_found), ("post", 400, halted)))
    api.post(f"{DATA}/composite", json=composite_answer(("contact", 201, {"id": "003C"}), ("task", 201, {"id": "00TFALLBACK"})))
    api.post(f"{DATA}/sobjects/Task", json={"id": "00TNEXT", "success": True, "errors": []}, status=201)
    # Then the message lands as a Task, and later messages go straight to Tasks
    assert adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id=None, persona_id=None).activity_id == "00TFALLBACK"
    assert adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id="003C", persona_id=None).activity_id == "00TNEXT"


@pytest.mark.parametrize(
    ("rule_changes", "contact_id", "expected_query"),
    [
        ({}, None, "SELECT Id, WhoId FROM Task WHERE Socialdesk_Event_Key__c = 'x:900000000000000001:1924465506158878979' LIMIT 1"),
        ({"task_event_key_field": None}, "003A", "SELECT Id, WhoId FROM Task WHERE WhoId = '003A' AND Subject LIKE '%sd-e1b8c378ac]' LIMIT 1"),
        ({"task_event_key_field": None}, None, "SELECT Id, WhoId FROM Task WHERE Subject LIKE '%sd-e1b8c378ac]' LIMIT 1"),
        (
            {"mode": "social"},
            None,
            "SELECT Id, WhoId, PersonaId FROM SocialPost WHERE ExternalPostId = 'x:900000000000000001:1924465506158878979' LIMIT 1",
        ),
    ],
    ids=["event-key-field", "subject-reference-with-contact", "subject-reference-alone", "social-post"],
)
def test_a_task_created_before_a_crash_is_found_by_its_event_key_with_its_contact_and_persona(
    private_key: str, api: responses.RequestsMock, rule_changes: dict[str, Any], contact_id: str | None, expected_query: str
) -> None:
    """Given a Task or SocialPost created by a try that then died, When the retry looks for it by the event key, Then it is
    found with the contact (WhoId) and, for a SocialPost, the persona (PersonaId) it was recorded on: the customer's record
    learns them, so the next message creates neither again."""
    adapter = crm(private_key, api, **rule_changes)
    record: dict[str, Any] = {"attributes": {"type": "SocialPost" if rule_changes.get("mode") else "Task"}, "Id": "00TFOUND", "WhoId": "003FOUND"}
    if rule_changes.get("mode"):
        record["PersonaId"] = "0SPFOUND"
    api.get(f"{DATA}/query", json={"totalSize": 1, "done": True, "records": [record]})
    found = adapter.find_activity(ACTIVITY, contact_id=contact_id)
    assert found == RecordedActivity(contact_id="003FOUND", activity_id="00TFOUND", persona_id=record.get("PersonaId"))
    query = parse_qs(str(urlparse(str(api.calls[-1].request.url)).query))["q"][0]
    assert query == expected_query


def test_without_an_event_key_field_the_task_subject_carries_a_short_reference(private_key: str, api: responses.RequestsMock) -> None:
    adapter = crm(private_key, api, task_event_key_field=None)
    api.post(f"{DATA}/sobjects/Task", json={"id": "00T1", "success": True, "errors": []}, status=201)
    adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id="003A", persona_id=None)
    [task] = requests_sent(api, "/sobjects/Task")
    assert task["Subject"].startswith("X post from @dana_r: my order #4411 never arrived [sd-")
    assert len(task["Subject"]) <= 255
    assert "Socialdesk_Event_Key__c" not in task


def test_threads_that_start_together_log_in_once(private_key: str, api: responses.RequestsMock) -> None:
    # Given a connection that has not logged in yet, and two events of a batch recording their Tasks at the same moment
    rules = make_rules()
    credentials = SalesforceCredentials(consumer_key="3MVG9-consumer-key", username="socialdesk@acme.example", private_key=private_key)
    adapter = SalesforceCrm(SalesforceConnection(rules, credentials), rules)
    logins: list[str] = []
    another_login = threading.Event()

    def token(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        logins.append(threading.current_thread().name)
        if len(logins) == 1:
            second.start()  # the other thread starts its call while this login is under way
            another_login.wait(0.5)  # set only if it logs in too, which it must not: it waits for this login instead
        else:
            another_login.set()
        answer = {"access_token": f"00Dxx0000001gPL!token{len(logins)}", "instance_url": "https://acme.my.salesforce.com", "token_type": "Bearer"}
        return 200, {}, json.dumps(answer)

    api.add_callback(responses.POST, TOKEN_URL, callback=token)
    api.post(f"{DATA}/sobjects/Task", json={"id": "00TFIRST", "success": True, "errors": []}, status=201)
    api.post(f"{DATA}/sobjects/Task", json={"id": "00TSECOND", "success": True, "errors": []}, status=201)
    recorded: list[RecordedActivity] = []
    second = threading.Thread(target=lambda: recorded.append(adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id="003B", persona_id=None)))
    # When both record their activity
    recorded.append(adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id="003A", persona_id=None))
    second.join(5)
    # Then one login served both: the other thread used its session rather than logging in a second time
    assert len(logins) == 1
    assert sorted(activity.activity_id for activity in recorded) == ["00TFIRST", "00TSECOND"]
    sessions = {call.request.headers.get("Authorization") for call in api.calls if "/sobjects/" in str(call.request.url)}
    assert sessions == {"Bearer 00Dxx0000001gPL!token1"}
