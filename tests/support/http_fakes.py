"""Zendesk and Salesforce as stateful HTTP fakes on `responses`, for flows through the real zenpy and simple-salesforce.

They answer the endpoints socialdesk uses with the shapes the real APIs use
(developer.zendesk.com and the Salesforce REST API Developer Guide), keep what was created, honour Zendesk's Idempotency-Key (same key and
body: the first response again, `x-idempotency-lookup: hit`; another body: 400), refuse
comments on closed tickets with the real 422, and let a test force an answer or block a call. Each counts its calls
and the bytes sent to it (request line, headers and body, as HTTP/1.1 would send them; TLS framing not counted;
Salesforce logins apart), for bench/process_calls_bench.py.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import responses

from socialdesk.process.sides import ALONGSIDE_THREAD

ZENDESK = "https://acme.zendesk.com/api/v2"
SALESFORCE = "https://acme.my.salesforce.com"
RATE_HEADERS = {"X-Rate-Limit": "700", "X-Rate-Limit-Remaining": "650"}
_ID = re.compile(r"/\d+")
Answer = tuple[int, dict[str, str], str]


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Answer:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body)


def request_bytes(request: Any) -> int:
    """What an HTTP/1.1 client writes for `request` (a requests.PreparedRequest): request line, Host, headers, body."""
    url = urlparse(request.url)
    target = url.path + (f"?{url.query}" if url.query else "")
    head = f"{request.method} {target} HTTP/1.1\r\nHost: {url.netloc}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in request.headers.items()) + "\r\n"
    body = request.body or b""
    return len(head.encode()) + len(body if isinstance(body, bytes) else body.encode())


@dataclass
class Gate:
    """Stops the first call of a route until released, and says when that call arrived."""

    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    used: bool = False


@dataclass
class Forced:
    """Answers to give instead of the fake's own, next calls first, per `METHOD path-regex`."""

    answers: dict[str, list[Answer]] = field(default_factory=dict)

    def add(self, route: str, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.answers.setdefault(route, []).append(_json(status, body if body is not None else {}, headers))

    def take(self, method: str, path: str) -> Answer | None:
        for route, queued in self.answers.items():
            route_method, pattern = route.split(" ", 1)
            if route_method == method and re.fullmatch(pattern, path) and queued:
                return queued.pop(0)
        return None


class FakeZendesk:
    def __init__(self, mock: responses.RequestsMock) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.tickets: dict[int, dict[str, Any]] = {}
        self.calls: Counter[str] = Counter()
        self.sent_bytes = 0
        self.forced = Forced()
        self.gates: dict[str, Gate] = {}
        self._idempotency: dict[str, tuple[bytes, int]] = {}
        self.unavailable_for: set[str] = set()
        self.timeline: list[bool] = []
        """Per call, in order: whether it put a customer's words on a ticket (a ticket created, a public comment added)."""
        self.authorizations: list[str] = []
        """The Authorization header of every request, in order: which credentials reached Zendesk."""
        self._lock = threading.Lock()
        self._next_ticket = 4014
        mock.add_callback(responses.POST, re.compile(rf"{ZENDESK}/.*"), callback=self._handle)
        mock.add_callback(responses.PUT, re.compile(rf"{ZENDESK}/.*"), callback=self._handle)
        mock.add_callback(responses.GET, re.compile(rf"{ZENDESK}/.*"), callback=self._handle)

    def comments(self, ticket_id: int) -> list[dict[str, Any]]:
        comments: list[dict[str, Any]] = self.tickets[ticket_id]["comments"]
        return comments

    def _handle(self, request: Any) -> Answer:
        self.authorizations.append(request.headers.get("Authorization", ""))
        path = urlparse(request.url).path.removeprefix("/api/v2")
        route = f"{request.method} {_ID.sub('/{id}', path)}"
        self.calls[route] += 1
        self.sent_bytes += request_bytes(request)
        with self._lock:
            self.timeline.append(_places_words(route, request.body))
        gate = self.gates.get(route)
        if gate is not None and not gate.used:
            gate.used = True
            gate.entered.set()
            gate.release.wait(timeout=10)
        with self._lock:
            if forced := self.forced.take(request.method, path):
                return forced
            body = json.loads(request.body) if request.body else {}
            if route == "POST /users/create_or_update.json":
                return self._upsert_user(body["user"])
            if route == "POST /tickets.json":
                return self._create_ticket(body["ticket"], request.headers.get("Idempotency-Key"), request.body)
            if route == "GET /tickets.json":
                wanted = parse_qs(urlparse(request.url).query).get("external_id", [None])[0]
                found = [
                    {"id": t["id"], "status": t["status"], "external_id": t["external_id"]}
                    for t in self.tickets.values()
                    if t["external_id"] == wanted
                ]
                return _json(200, {"tickets": found, "meta": {"has_more": False}, "links": {"next": None}}, RATE_HEADERS)
            ticket_id = int(re.findall(r"\d+", path)[0])
            if ticket_id not in self.tickets:
                return _json(404, {"error": "RecordNotFound", "description": "Not found"})
            if route == "GET /tickets/{id}/comments.json":
                return _json(200, self._comments_answer(ticket_id), RATE_HEADERS)
            if route == "GET /tickets/{id}.json":
                return _json(200, {"ticket": self._ticket_answer(ticket_id)["ticket"]}, RATE_HEADERS)
            if route == "PUT /tickets/{id}/tags.json":
                self.tickets[ticket_id]["tags"] += [tag for tag in body["tags"] if tag not in self.tickets[ticket_id]["tags"]]
                return _json(200, {"tags": self.tickets[ticket_id]["tags"]})
            return self._update_ticket(ticket_id, body["ticket"])

    def _upsert_user(self, user: dict[str, Any]) -> Answer:
        if user["external_id"] in self.unavailable_for:
            return _json(503, {"error": "ServiceUnavailable"})
        created = user["external_id"] not in self.users
        stored = self.users.setdefault(user["external_id"], {"id": 494820284 + len(self.users)})
        stored.update(user)
        return _json(201 if created else 200, {"user": stored}, RATE_HEADERS)

    def _create_ticket(self, ticket: dict[str, Any], key: str | None, body: bytes | str) -> Answer:
        raw = body if isinstance(body, bytes) else body.encode()
        if key and key in self._idempotency:
            first_body, ticket_id = self._idempotency[key]
            if first_body != raw:
                return _json(400, {"error": "IdempotentRequestError", "description": "Request parameters don't match the given idempotency key"})
            return _json(201, self._ticket_answer(ticket_id), {**RATE_HEADERS, "x-idempotency-lookup": "hit"})
        ticket_id = self._next_ticket
        self._next_ticket += 1
        comment = {**ticket.pop("comment"), "created_at": _now_z()}
        self.tickets[ticket_id] = {**ticket, "id": ticket_id, "status": "new", "comments": [comment], "tags": ticket.get("tags", [])}
        if key:
            self._idempotency[key] = (raw, ticket_id)
        return _json(201, self._ticket_answer(ticket_id), {**RATE_HEADERS, "x-idempotency-lookup": "miss"})

    def _update_ticket(self, ticket_id: int, update: dict[str, Any]) -> Answer:
        ticket = self.tickets[ticket_id]
        if ticket["status"] == "closed":
            details = {"status": [{"description": "Status: closed prevents ticket update"}]}
            return _json(422, {"error": "RecordInvalid", "description": "Record validation errors", "details": details})
        if "comment" in update:
            ticket["comments"].append({**update["comment"], "created_at": _now_z()})
        if "status" in update:
            ticket["status"] = update["status"]
        if "priority" in update:
            ticket["priority"] = update["priority"]
        if "group_id" in update:
            ticket["group_id"] = update["group_id"]
        if "custom_fields" in update:  # only the fields named change
            named = {field["id"] for field in update["custom_fields"]}
            ticket["custom_fields"] = [field for field in ticket.get("custom_fields", []) if field["id"] not in named] + update["custom_fields"]
        return _json(200, self._ticket_answer(ticket_id), RATE_HEADERS)

    def _comments_answer(self, ticket_id: int) -> dict[str, Any]:
        """List Comments as Zendesk answers it (api-reference/ticketing/tickets/ticket_comments): plain `body`, `author_id`, `public`."""
        comments = [
            {
                "id": 7000 + index,
                "type": "Comment",
                "author_id": comment.get("author_id", 366666666),
                "body": comment["body"],
                "html_body": f'<div class="zd-comment"><p>{comment["body"]}</p></div>',
                "plain_body": comment["body"],
                "public": comment.get("public", True),
                "attachments": [],
                "audit_id": 900000 + index,
                "created_at": comment.get("created_at", "2026-11-23T10:00:00Z"),
            }
            for index, comment in enumerate(self.tickets[ticket_id]["comments"])
        ]
        return {"comments": comments, "next_page": None, "previous_page": None, "count": len(comments)}

    def _ticket_answer(self, ticket_id: int) -> dict[str, Any]:
        ticket = {key: value for key, value in self.tickets[ticket_id].items() if key != "comments"}
        return {"ticket": ticket, "audit": {"id": 900000 + ticket_id, "ticket_id": ticket_id, "events": [{"type": "Comment"}]}}


def _places_words(route: str, body: bytes | str | None) -> bool:
    if route == "POST /tickets.json":
        return True
    if route != "PUT /tickets/{id}.json" or not body:
        return False
    comment = json.loads(body).get("ticket", {}).get("comment")
    return bool(comment and comment.get("public", True))


class FakeSalesforce:
    def __init__(self, mock: responses.RequestsMock, *, external_id_field: str = "Social_Handle__c") -> None:
        self.contacts: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.calls: Counter[str] = Counter()
        self.alongside = 0
        """Calls made beside Zendesk's, in the thread process/sides.py runs a side in (the function waits for both at once)."""
        self.sent_bytes = 0
        self.login_bytes = 0
        self.forced = Forced()
        self._field = external_id_field
        self._lock = threading.Lock()
        mock.add_callback(responses.POST, f"{SALESFORCE}/services/oauth2/token", callback=self._token)
        mock.add_callback(responses.POST, re.compile(rf"{SALESFORCE}/services/data/v\d+\.0/.*"), callback=self._handle)
        mock.add_callback(responses.GET, re.compile(rf"{SALESFORCE}/services/data/v\d+\.0/.*"), callback=self._handle)

    def _token(self, request: Any) -> Answer:
        self.calls["POST /oauth2/token"] += 1
        self.login_bytes += request_bytes(request)
        return _json(200, {"access_token": "00Dxx0000001gPL!fake", "instance_url": SALESFORCE, "token_type": "Bearer", "scope": "api"})

    def _handle(self, request: Any) -> Answer:
        path = re.sub(r"^/services/data/v\d+\.0", "", urlparse(request.url).path)
        self.calls[f"{request.method} {path}"] += 1
        self.alongside += threading.current_thread().name == ALONGSIDE_THREAD
        self.sent_bytes += request_bytes(request)
        with self._lock:
            if forced := self.forced.take(request.method, path):
                return forced
            if path == "/composite":
                return _json(200, {"compositeResponse": self._composite(json.loads(request.body)["compositeRequest"])})
            if path == "/sobjects/Task":
                status, body = self._insert_task(json.loads(request.body))
                return _json(status, body)
            if path == "/query":
                return _json(200, self._query(parse_qs(urlparse(request.url).query)["q"][0]))
        return _json(404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])

    def _composite(self, subrequests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        answers: list[dict[str, Any]] = []
        ids: dict[str, str] = {}
        for sub in subrequests:
            body = json.loads(re.sub(r"@\{(\w+)\.id\}", lambda match: ids.get(match.group(1), ""), json.dumps(sub.get("body") or {})))
            url = re.sub(r"^/services/data/v\d+\.0", "", sub["url"])
            status: int
            answer: Any
            if sub["method"] == "PATCH" and url.startswith(f"/sobjects/Contact/{self._field}/"):
                external_id = unquote(url.rsplit("/", 1)[1])
                created = external_id not in self.contacts
                contact = self.contacts.setdefault(external_id, {"Id": f"003{len(self.contacts):015d}"})
                contact.update(body)
                status, answer = (201 if created else 200), {"id": contact["Id"], "success": True, "errors": [], "created": created}
            elif sub["method"] == "POST" and url == "/sobjects/Task":
                status, answer = self._insert_task(body)
            else:
                status, answer = 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
            if isinstance(answer, dict) and "id" in answer:
                ids[sub["referenceId"]] = answer["id"]
            answers.append({"body": answer, "httpHeaders": {}, "httpStatusCode": status, "referenceId": sub["referenceId"]})
        return answers

    def _insert_task(self, task: dict[str, Any]) -> tuple[int, Any]:
        if not task.get("Subject"):
            return 400, [{"errorCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [Subject]", "fields": ["Subject"]}]
        task_id = f"00T{len(self.tasks):015d}"
        self.tasks[task_id] = task
        return 201, {"id": task_id, "success": True, "errors": []}

    def _query(self, soql: str) -> dict[str, Any]:
        """The recovery queries socialdesk makes: a Task by its event-key field or by the reference in its subject."""
        by_field = re.search(r"WHERE (\w+__c) = '([^']*)'", soql)
        by_reference = re.search(r"Subject LIKE '%(sd-[0-9a-f]+)\]'", soql)
        matches = [
            task_id
            for task_id, task in self.tasks.items()
            if (by_field and task.get(by_field.group(1)) == by_field.group(2)) or (by_reference and by_reference.group(1) in task.get("Subject", ""))
        ]
        records = [{"attributes": {"type": "Task"}, "Id": task_id} for task_id in matches[:1]]
        return {"totalSize": len(records), "done": True, "records": records}


def _now_z() -> str:
    """The time as Zendesk writes `created_at`: UTC, whole seconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
