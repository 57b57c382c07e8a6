"""What one inbound message costs downstream: socialdesk against the best stateless integration.

Run: ./uvw run python -m bench.process_calls_bench

Each integration runs the same four deliveries, in order, on its own fresh stateful Zendesk and Salesforce HTTP fakes
(tests/support/http_fakes.py); every HTTP request, DynamoDB call and SQS request is counted, not estimated.

- socialdesk runs end to end: a signed WhatsApp webhook through the ingest handler, SQS, and the process handler with
  zenpy and simple-salesforce, AWS in moto provisioned from infra/template.yaml. DynamoDB capacity is computed per call
  by AWS's sizing rules (tests/support/dynamodb_capacity.py: 1 RRU per 4 KB strongly consistent read, 1 WRU per KB
  written, the larger of the item before and after); moto's own ConsumedCapacity is not a real figure.
- The stateless integration is the best one that keeps no state of its own: Zendesk `create_or_update` for the user,
  `GET /tickets.json?external_id=` (an indexed lookup, not the Search API, which lags), then a comment
  (`PUT /tickets/{id}.json`) or a new ticket, the social context in ticket fields when configured (it has nowhere else
  to put it without a fourth call); Salesforce one Composite request: the contact upserted by external id and the Task
  inserted. 3 + 1 calls whatever happens, a redelivery included (which it cannot tell from a new message).

After each delivery the outbound queue is drained through the outbound handler (the shipped rules acknowledge a new
conversation on WhatsApp): what it does is counted apart, as the outbound function's own work (its send ledger, the
Graph API send, answered by a fake, and the note on the ticket).

Both rule sets are the shipped config/socialdesk.toml (only the Zendesk subdomain and Salesforce domain pointed at the
fakes): as shipped, without context fields (a new conversation costs socialdesk one more Zendesk call, the context
note), and with its context fields switched on. Every message carries its own time, as a platform's would. Salesforce
logins (one per container) are left out of the counts.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import boto3
import requests

from bench import rerun
from functions.ingest.app import lambda_handler as ingest_handler
from socialdesk.composition import clients
from socialdesk.devtools.local_aws import REGION
from socialdesk.model import SocialEvent
from socialdesk.model.conversation import customer_key
from socialdesk.observability import logger
from socialdesk.platforms.meta import MetaWebhook
from socialdesk.platforms.meta_send import GRAPH_API
from tests.support.dynamodb_capacity import MeteredClient, item_size
from tests.support.http_fakes import SALESFORCE, ZENDESK
from tests.support.process_stack import Flow, private_key_pem, process_stack
from tests.support.webhooks import FakeLambdaContext, meta_post, recorded_body, to_bytes

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_RULES = ROOT / "config" / "socialdesk.toml"
LOGIN = "POST /oauth2/token"
# DynamoDB bills 100 bytes of overhead per item stored (Developer Guide, "Item sizes and formats").
ITEM_OVERHEAD_BYTES = 100
SQS_BILLING_CHUNK = 64 * 1024
# The Cloud API's send (developers.facebook.com/docs/whatsapp/cloud-api/reference/messages): any of the brand's numbers.
WHATSAPP_SEND = re.compile(rf"{re.escape(GRAPH_API)}/\d+/messages")
BRAND_NUMBERS = ("106540352242922", "106540352299999")


def rules_text(*, context_fields: bool, state_field: bool = False) -> str:
    """The shipped rules file, its Zendesk subdomain and Salesforce domain pointed at the fakes; optionally its context
    fields on, or the messaging state field (replies.state_field)."""
    text = SHIPPED_RULES.read_text()
    for old, new in (('subdomain = "your-subdomain"', 'subdomain = "acme"'), ('login_domain = "login"', 'login_domain = "acme.my"')):
        assert old in text, f"config/socialdesk.toml no longer has {old!r}"
        text = text.replace(old, new, 1)
    if context_fields:
        section, _, rest = text.partition("[zendesk.context_fields]\n")
        block, _, after = rest.partition("\n\n")
        enabled = "\n".join(line.removeprefix("# ") for line in block.splitlines())
        assert "permalink = " in enabled, "config/socialdesk.toml's context fields moved"
        text = f"{section}[zendesk.context_fields]\n{enabled}\n\n{after}"
    if state_field:
        old = "# state_field = 360000000031"
        assert old in text, "config/socialdesk.toml's replies.state_field moved"
        text = text.replace(old, "state_field = 360000000031", 1)
    return text


# --- the deliveries ------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One WhatsApp customer message, as Meta delivers it."""

    message_id: str
    text: str
    sent_at: datetime
    phone_number_id: str = "106540352242922"
    customer: str = "16505551234"
    name: str = "Dana Rodríguez"

    def payload(self) -> dict[str, Any]:
        payload = recorded_body("meta-whatsapp-text")
        value = payload["entry"][0]["changes"][0]["value"]
        value["metadata"]["phone_number_id"] = self.phone_number_id
        value["contacts"] = [{"profile": {"name": self.name}, "wa_id": self.customer}]
        value["messages"][0].update(
            {"from": self.customer, "id": self.message_id, "timestamp": str(int(self.sent_at.timestamp())), "text": {"body": self.text}}
        )
        assert isinstance(payload, dict)
        return payload

    def webhook(self) -> dict[str, Any]:
        return meta_post(to_bytes(self.payload()))

    def event(self) -> SocialEvent:
        """The canonical event ingest makes of it: what the stateless integration is handed."""
        (event,) = MetaWebhook().normalise(self.payload(), datetime.now(UTC)).events
        return event


SCENARIOS = (
    "new customer, new conversation",
    "known customer, follow-up in the same conversation",
    "known customer, new conversation",
    "the same message delivered again",
)


def scenario_messages(start: datetime) -> list[Message]:
    """The four deliveries of SCENARIOS, each message with its own time (a minute apart; the redelivery is the follow-up again)."""
    first = Message("wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBMDAwMDAwMDAwMDAwMDAwMAA=", "Mi pedido no ha llegado. ¿Pueden ayudarme? 🙏", start)
    follow_up = Message(
        "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBMDAwMDAwMDAwMDAwMDAwMQA=", "Es el pedido 4471, lo pedí el lunes.", start + timedelta(minutes=1)
    )
    elsewhere = Message(
        "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBMDAwMDAwMDAwMDAwMDAwMgA=",
        "Hola, ¿tienen la talla M en azul?",
        start + timedelta(minutes=2),
        phone_number_id="106540352299999",  # the brand's other WhatsApp number: another conversation
    )
    return [first, follow_up, elsewhere, follow_up]


# --- the best stateless integration ----------------------------------------------------------


class StatelessIntegration:
    """No state of its own: per message, Zendesk create_or_update user, list tickets by external_id, comment or create;
    Salesforce one Composite request (contact upserted by external id, Task inserted). Always 3 + 1 calls."""

    def __init__(self, *, context_fields: bool) -> None:
        self.context_fields = context_fields
        self.zendesk = requests.Session()
        self.zendesk.auth = ("socialdesk@acme.example/token", "zendesk-token")
        self.salesforce = requests.Session()
        self.salesforce.headers["Authorization"] = "Bearer 00Dxx0000001gPL!stateless"

    def handle(self, event: SocialEvent) -> None:
        assert event.author is not None
        customer = customer_key(event.platform, event.author.id)
        name = event.author.display_name or event.author.id
        user = {"user": {"name": name, "external_id": customer}}
        user_id = self.zendesk.post(f"{ZENDESK}/users/create_or_update.json", json=user).json()["user"]["id"]
        found = self.zendesk.get(f"{ZENDESK}/tickets.json", params={"external_id": event.conversation_key}).json()["tickets"]
        comment = {"body": event.text or "", "public": True, "author_id": user_id}
        open_ticket = next((ticket for ticket in found if ticket["status"] != "closed"), None)
        if open_ticket:
            self.zendesk.put(f"{ZENDESK}/tickets/{open_ticket['id']}.json", json={"ticket": {"status": "open", "comment": comment}})
        else:
            ticket: dict[str, Any] = {
                "subject": f"WhatsApp: {name}: {(event.text or '')[:60]}",
                "requester_id": user_id,
                "external_id": event.conversation_key,
                "comment": comment,
                "tags": ["social", f"social_{event.platform}"],
            }
            if self.context_fields:
                ticket["custom_fields"] = [{"id": 360000000020, "value": str(event.platform)}, {"id": 360000000026, "value": event.author.id}]
            self.zendesk.post(f"{ZENDESK}/tickets.json", json={"ticket": ticket})
        data = "/services/data/v62.0"
        task = {"WhoId": "@{contact.id}", "Subject": f"WhatsApp: {(event.text or '')[:60]}", "Description": event.text, "Status": "Completed"}
        composite = {
            "allOrNone": True,
            "compositeRequest": [
                {
                    "method": "PATCH",
                    "url": f"{data}/sobjects/Contact/Social_Handle__c/{customer}",
                    "referenceId": "contact",
                    "body": {"LastName": name},
                },
                {"method": "POST", "url": f"{data}/sobjects/Task", "referenceId": "task", "body": task},
            ],
        }
        self.salesforce.post(f"{SALESFORCE}{data}/composite", json=composite)


# --- what is counted ---------------------------------------------------------------------------


class LogSink(io.StringIO):
    """Where the functions' log lines and EMF metrics go: counted, as CloudWatch Logs would ingest them (one event a line)."""

    def __init__(self) -> None:
        super().__init__()
        self.bytes = 0
        self.events = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        self.events += text.count("\n")
        return len(text)


@dataclass
class Reading:
    """Counters of one integration on its fakes; subtract two readings for what happened in between."""

    zendesk: int = 0
    salesforce: int = 0
    salesforce_alongside: int = 0
    """Of those, the calls made in the thread beside Zendesk's (process/sides.py): their waits overlap the Zendesk calls
    made after the customer's words are on a ticket."""
    zendesk_timeline: list[bool] = field(default_factory=list)
    """Per Zendesk call, in order: whether it put the customer's words on a ticket (the Task waits for that one)."""
    platform: int = 0
    """Sends to the platform (the outbound function's)."""
    sent_bytes: int = 0
    dynamodb: Counter[str] = field(default_factory=Counter)
    units: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    sqs_requests: int = 0
    sqs_billed: int = 0
    log_bytes: int = 0
    log_events: int = 0
    api_response_bytes: int = 0
    stored_bytes: dict[int, int] = field(default_factory=dict)
    """The table's bytes (items + 100 B each), by the days their TTL keeps them."""
    effects: Counter[str] = field(default_factory=Counter)

    @property
    def zendesk_after_words(self) -> int:
        """Zendesk calls made after the one that put the words on a ticket (none put them: none)."""
        return len(self.zendesk_timeline) - self.zendesk_timeline.index(True) - 1 if True in self.zendesk_timeline else 0

    @property
    def stored_byte_days(self) -> float:
        return sum(days * size for days, size in self.stored_bytes.items())

    def __sub__(self, other: Reading) -> Reading:
        return Reading(
            zendesk=self.zendesk - other.zendesk,
            salesforce=self.salesforce - other.salesforce,
            salesforce_alongside=self.salesforce_alongside - other.salesforce_alongside,
            zendesk_timeline=self.zendesk_timeline[len(other.zendesk_timeline) :],
            platform=self.platform - other.platform,
            sent_bytes=self.sent_bytes - other.sent_bytes,
            dynamodb=self.dynamodb - other.dynamodb,
            units=defaultdict(float, {name: self.units[name] - other.units[name] for name in self.units | other.units}),
            sqs_requests=self.sqs_requests - other.sqs_requests,
            sqs_billed=self.sqs_billed - other.sqs_billed,
            log_bytes=self.log_bytes - other.log_bytes,
            log_events=self.log_events - other.log_events,
            api_response_bytes=self.api_response_bytes - other.api_response_bytes,
            stored_bytes={days: self.stored_bytes.get(days, 0) - other.stored_bytes.get(days, 0) for days in self.stored_bytes | other.stored_bytes},
            effects=Counter({name: self.effects[name] - other.effects[name] for name in self.effects | other.effects}),
        )


@dataclass
class Result:
    scenario: str
    socialdesk: Reading
    stateless: Reading
    outbound: Reading = field(default_factory=Reading)
    """The outbound function's work for the jobs the delivery queued (socialdesk's acknowledgement)."""


class Meter:
    """Counts what happens on a process_stack: the fakes' calls and bytes, DynamoDB calls and capacity (a MeteredClient in
    front of the process function's client), the functions' SQS requests, their log bytes, and the table's storage."""

    def __init__(self, flow: Flow, metered: MeteredClient | None, logs: LogSink) -> None:
        self.flow = flow
        self.metered = metered
        self.logs = logs
        self.sqs_requests = 0
        self.sqs_billed = 0
        self.api_response_bytes = 0
        self.platform_sends = 0
        self._table = boto3.client("dynamodb", region_name=REGION)
        clients.sqs().meta.events.register("before-call.sqs", self._sqs_request)

    def _sqs_request(self, params: dict[str, Any], **_: Any) -> None:
        self.sqs_requests += 1
        # Each 64 KB chunk of a request's payload is billed as one request (aws.amazon.com/sqs/pricing).
        self.sqs_billed += max(1, math.ceil(len(params.get("body") or b"") / SQS_BILLING_CHUNK))

    def platform_send(self, request: Any) -> tuple[int, dict[str, str], str]:
        """WhatsApp's answer to a send: the new message's wamid."""
        self.platform_sends += 1
        answer = {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.SENT{self.platform_sends}"}]}
        return 200, {"content-type": "application/json"}, json.dumps(answer)

    def drain_outbound(self) -> None:
        """The outbound handler on the outbound queue's batches until it is empty."""
        while self.flow.outbound_once() is not None:
            pass

    def webhook(self, event: dict[str, Any]) -> None:
        answer = ingest_handler(event, FakeLambdaContext())
        assert answer["statusCode"] == 200, answer
        head = "".join(f"{name}: {value}\r\n" for name, value in (answer.get("headers") or {}).items())
        self.api_response_bytes += len(f"HTTP/1.1 {answer['statusCode']} OK\r\n{head}\r\n".encode()) + len(answer["body"].encode())

    def reading(self) -> Reading:
        zendesk, salesforce = self.flow.zendesk, self.flow.salesforce
        calls = salesforce.calls.copy()
        calls.pop(LOGIN, None)
        public = sum(1 for ticket in zendesk.tickets.values() for comment in ticket["comments"] if comment.get("public"))
        private = sum(1 for ticket in zendesk.tickets.values() for comment in ticket["comments"] if not comment.get("public"))
        return Reading(
            zendesk=sum(zendesk.calls.values()),
            salesforce=sum(calls.values()),
            salesforce_alongside=salesforce.alongside,
            zendesk_timeline=list(zendesk.timeline),
            platform=self.platform_sends,
            sent_bytes=zendesk.sent_bytes + salesforce.sent_bytes,
            dynamodb=self.metered.calls.copy() if self.metered else Counter(),
            units=self.metered.units.copy() if self.metered else defaultdict(float),
            sqs_requests=self.sqs_requests,
            sqs_billed=self.sqs_billed,
            log_bytes=self.logs.bytes,
            log_events=self.logs.events,
            api_response_bytes=self.api_response_bytes,
            stored_bytes=self._stored_bytes(),
            effects=Counter(tickets=len(zendesk.tickets), comments=public, notes=private, tasks=len(salesforce.tasks)),
        )

    def _stored_bytes(self) -> dict[int, int]:
        """The table's items, each its size + 100 B of overhead, by the days its `expires_at` TTL keeps it (store/dynamodb.py's
        retentions; an item without one would be kept for ever, and fails the count)."""
        name = self.flow.aws.resource("StateTable")
        now = datetime.now(UTC).timestamp()
        stored: Counter[int] = Counter()
        for page in self._table.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
            for item in page["Items"]:
                stored[round((int(item["expires_at"]["N"]) - now) / 86400)] += item_size(item) + ITEM_OVERHEAD_BYTES
        return dict(stored)


@contextlib.contextmanager
def metered_stack(rules: str, *, metered: bool = True) -> Iterator[Meter]:
    """A process_stack on `rules`, its log output counted and (unless `metered` is false) its DynamoDB client metered,
    which reads each item before and after every write: leave it off to time the function."""
    logs = LogSink()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    with tempfile.TemporaryDirectory() as folder:
        rules_file = Path(folder) / "socialdesk.toml"
        rules_file.write_text(rules)
        with process_stack(rules_file, private_key_pem()) as flow, contextlib.redirect_stdout(logs):
            stream = handler.setStream(logs)
            flow.aws.put_secret("PlatformSecret", {"whatsapp_tokens": dict.fromkeys(BRAND_NUMBERS, "EAAGwhatsapp")})
            try:
                if not metered:
                    yield sending(Meter(flow, None, logs))
                    return
                client = MeteredClient(clients.dynamodb())
                with (
                    patch("socialdesk.composition.process.dynamodb", lambda: client),
                    patch("socialdesk.composition.outbound.dynamodb", lambda: client),
                ):
                    yield sending(Meter(flow, client, logs))
            finally:
                handler.setStream(stream)


def sending(meter: Meter) -> Meter:
    """The meter, with the platform's send answered (and counted) on its stack."""
    assert meter.flow.http is not None
    meter.flow.http.add_callback("POST", WHATSAPP_SEND, callback=meter.platform_send)
    return meter


def counted(meter: Meter, action: Callable[[], None]) -> Reading:
    before = meter.reading()
    action()
    return meter.reading() - before


def measure(*, context_fields: bool, state_field: bool = False) -> list[Result]:
    """Both integrations through SCENARIOS, each on its own fresh fakes so neither sees what the other created."""
    rules = rules_text(context_fields=context_fields, state_field=state_field)
    messages = scenario_messages(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30))
    with metered_stack(rules) as meter:

        def through_socialdesk(message: Message) -> None:
            meter.webhook(message.webhook())
            meter.flow.process_all()

        ours, sends = [], []
        for message in messages:
            ours.append(counted(meter, lambda message=message: through_socialdesk(message)))  # type: ignore[misc]
            sends.append(counted(meter, meter.drain_outbound))
    with metered_stack(rules) as meter:
        stateless = StatelessIntegration(context_fields=context_fields)
        theirs = [counted(meter, lambda message=message: stateless.handle(message.event())) for message in messages]  # type: ignore[misc]
    return [Result(name, mine, other, send) for name, mine, other, send in zip(SCENARIOS, ours, theirs, sends, strict=True)]


# --- the tables ---------------------------------------------------------------------------------


def effects(reading: Reading) -> str:
    shown = [
        f"+{reading.effects[name]} {label}" for name, label in (("tickets", "ticket"), ("comments", "comment"), ("notes", "note"), ("tasks", "Task"))
    ]
    return ", ".join(text for text in shown if not text.startswith("+0 ")) or "nothing"


def capacity(reading: Reading) -> str:
    return f"{reading.units['RRU']} / {reading.units['WRU']}"


def main() -> None:
    variants = (("shipped (no context fields)", False, False), ("context fields on", True, False), ("messaging state field on", False, True))
    measured = {label: measure(context_fields=fields, state_field=state) for label, fields, state in variants}
    print(f"Command: {rerun('bench.process_calls_bench')}\n")
    print(
        "| scenario | rules | socialdesk: Zendesk + Salesforce | socialdesk: DynamoDB calls | socialdesk: RRU / WRU "
        "| stateless: Zendesk + Salesforce | effects: socialdesk | effects: stateless |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, results in measured.items():
        for result in results:
            ours, theirs = result.socialdesk, result.stateless
            print(
                f"| {result.scenario} | {label} | {ours.zendesk} + {ours.salesforce} = {ours.zendesk + ours.salesforce} "
                f"| {sum(ours.dynamodb.values())} | {capacity(ours)} "
                f"| {theirs.zendesk} + {theirs.salesforce} = {theirs.zendesk + theirs.salesforce} | {effects(ours)} | {effects(theirs)} |"
            )
    print("\nsocialdesk per delivery (shipped rules), beside the stateless integration where it applies:\n")
    print(
        "| scenario | DynamoDB calls by operation | SQS requests by the functions | log lines / bytes "
        "| bytes sent to Zendesk + Salesforce: socialdesk / stateless | table storage kept (KB-days) |"
    )
    print("|---|---|---|---|---|---|")
    for result in measured["shipped (no context fields)"]:
        ours, theirs = result.socialdesk, result.stateless
        operations = ", ".join(f"{name} {count}" for name, count in sorted(ours.dynamodb.items()))
        print(
            f"| {result.scenario} | {operations} | {ours.sqs_requests} | {ours.log_events} / {ours.log_bytes} "
            f"| {ours.sent_bytes} / {theirs.sent_bytes} | {ours.stored_byte_days / 1024:.0f} |"
        )
    print("\nThe messaging state field (replies.state_field) rides in the requests socialdesk makes anyway:\n")
    print("| scenario | Zendesk calls: shipped / field on | bytes sent to Zendesk + Salesforce: shipped / field on |")
    print("|---|---|---|")
    for shipped, with_field in zip(measured["shipped (no context fields)"], measured["messaging state field on"], strict=True):
        print(
            f"| {shipped.scenario} | {shipped.socialdesk.zendesk} / {with_field.socialdesk.zendesk} "
            f"| {shipped.socialdesk.sent_bytes} / {with_field.socialdesk.sent_bytes} |"
        )
    print("\nThe outbound function's work for the jobs each delivery queued (shipped rules; its Graph API send answered by a fake):\n")
    print(
        "| scenario | platform sends | Zendesk calls (the note) | DynamoDB calls by operation | RRU / WRU | log lines / bytes "
        "| table storage kept (KB-days) |"
    )
    print("|---|---|---|---|---|---|---|")
    for result in measured["shipped (no context fields)"]:
        sends = result.outbound
        operations = ", ".join(f"{name} {count}" for name, count in sorted(sends.dynamodb.items())) or "none"
        print(
            f"| {result.scenario} | {sends.platform} | {sends.zendesk} | {operations} | {capacity(sends)} | {sends.log_events} / {sends.log_bytes} "
            f"| {sends.stored_byte_days / 1024:.0f} |"
        )
    print(
        "\nSQS requests: the ingest function's SendMessageBatch (the event source mapping's ReceiveMessage and delete are "
        "not the functions' calls; bench/cost_model.py adds them). Log lines: the functions' JSON logs and EMF metrics, "
        "without Lambda's START/END/REPORT lines. Table storage: each item written (its size + 100 B) times the days its "
        "TTL keeps it."
    )


if __name__ == "__main__":
    main()
