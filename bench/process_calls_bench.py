"""Outbound calls per inbound message: socialdesk's process function against a naive search-then-create integration.

Run: uv run python -m bench.process_calls_bench

Both run in the same process against stateful Zendesk and Salesforce HTTP fakes
(tests/support/http_fakes.py), each on fresh fakes; every HTTP request and DynamoDB call is
counted, not estimated. socialdesk runs end to end: a signed webhook through ingest, SQS,
and the process handler with zenpy and simple-salesforce, AWS in moto provisioned from
infra/template.yaml. Salesforce logins (one per container) are left out of the counts.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import msgspec
import requests

from socialdesk.model import SocialEvent
from socialdesk.model.conversation import customer_key
from tests.support.events import follow_up, sample_event
from tests.support.http_fakes import SALESFORCE, ZENDESK
from tests.support.process_stack import RULES, Flow, private_key_pem, process_stack
from tests.support.webhooks import meta_post, sample, to_bytes

CONTEXT_FIELDS = "\n[zendesk.context_fields]\nfollower_count = 360001\npermalink = 360003\nprofile_url = 360004\n"
LOGIN = "POST /oauth2/token"
Calls = tuple[int, int, int]


class NaiveIntegration:
    """What a first integration usually does per message: look everything up by search, then create or update.

    Zendesk: search the user, create them if missing, search the ticket (Search API), create or comment.
    Salesforce: query the contact, create it if missing, insert the Task.
    """

    def __init__(self) -> None:
        self.zendesk = requests.Session()
        self.zendesk.auth = ("bot@acme.example/token", "zendesk-token")
        self.salesforce = requests.Session()
        self.salesforce.headers["Authorization"] = "Bearer naive"

    def handle(self, event: SocialEvent) -> None:
        assert event.author is not None
        external_id = customer_key(event.platform, event.author.id)
        name = event.author.display_name or event.author.id
        users = self.zendesk.get(f"{ZENDESK}/users/search.json", params={"external_id": external_id}).json()["users"]
        if users:
            user_id = users[0]["id"]
        else:
            user = {"user": {"name": name, "external_id": external_id}}
            user_id = self.zendesk.post(f"{ZENDESK}/users/create_or_update.json", json=user).json()["user"]["id"]
        search = {"query": f"type:ticket external_id:{event.conversation_key}"}
        found = self.zendesk.get(f"{ZENDESK}/search.json", params=search).json()["results"]
        comment = {"body": event.text or "", "public": True, "author_id": user_id}
        if found:
            self.zendesk.put(f"{ZENDESK}/tickets/{found[0]['id']}.json", json={"ticket": {"comment": comment}})
        else:
            ticket = {"subject": event.text or "", "requester_id": user_id, "external_id": event.conversation_key, "comment": comment}
            self.zendesk.post(f"{ZENDESK}/tickets.json", json={"ticket": ticket})
        data = f"{SALESFORCE}/services/data/v62.0"
        soql = f"SELECT Id FROM Contact WHERE Social_Handle__c = '{external_id}'"
        records = self.salesforce.get(f"{data}/query", params={"q": soql}).json()["records"]
        if records:
            contact_id = records[0]["Id"]
        else:
            contact_id = self.salesforce.post(f"{data}/sobjects/Contact", json={"LastName": name, "Social_Handle__c": external_id}).json()["id"]
        self.salesforce.post(f"{data}/sobjects/Task", json={"WhoId": contact_id, "Subject": (event.text or "")[:80], "Status": "Completed"})


def through_socialdesk(flow: Flow, event: SocialEvent) -> None:
    """Send `event` as a signed WhatsApp webhook through ingest, then process the queue."""
    assert event.author is not None
    payload = json.loads(sample("meta-whatsapp-text")["body"])
    value = payload["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = event.account_id
    value["contacts"] = [{"profile": {"name": event.author.display_name}, "wa_id": event.author.id}]
    value["messages"][0].update({"from": event.author.id, "id": event.message_id, "text": {"body": event.text}})
    flow.webhook(meta_post(to_bytes(payload)))
    flow.process_all()


def scenarios() -> list[tuple[str, SocialEvent]]:
    first = sample_event("meta-whatsapp-text")
    elsewhere = "106540352299999"
    same_customer_elsewhere = msgspec.structs.replace(
        first, event_id="wamid.other", message_id="wamid.other", account_id=elsewhere, conversation_key=f"whatsapp:{elsewhere}:chat:16505551234"
    )
    return [
        ("new customer, new conversation", first),
        ("known customer, follow-up in the same conversation", follow_up(first, 1)),
        ("known customer, new conversation", same_customer_elsewhere),
        ("the same message delivered again", follow_up(first, 1)),
    ]


def counted(flow: Flow, action: Callable[[], None]) -> tuple[Calls, str]:
    """Zendesk, Salesforce and DynamoDB calls made by `action`, and the comments and Tasks it added."""
    calls_before = (Counter(flow.zendesk.calls), Counter(flow.salesforce.calls), Counter(flow.dynamodb_calls))
    effects_before = _effects(flow)
    action()
    salesforce = flow.salesforce.calls - calls_before[1]
    salesforce.pop(LOGIN, None)
    calls = (sum((flow.zendesk.calls - calls_before[0]).values()), sum(salesforce.values()), sum((flow.dynamodb_calls - calls_before[2]).values()))
    effects_after = _effects(flow)
    return calls, f"+{effects_after[0] - effects_before[0]} comment, +{effects_after[1] - effects_before[1]} Task"


def _effects(flow: Flow) -> tuple[int, int]:
    public = sum(1 for ticket in flow.zendesk.tickets.values() for comment in ticket["comments"] if comment.get("public"))
    return public, len(flow.salesforce.tasks)


def measure(rules_text: str, key: str) -> list[tuple[str, tuple[Calls, str], tuple[Calls, str]]]:
    """Each integration runs the scenarios in order on its own fresh fakes, so neither sees what the other created."""
    with tempfile.TemporaryDirectory() as folder:
        rules = Path(folder) / "socialdesk.toml"
        rules.write_text(rules_text)
        with process_stack(rules, key) as flow:
            ours = [counted(flow, lambda event=event: through_socialdesk(flow, event)) for _, event in scenarios()]  # type: ignore[misc]
        with process_stack(rules, key) as flow:
            naive = NaiveIntegration()
            theirs = [counted(flow, lambda event=event: naive.handle(event)) for _, event in scenarios()]  # type: ignore[misc]
    return [(name, mine, other) for (name, _), mine, other in zip(scenarios(), ours, theirs, strict=True)]


def main() -> None:
    key = private_key_pem()
    columns = [
        "scenario",
        "social context",
        "socialdesk: Zendesk + Salesforce calls (DynamoDB)",
        "naive: Zendesk + Salesforce calls",
        "effects: socialdesk / naive",
    ]
    print("| " + " | ".join(columns) + " |")
    print("|---|---|---|---|---|")
    for label, rules_text in (("ticket fields", RULES + CONTEXT_FIELDS), ("internal note", RULES)):
        for name, ((zendesk, salesforce, dynamodb), ours), ((naive_zendesk, naive_salesforce, _), theirs) in measure(rules_text, key):
            socialdesk = f"{zendesk} + {salesforce} = {zendesk + salesforce} ({dynamodb})"
            naive = f"{naive_zendesk} + {naive_salesforce} = {naive_zendesk + naive_salesforce}"
            print(f"| {name} | {label} | {socialdesk} | {naive} | {ours} / {theirs} |")


if __name__ == "__main__":
    main()
